create or replace function partkeeper.config_for(p_parent regclass)
returns partkeeper.config
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The settings partkeeper applies to p_parent: its row in partkeeper.config when registered,
 * otherwise the defaults (UTC months, the default lock discipline). The defaults written here must
 * equal the column defaults of partkeeper.config (migrations 0001, 0002); a test compares them.
 * Never NULL for a non-NULL p_parent.
 */
begin
    return (
    select coalesce(
        (select c from partkeeper.config c where c.parent = p_parent),
        jsonb_populate_record(null::partkeeper.config, jsonb_build_object(
            'parent', p_parent::oid::text,
            'part_interval', 'month',
            'time_zone', 'UTC',
            'premake', 2,
            'drain_window_back', '1 year',
            'drain_window_ahead', '1 year',
            'lock_timeout', '500 milliseconds',
            'lock_retries', 3,
            'max_create_per_run', 24,
            'enabled', true,
            'retention_mode', 'drop',
            'require_archive', false))));
end
$$;
