create or replace function partkeeper.metrics()
returns jsonb
language plpgsql
volatile -- health() is (it runs EXPLAIN)
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The numbers behind the Prometheus metrics that status() does not give (README, "Monitoring kit"):
 * {"tables": [{table, partitions_created, partitions_retired, rows_moved, bytes_freed,
 *              runs: {ok, warning, failed, busy}, run_seconds}],
 *  "health": {"status": "ok" | "warning" | "error", "checks": [{check, table, status}]}}.
 * tables: every registered table (named as status() names it), with cumulative counters since it
 * was registered or this release installed: what the log counts (log_counts) plus what pruned log
 * rows counted (log_totals), so pruning or truncating partkeeper.log never lowers them; and the
 * runs recorded in last_run (count_run: every run, a settled one that changed nothing too) with
 * their summed duration in seconds; busy runs come from the log. Unregistering a table drops its
 * run counters with its last run: its series end.
 * health: partkeeper.health() with its default thresholds, one verdict per check and table (table
 * NULL for the database-wide checks): the worst of the table's checks by worst_check_status (several
 * partition_size checks fold into one), 'info' when every one is info.
 * Read-only. SECURITY INVOKER: a monitoring role needs grant_monitoring.
 */
declare
    v_health jsonb := partkeeper.health();
begin
    return jsonb_build_object(
        'tables', coalesce((
            select jsonb_agg(jsonb_build_object(
                       'table', x.name,
                       'partitions_created', x.partitions_created,
                       'partitions_retired', x.partitions_retired,
                       'rows_moved', x.rows_moved,
                       'bytes_freed', x.bytes_freed,
                       'runs', jsonb_build_object('ok', x.runs_ok, 'warning', x.runs_warning, 'failed', x.runs_failed, 'busy', x.runs_busy),
                       'run_seconds', x.run_seconds) order by x.name)
              from (select coalesce(partkeeper.qualified_name(c.parent), c.table_name, c.parent::oid::text) as name,
                           coalesce(n.partitions_created, 0) + coalesce(t.partitions_created, 0) as partitions_created,
                           coalesce(n.partitions_retired, 0) + coalesce(t.partitions_retired, 0) as partitions_retired,
                           coalesce(n.rows_moved, 0) + coalesce(t.rows_moved, 0) as rows_moved,
                           coalesce(n.bytes_freed, 0) + coalesce(t.bytes_freed, 0) as bytes_freed,
                           coalesce(n.runs_busy, 0) + coalesce(t.runs_busy, 0) as runs_busy,
                           coalesce(r.runs_ok, 0) as runs_ok, coalesce(r.runs_warning, 0) as runs_warning,
                           coalesce(r.runs_failed, 0) as runs_failed, coalesce(r.run_seconds, 0) as run_seconds
                      from partkeeper.config c
                      left join partkeeper.log_counts() n on n.parent = c.parent::oid
                      left join partkeeper.log_totals t on t.parent = c.parent::oid
                      left join partkeeper.last_run r on r.parent = c.parent) x), '[]'),
        'health', jsonb_build_object(
            'status', v_health -> 'status',
            'checks', coalesce((
                select jsonb_agg(jsonb_build_object('check', f.check_name, 'table', f.table_name, 'status', f.status)
                                 order by f.table_name nulls last, f.check_name)
                  from (select e ->> 'check' as check_name, e ->> 'table' as table_name,
                               case when bool_and(e ->> 'status' = 'info') then 'info'
                                    else partkeeper.worst_check_status(array_agg(e ->> 'status')) end as status
                          from jsonb_array_elements(v_health -> 'checks') e
                         group by 1, 2) f), '[]')));
end
$$;
