create or replace function partkeeper.status()
returns jsonb
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Everything `partkeeper status` shows, as JSON: {"version", "clock", "simulated_clock",
 * "tables": [{table, time_zone, premake, enabled, partitions: [{partition, lower, upper,
 * is_default, rows_estimate, bytes}], partition_count, default_rows (exact count), horizon,
 * horizon_target, retention: {retention, mode, schema, require_archive, next_expiry {partition, at},
 * expired_kept, archives, retired, bytes_freed}, last_run: {finished_at, clock, status, result}}],
 * "cron_jobs"}.
 * Read-only: catalog, statistics, a count of each DEFAULT partition, partkeeper's tables.
 * SECURITY DEFINER so a monitoring role needs only EXECUTE (grant_maintenance gives it).
 */
select jsonb_build_object(
    'version', partkeeper.version(),
    'clock', partkeeper.now(),
    'simulated_clock', nullif(current_setting('partkeeper.now', true), ''),
    'tables', coalesce((
        select jsonb_agg(jsonb_build_object(
                   'table', c.parent::text,
                   'time_zone', c.time_zone,
                   'premake', c.premake,
                   'enabled', c.enabled,
                   'partitions', coalesce((
                       select jsonb_agg(jsonb_build_object(
                                  'partition', p.partition_name, 'lower', p.lower, 'upper', p.upper,
                                  'is_default', p.is_default, 'rows_estimate', p.rows_estimate, 'bytes', p.bytes)
                              order by p.is_default, p.lower)
                         from partkeeper.partitions p where p.table_name = c.parent::text), '[]'),
                   'partition_count', (select count(*) from partkeeper.partitions p where p.table_name = c.parent::text and not p.is_default),
                   'default_rows', (select coalesce(sum(d.row_count), 0) from partkeeper.default_periods(c.parent) d),
                   'horizon', partkeeper.horizon(c.parent, partkeeper.now()),
                   'part_interval', c.part_interval,
                   'horizon_target', partkeeper.horizon_target(c.parent, partkeeper.now()),
                   'retention', jsonb_build_object(
                       'retention', c.retention, 'mode', c.retention_mode, 'schema', c.retention_schema,
                       'require_archive', c.require_archive,
                       'next_expiry', (select jsonb_build_object('partition', b.partition::text, 'at', b.upper + c.retention)
                                         from partkeeper.partition_bounds(c.parent) b
                                        where c.retention is not null and not b.is_default and isfinite(b.upper)
                                        order by b.upper limit 1),
                       'expired_kept', (select count(*) from partkeeper.expired_partitions(c.parent) e where not e.retirable),
                       'archives', (select count(*) from partkeeper.archives a where a.parent = c.parent),
                       'retired', (select count(*) from partkeeper.log l where l.table_name = c.parent::text and l.action = 'retire'),
                       'bytes_freed', (select coalesce(sum((l.detail ->> 'bytes')::bigint), 0) from partkeeper.log l
                                        where l.table_name = c.parent::text and l.action = 'retire' and l.detail ->> 'mode' = 'drop')),
                   'last_run', (select jsonb_build_object('finished_at', l.finished_at, 'clock', l.clock, 'status', l.status, 'result', l.result)
                                  from partkeeper.last_run l where l.parent = c.parent))
               order by c.parent::text)
          from partkeeper.config c
         where exists (select from pg_class x where x.oid = c.parent)), '[]'),
    'cron_jobs', partkeeper.cron_jobs())
$$;
