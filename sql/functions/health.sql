create or replace function partkeeper.health(
    p_max_partition_bytes bigint default 53687091200,
    p_max_partition_rows bigint default null,
    p_max_default_rows bigint default 0,
    p_max_run_age interval default '1 hour',
    p_max_cron_failures integer default 0)
returns jsonb
language plpgsql
volatile -- EXPLAIN is refused in a stable function
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * The troubleshooting list as checks, for `partkeeper doctor`, alerting and dashboards.
 * Returns {"status": "ok" | "warning" | "error", "checks": [{check, table, status, message, fix}]}
 * where a check's status is ok, info, warning or error and the overall status is the worst one
 * (worst_check_status). Checks, per registered table:
 *   table_exists (error: the table was dropped while registered; unregister it),
 *   default_partition (the DEFAULT partition is present),
 *   horizon (partitions for now + premake),
 *   default_rows (more than p_max_default_rows waiting in the DEFAULT partition: a count when the
 *     caller may maintain the table, else the last run's figure),
 *   partition_size (a partition over p_max_partition_bytes or p_max_partition_rows, estimated),
 *   retention (expired partitions kept),
 *   last_run (error when the last run failed; warning when it left work undone ("complete": false),
 *     is older than p_max_run_age by the real clock, or never happened),
 *   pruning (a one-day query on the key scans only the partitions of that day; planned as the
 *     table's owner (query_as_owner), so only for a caller that may maintain it, info otherwise);
 * per online conversion not finished (partkeeper.conversions):
 *   conversion (its table, direction, step, when it started and when its last step ran, what its
 *     trigger copies, and the next command and call, conversion_next): info when a step ran in the
 *     last hour (a conversion being run), warning when none did (left half-way: a trigger still
 *     copies every write to the table), error when its twin (before the swap) or its retired table
 *     (after it) was dropped by hand (the fix then is undo, or finish);
 * and once: public_execute (PUBLIC may run partkeeper functions), simulated_clock (partkeeper.now
 * set), time_zone, cron (pg_cron jobs present, active, not failing more than p_max_cron_failures of
 * their last 10 runs; a job that has not run yet is not a failure), maintenance_roles.
 * Read-only (catalog, statistics, partkeeper's tables, EXPLAIN, counts of DEFAULT partitions read
 * as their owner). SECURITY INVOKER: a monitoring role needs EXECUTE and SELECT on partkeeper's
 * tables (grant_monitoring). NULL thresholds disable a check.
 */
declare
    v_checks jsonb := '[]';
    v_now timestamptz := partkeeper.now();
    v_info record;
    v_cfg partkeeper.config;
    v_name text;
    v_horizon timestamptz;
    v_target timestamptz;
    v_rows bigint;
    v_outside bigint;
    v_last partkeeper.last_run;
    v_plan jsonb;
    v_scanned integer;
    v_expected integer;
    v_lo timestamptz;
    v_jobs jsonb;
    v_list text;
    v_conv partkeeper.conversions;
    v_next record;
    v_copy text;
    v_missing text;
    r record;
begin
    for v_cfg in select c.* from partkeeper.config c order by c.table_name, c.parent loop
        v_name := coalesce(partkeeper.qualified_name(v_cfg.parent), v_cfg.table_name, v_cfg.parent::oid::text);
        if not exists (select from pg_class x where x.oid = v_cfg.parent) then
            v_checks := v_checks || jsonb_build_object('check', 'table_exists', 'table', v_name, 'status', 'error',
                'message', format('%s is registered but no longer exists (OID %s): maintenance fails for it', v_name, v_cfg.parent::oid),
                'fix', format('SELECT partkeeper.unregister_table(%s); as the installing role or a superuser.', v_cfg.parent::oid));
            continue;
        end if;
        v_info := partkeeper.table_info(v_cfg.parent);
        select * into v_last from partkeeper.last_run l where l.parent = v_cfg.parent;

        v_checks := v_checks || jsonb_build_object('check', 'default_partition', 'table', v_name,
            'status', case when v_info.default_partition is null then 'error' else 'ok' end,
            'message', case when v_info.default_partition is null then 'no DEFAULT partition: an insert into a period without partition fails'
                            else format('%s catches rows of periods without a partition', partkeeper.qualified_name(v_info.default_partition)) end,
            'fix', format('SELECT partkeeper.maintain_table(%L); re-creates it.', v_name));

        v_horizon := partkeeper.horizon(v_cfg.parent, v_now);
        v_target := partkeeper.horizon_target(v_cfg.parent, v_now);
        v_checks := v_checks || jsonb_build_object('check', 'horizon', 'table', v_name,
            'status', case when v_horizon is null or v_horizon < v_target then 'error' else 'ok' end,
            'message', format('partitions cover up to %s; now + premake needs %s', coalesce(v_horizon::text, 'nothing at now'), v_target),
            'fix', format('SELECT partkeeper.maintain_table(%L); check its warnings, and that maintenance is scheduled.', v_name));

        if p_max_default_rows is not null then
            if partkeeper.may_maintain(v_cfg.parent) then
                select coalesce(sum(d.row_count), 0),
                       coalesce(sum(d.row_count) filter (where d.key_state <> 'period' or d.period_start < w.window_from or d.period_start >= w.window_to), 0)
                  into v_rows, v_outside
                  from partkeeper.default_periods(v_cfg.parent) d, partkeeper.drain_window(v_cfg.parent, v_now) w;
            else
                v_rows := coalesce((v_last.result ->> 'default_rows')::bigint, 0);
                v_outside := coalesce((select sum((e ->> 'rows')::bigint) from jsonb_array_elements(v_last.result -> 'left_in_default') e
                                        where e ->> 'reason' in ('null_key', 'infinite_key', 'out_of_range', 'retired', 'before_window', 'after_window')), 0);
            end if;
            v_checks := v_checks || jsonb_build_object('check', 'default_rows', 'table', v_name,
                'status', case when v_rows > p_max_default_rows then 'warning' else 'ok' end,
                'message', format('%s row(s) in the DEFAULT partition, %s of them outside the drain window or with a NULL, infinite or out-of-range key',
                                  v_rows, v_outside),
                'fix', case when v_rows = v_outside
                            then 'Rows outside the drain window stay until the window is widened (partkeeper.configure) or they are corrected; see left_in_default of maintenance.'
                            else format('SELECT partkeeper.maintain_table(%L); places rows inside the window; its left_in_default says why any stay.', v_name) end);
        end if;

        for r in
            select p.partition_name, p.bytes, p.rows_estimate from partkeeper.partitions p
             where p.table_name = v_name and not p.is_default
               and ((p_max_partition_bytes is not null and p.bytes > p_max_partition_bytes)
                    or (p_max_partition_rows is not null and p.rows_estimate > p_max_partition_rows))
        loop
            v_checks := v_checks || jsonb_build_object('check', 'partition_size', 'table', v_name, 'status', 'warning',
                'message', format('%s holds %s bytes and about %s rows (limits %s bytes, %s rows)', r.partition_name, r.bytes,
                                  coalesce(r.rows_estimate::text, '?'), coalesce(p_max_partition_bytes::text, '-'), coalesce(p_max_partition_rows::text, '-')),
                'fix', 'Plan for the volume: archive or drop old partitions, or move the table to shorter partitions.');
        end loop;

        if v_cfg.retention is not null then
            select string_agg(format('%s (%s)', e ->> 'partition', e ->> 'message'), '; ') into v_list
              from jsonb_array_elements(v_last.result -> 'warnings') e where e ->> 'code' = 'expired_kept';
            v_checks := v_checks || jsonb_build_object('check', 'retention', 'table', v_name,
                'status', case when v_list is null then 'ok' else 'warning' end,
                'message', coalesce('expired partitions kept at the last run: ' || v_list, format('partitions older than %s retire (%s)', v_cfg.retention, v_cfg.retention_mode)),
                'fix', 'partkeeper archive <partition> records the archive retention needs; or turn off require_archive (partkeeper.configure).');
        end if;

        v_checks := v_checks || jsonb_build_object('check', 'last_run', 'table', v_name,
            'status', case when v_last.parent is null then 'warning'
                           when v_last.status = 'failed' then 'error'
                           when not coalesce((v_last.result ->> 'complete')::boolean, true) then 'warning'
                           when p_max_run_age is not null and v_last.finished_at < clock_timestamp() - p_max_run_age then 'warning'
                           else 'ok' end,
            'message', case when v_last.parent is null then 'maintenance never ran'
                            else format('last maintenance finished %s ago with status %s%s%s', date_trunc('second', clock_timestamp() - v_last.finished_at),
                                        v_last.status,
                                        case when not coalesce((v_last.result ->> 'complete')::boolean, true) then ', work left undone' else '' end,
                                        coalesce(': ' || (select string_agg(format('[%s] %s', e ->> 'code', e ->> 'message'), '; ')
                                                            from jsonb_array_elements(coalesce(v_last.result -> 'warnings', '[]')) e
                                                           where v_last.status <> 'ok'), '')) end,
            'fix', case when v_last.status = 'failed' or not coalesce((v_last.result ->> 'complete')::boolean, true)
                        then 'Each warning carries a code and a hint (README, "Warning codes"); SELECT result FROM partkeeper.last_run shows the whole run.'
                        else 'Schedule maintenance: sql/cron.sql with pg_cron, or cron running `partkeeper maintain` (README, "Running maintenance").' end);

        -- planning runs the owner's code (a partition's CHECK is simplified by the planner): only as the owner
        if v_horizon is not null and partkeeper.may_maintain(v_cfg.parent) then
            v_lo := greatest(v_now - interval '1 day', (select min(b.lower) from partkeeper.partition_bounds(v_cfg.parent) b where not b.is_default));
            v_plan := partkeeper.query_as_owner(v_cfg.parent,
                format('explain (format json) select 1 from %s where %I operator(pg_catalog.>=) %s::%s and %I operator(pg_catalog.<) %s::%s', v_cfg.parent,
                       v_info.control_column, partkeeper.bound_literal(v_lo, v_info.control_type), v_info.control_type,
                       v_info.control_column, partkeeper.bound_literal(v_now, v_info.control_type), v_info.control_type), true);
            select count(*) into v_scanned from jsonb_path_query(v_plan::jsonb, 'strict $.**."Relation Name"');
            select count(*) into v_expected from partkeeper.partition_bounds(v_cfg.parent) b
             where not b.is_default and b.lower <= v_now and b.upper > v_lo;
            v_checks := v_checks || jsonb_build_object('check', 'pruning', 'table', v_name,
                'status', case when v_scanned > v_expected then 'warning' else 'ok' end,
                'message', format('a query for the last day on %s scans %s partition(s); %s hold that day', v_info.control_column, v_scanned, v_expected),
                'fix', 'Filter on the partition key with a bounded range; keep the DEFAULT partition empty; check enable_partition_pruning.');
        elsif v_horizon is not null then
            v_checks := v_checks || jsonb_build_object('check', 'pruning', 'table', v_name, 'status', 'info',
                'message', format('not checked: role %s may not act as the owner of %s', current_user, v_name),
                'fix', null);
        end if;
    end loop;

    for v_conv in select c.* from partkeeper.conversions c where c.step <> 'finished' order by c.table_name loop
        v_next := partkeeper.conversion_next(v_conv);
        -- before the swap the table copies its writes to the twin; after it, the twin (holding the name) to the retired table
        v_copy := format('%I.%I', (select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                    where c.oid in (v_conv.parent, v_conv.twin) limit 1),
                         case when v_conv.step = 'swapped' then v_conv.retired_name else v_conv.twin_name end);
        v_missing := case when not exists (select from pg_class c
                                            where c.oid = case when v_conv.step = 'swapped' then v_conv.parent else v_conv.twin end)
                          then v_copy end;
        v_checks := v_checks || jsonb_build_object('check', 'conversion', 'table', v_conv.table_name,
            'status', case when v_missing is not null then 'error'
                           when v_conv.updated_at < clock_timestamp() - interval '1 hour' then 'warning'
                           else 'info' end,
            'message', format('converting %s %s: at step %s since %s (started %s); %s',
                              v_conv.table_name, case when v_conv.direction = 'partition' then format('into a table partitioned by %I', v_conv.time_column)
                                                      else 'into a plain table' end,
                              v_conv.step, date_trunc('second', v_conv.updated_at), date_trunc('second', v_conv.started_at),
                              case when v_missing is not null then format('%s was dropped by hand, so nothing is copied to it any more', v_missing)
                                   when v_conv.step = 'prepared' then format('nothing is copied to %s yet', v_copy)
                                   else format('a trigger copies every write to %s', v_copy) end),
            'fix', case when v_missing is not null and v_conv.step = 'swapped'
                        then format('Finish it: %s (or %s)', v_next.command, v_next.sql_call)
                        when v_missing is not null
                        then format('Undo it: %s (or %s)', v_next.undo_command, v_next.undo_call)
                        else format('Continue it: %s (%s runs the next step alone); or go back: %s (%s)',
                                    v_next.command, v_next.sql_call, v_next.undo_command, v_next.undo_call) end);
    end loop;

    select string_agg(p.oid::regprocedure::text, ', ') into v_list
      from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
     where p.pronamespace = 'partkeeper'::regnamespace and a.grantee = 0 and a.privilege_type = 'EXECUTE'
       and p.proname not in ('now', 'version');
    v_checks := v_checks || jsonb_build_object('check', 'public_execute', 'table', null,
        'status', case when v_list is null then 'ok' else 'error' end,
        'message', coalesce('PUBLIC may execute ' || v_list, 'PUBLIC may execute no partkeeper function'),
        'fix', 'Re-run sql/install.sql: its privileges step revokes EXECUTE from PUBLIC.');

    v_checks := v_checks || jsonb_build_object('check', 'simulated_clock', 'table', null,
        'status', case when nullif(current_setting('partkeeper.now', true), '') is null then 'ok' else 'warning' end,
        'message', coalesce('partkeeper.now is set: maintenance believes it is ' || nullif(current_setting('partkeeper.now', true), ''), 'the real clock is in use'),
        'fix', 'RESET partkeeper.now; and ALTER DATABASE / ALTER ROLE ... RESET partkeeper.now where it was set.');

    v_checks := v_checks || jsonb_build_object('check', 'time_zone', 'table', null, 'status', 'info',
        'message', format('server time %s (session TimeZone %s); bounds never depend on the session zone',
                          clock_timestamp(), current_setting('TimeZone')), 'fix', null);

    v_jobs := partkeeper.cron_jobs();
    if v_jobs is null then
        v_checks := v_checks || jsonb_build_object('check', 'cron', 'table', null, 'status', 'info',
            'message', 'pg_cron is not installed in this database',
            'fix', 'Schedule maintenance from the database named by cron.database_name (README, "Running maintenance"), or run `partkeeper maintain` from cron.');
    else
        v_checks := v_checks || jsonb_build_object('check', 'cron', 'table', null,
            'status', case when jsonb_array_length(v_jobs) = 0 then 'warning'
                           when exists (select from jsonb_array_elements(v_jobs) j where not (j ->> 'active')::boolean
                                           or (j ->> 'recent_failures')::int > coalesce(p_max_cron_failures, 2147483647)) then 'warning'
                           else 'ok' end,
            'message', case when jsonb_array_length(v_jobs) = 0 then 'pg_cron is installed but no partkeeper job is scheduled'
                            else (select string_agg(format('%s (%s, %s): last run %s, %s failure(s) in the last 10',
                                                           j ->> 'jobname', j ->> 'schedule', case when (j ->> 'active')::boolean then 'active' else 'INACTIVE' end,
                                                           coalesce(j ->> 'last_status', 'not yet'), j ->> 'recent_failures'), '; ')
                                    from jsonb_array_elements(v_jobs) j) end,
            'fix', 'SELECT partkeeper.schedule_jobs(); schedules or re-activates them; SELECT * FROM cron.job_run_details ORDER BY runid DESC shows why runs failed.');
    end if;

    select string_agg(r2.rolname, ', ' order by r2.rolname) into v_list
      from pg_roles r2
     where has_function_privilege(r2.oid, 'partkeeper.maintain_table(regclass, boolean, integer)', 'EXECUTE')
       and not r2.rolname like 'pg\_%';
    v_checks := v_checks || jsonb_build_object('check', 'maintenance_roles', 'table', null, 'status', 'info',
        'message', 'roles that may run maintenance (each on the tables whose owning role it is a member of): ' || coalesce(v_list, 'none'),
        'fix', 'SELECT partkeeper.grant_maintenance(''role''); and GRANT <table owner> TO role; an application role needs only SELECT and INSERT on its tables.');

    return jsonb_build_object(
        'status', partkeeper.worst_check_status(array(select c ->> 'status' from jsonb_array_elements(v_checks) c)),
        'checks', v_checks);
end
$$;
