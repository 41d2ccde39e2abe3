create or replace function partkeeper.configure(
    p_parent text,
    p_time_zone text default null,
    p_premake integer default null,
    p_drain_window_back interval default null,
    p_drain_window_ahead interval default null,
    p_lock_timeout interval default null,
    p_lock_retries integer default null,
    p_max_create_per_run integer default null,
    p_enabled boolean default null,
    p_part_interval text default null,
    p_retention interval default null,
    p_retention_mode text default null,
    p_retention_schema name default null,
    p_require_archive boolean default null,
    p_template text default null)
returns jsonb
language sql
volatile
as $$
/*
 * partkeeper.configure(regclass, ...) for tables named as text:
 * SELECT partkeeper.configure('events', p_premake => 3, p_template => 'events_template').
 * Both names (the table and p_template) are resolved by resolve_table (PK002 with the name in its
 * hint, where the regclass cast would give a bare 42P01); a NULL p_template leaves the setting as it
 * is. Everything else is configure(regclass, ...)'s contract. Its parameters, their order and
 * defaults must stay those of configure(regclass, ...), so that a call with named arguments finds
 * this form too (a test compares them).
 * No SET clause: the names resolve in the caller's search_path (see resolve_table).
 */
select partkeeper.configure(partkeeper.resolve_table(p_parent), p_time_zone, p_premake, p_drain_window_back,
                            p_drain_window_ahead, p_lock_timeout, p_lock_retries, p_max_create_per_run, p_enabled,
                            p_part_interval, p_retention, p_retention_mode, p_retention_schema, p_require_archive,
                            case when p_template is null then null else partkeeper.resolve_table(p_template) end)
$$;
