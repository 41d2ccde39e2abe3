create or replace function partkeeper.status()
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Everything `partkeeper status` shows, as JSON: {"version", "clock", "simulated_clock",
 * "tables": [{table (schema-qualified), exists, time_zone, premake, enabled, part_interval,
 * partitions: [{partition, lower, upper, is_default, rows_estimate, bytes}], partition_count,
 * default_rows, horizon, horizon_target, retention: {retention, mode, schema, require_archive,
 * retired_before, next_expiry {partition, at}, expired_kept, archives, retired, bytes_freed},
 * last_run: {finished_at, clock, status, complete, result}}], "cron_jobs"}.
 * A registered table that no longer exists is listed with "exists": false and its last run.
 * default_rows is an exact count (read as the table's owner) when the caller may maintain the
 * table, else the last run's figure. Read-only: catalog, statistics, partkeeper's tables.
 * SECURITY INVOKER: a monitoring role needs EXECUTE and SELECT on partkeeper's tables
 * (grant_monitoring). Volatile only because counting switches to the owner's role.
 */
declare
    v_now timestamptz := partkeeper.now();
    v_tables jsonb := '[]';
    v_cfg partkeeper.config;
    v_name text;
    v_last partkeeper.last_run;
    v_last_json jsonb;
    v_default_rows bigint;
begin
    for v_cfg in select c.* from partkeeper.config c order by c.table_name, c.parent loop
        v_name := coalesce(partkeeper.qualified_name(v_cfg.parent), v_cfg.table_name, v_cfg.parent::oid::text);
        select * into v_last from partkeeper.last_run l where l.parent = v_cfg.parent;
        v_last_json := case when v_last.parent is not null then jsonb_build_object(
            'finished_at', v_last.finished_at, 'clock', v_last.clock, 'status', v_last.status,
            'complete', (v_last.result ->> 'complete')::boolean, 'result', v_last.result) end;
        if not exists (select from pg_class x where x.oid = v_cfg.parent) then
            v_tables := v_tables || jsonb_build_object('table', v_name, 'exists', false, 'enabled', v_cfg.enabled, 'last_run', v_last_json);
            continue;
        end if;
        -- counted as the owner when the caller may act for it (a separate statement: a monitoring role
        -- has no EXECUTE on default_periods, and PostgreSQL checks that when a statement starts)
        if partkeeper.may_maintain(v_cfg.parent) then
            select coalesce(sum(d.row_count), 0) into v_default_rows from partkeeper.default_periods(v_cfg.parent) d;
        else
            v_default_rows := (v_last.result ->> 'default_rows')::bigint;
        end if;
        v_tables := v_tables || jsonb_build_object(
            'table', v_name,
            'exists', true,
            'time_zone', v_cfg.time_zone,
            'premake', v_cfg.premake,
            'enabled', v_cfg.enabled,
            'part_interval', v_cfg.part_interval,
            'partitions', coalesce((
                select jsonb_agg(jsonb_build_object(
                           'partition', p.partition_name, 'lower', p.lower, 'upper', p.upper,
                           'is_default', p.is_default, 'rows_estimate', p.rows_estimate, 'bytes', p.bytes)
                       order by p.is_default, p.lower)
                  from partkeeper.partitions p where p.table_name = v_name), '[]'),
            'partition_count', (select count(*) from partkeeper.partitions p where p.table_name = v_name and not p.is_default),
            'default_rows', v_default_rows,
            'horizon', partkeeper.horizon(v_cfg.parent, v_now),
            'horizon_target', partkeeper.horizon_target(v_cfg.parent, v_now),
            'retention', jsonb_build_object(
                'retention', v_cfg.retention, 'mode', v_cfg.retention_mode, 'schema', v_cfg.retention_schema,
                'require_archive', v_cfg.require_archive, 'retired_before', v_cfg.retired_before,
                'next_expiry', partkeeper.next_expiry(v_cfg.parent),
                'expired_kept', coalesce((select jsonb_agg(e - 'code') from jsonb_array_elements(v_last.result -> 'warnings') e
                                           where e ->> 'code' = 'expired_kept'), '[]'),
                'archives', (select count(*) from partkeeper.archives a where a.parent = v_cfg.parent),
                'retired', (select count(*) from partkeeper.log l where l.parent = v_cfg.parent and l.action = 'retire'),
                'bytes_freed', (select coalesce(sum((l.detail ->> 'bytes')::bigint), 0) from partkeeper.log l
                                 where l.parent = v_cfg.parent and l.action = 'retire' and l.detail ->> 'mode' = 'drop')),
            'last_run', v_last_json);
    end loop;
    return jsonb_build_object(
        'version', partkeeper.version(),
        'clock', v_now,
        'simulated_clock', nullif(current_setting('partkeeper.now', true), ''),
        'tables', v_tables,
        'cron_jobs', partkeeper.cron_jobs());
end
$$;
