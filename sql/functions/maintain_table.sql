create or replace function partkeeper.maintain_table(p_parent regclass, p_wait boolean default false, p_max_create integer default null)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * One maintenance run for the registered table p_parent, safe to call at any moment from anywhere.
 * A run is a sequence of steps, each in its own subtransaction: a step that fails for any reason is
 * undone alone (its partition and its rows exactly as before), reported, and the run goes on; a
 * failed step never undoes one that succeeded. Periods are the table's partition periods
 * (table_period: months unless configured otherwise). The steps, in this order:
 *  1. the safety net: the DEFAULT partition (ensure_default);
 *  2. partitions for the current period and the next `premake` periods, from partkeeper.now() (the
 *     clock, not the newest data);
 *  3. every period with rows waiting in the DEFAULT partition within the drain window (drain_window),
 *     the rows moved in invisibly (add_partition); rows outside the window, rows with a NULL,
 *     infinite or out-of-range key stay and are reported (left_in_default), never creating
 *     hundreds of partitions and never stopping the run;
 *  4. every period missing between the oldest partition and the horizon target (gaps after a clock
 *     jump or an outage); holes above the horizon (left by a row far ahead) are left to premake;
 *  5. retention, when configured: expired partitions retire oldest first (expired_partitions,
 *     retire_partition); nothing below the newest retired range is ever made again (2-4 stop there).
 * At most max_create_per_run (or p_max_create) partitions a run, in that order of priority; the
 * next run continues. A lock not obtained stops the steps that need locks for this run (reported,
 * retried next run). Every statement on the table runs as its owner (execute_as_owner).
 *
 * Who may run it: the table's owner, a member of the owning role, or a superuser (may_maintain);
 * anyone else gets status "failed" with code not_owner. Concurrency: one run per table (advisory
 * lock); p_wait = false: a second concurrent run returns at once with status "busy"; p_wait = true:
 * it waits up to lock_timeout, then returns "busy" with error {code lock_timeout, sqlstate PK005}. Locks taken by steps are held until the
 * caller's transaction ends: CALL partkeeper.run_maintenance() commits after every table.
 * On a standby returns status "skipped" and does nothing; a disabled table returns "disabled".
 *
 * Returns JSON: table (schema-qualified), status (ok | warning | failed | busy | skipped | disabled),
 * complete (every step the run wanted was done), clock, created [{partition, lower, upper,
 * rows_moved, method}], rows_moved, default_rows, left_in_default [{period, period_end, rows,
 * waiting_since, reason, message}], retired [{partition, lower, upper, mode, bytes}], next_expiry
 * {partition, at} (NULL without retention), horizon (end of contiguous partitions from now),
 * horizon_target, drain_window {from, to}, duration_ms, warnings [{code, message, hint, period |
 * partition, sqlstate}], error {code, sqlstate, message, hint} when the table could not be
 * maintained at all. status is "failed" when a step or the table failed for a reason a DBA must act
 * on (error_code severity 'error'), "warning" when anything else was reported.
 * Logs every action and each run that acted or whose warnings changed; the latest result of every
 * run, failed ones included, is in partkeeper.last_run.
 * Errors (raised, nothing changed): PK002 NULL table, PK004 not registered. Everything else is
 * reported in the result, never raised.
 */
declare
    v_started timestamptz := clock_timestamp();
    v_cfg partkeeper.config;
    v_name text;
    v_now timestamptz;
    v_current timestamptz;
    v_target timestamptz;
    v_window_lo timestamptz;
    v_window_hi timestamptz;
    v_floor timestamptz;
    v_limit integer;
    v_step jsonb;
    v_created jsonb := '[]';
    v_moved bigint := 0;
    v_done integer := 0;
    v_deferred integer := 0;
    v_lock_failed boolean := false;
    v_failed boolean := false;
    v_warnings jsonb := '[]';
    v_period_outcome jsonb := '{}';
    v_waiting jsonb := '[]';
    v_left jsonb := '[]';
    v_default_rows bigint := 0;
    v_horizon timestamptz;
    v_result jsonb;
    v_retired jsonb := '[]';
    v_next_expiry jsonb;
    v_coverage record;
    v_planned boolean := true;
    v_state text;
    v_message text;
    v_hint text;
    v_detail text;
    v_fail record;
    r record;
begin
    if p_parent is null then
        raise exception 'no table given' using errcode = 'PK002', hint = 'Pass a registered table, or call partkeeper.maintain_all().';
    end if;
    select * into v_cfg from partkeeper.config c where c.parent = p_parent;
    if not found then
        raise exception 'table % is not managed by partkeeper', partkeeper.qualified_name(p_parent)
            using errcode = 'PK004', hint = format('Register it first: SELECT partkeeper.register_table(%L);', partkeeper.qualified_name(p_parent));
    end if;
    v_name := coalesce(partkeeper.qualified_name(p_parent), v_cfg.table_name, p_parent::oid::text);
    if pg_is_in_recovery() then
        return jsonb_build_object('table', v_name, 'status', 'skipped', 'complete', true, 'reason', 'standby: partitions are made on the primary');
    end if;
    if not v_cfg.enabled then
        return jsonb_build_object('table', v_name, 'status', 'disabled', 'complete', true, 'reason', 'enabled is false in partkeeper.config');
    end if;
    v_now := partkeeper.now();

    -- whether the table can be maintained at all, by this role
    begin
        perform partkeeper.table_info(p_parent);
        if not partkeeper.may_maintain(p_parent) then
            raise exception 'role % may not maintain % (owned by %)', current_user, v_name,
                            (select c.relowner::regrole from pg_class c where c.oid = p_parent)
                using errcode = 'PK007',
                      hint = format('Run maintenance as the owner, as a superuser, or as a member of the owning role: GRANT %s TO %I;',
                                    (select c.relowner::regrole from pg_class c where c.oid = p_parent), current_user);
        end if;
        -- PK005 (p_wait and the lock not granted in time) is a busy run too: see the handler below
        v_lock_failed := not partkeeper.lock_table_runs(p_parent, p_wait, v_cfg.lock_timeout);
        if v_lock_failed then
            -- the running one records its own result; this one only says it did nothing
            return partkeeper.busy_result(p_parent, v_name, v_now);
        end if;
        if v_cfg.table_name is distinct from v_name then
            update partkeeper.config c set table_name = v_name where c.parent = p_parent;
        end if;

        -- Settled already: the last run was complete with nothing left to do, and nothing it depended on
        -- has changed since (settings, the current period, the partition set, the next expiry, an empty
        -- DEFAULT partition, the right to act as the owner). The usual case of a frequent run: it costs
        -- a few catalog reads instead of the whole walk below. (After the lock: the DEFAULT partition
        -- is looked at, which a running move holds.)
        if p_max_create is null then
            update partkeeper.last_run l
               set finished_at = clock_timestamp(), clock = v_now,
                   result = l.result || jsonb_build_object('clock', v_now, 'created', '[]'::jsonb, 'retired', '[]'::jsonb, 'rows_moved', 0,
                                                           'duration_ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3))
             where l.parent = p_parent and l.status = 'ok' and l.inputs is not null
               and l.finished_at > v_cfg.updated_at
               and v_now >= (l.inputs ->> 'period_from')::timestamptz and v_now < (l.inputs ->> 'period_to')::timestamptz
               and (l.inputs ->> 'expires_at' is null or v_now < (l.inputs ->> 'expires_at')::timestamptz)
               and exists (select from pg_class c join pg_partitioned_table pt on pt.partrelid = c.oid
                            where c.oid = p_parent and pt.partdefid <> 0 and partkeeper.local_size(pt.partdefid) = 0
                              and pg_has_role(current_user, c.relowner, 'MEMBER'))
               and l.inputs ->> 'signature' = partkeeper.partition_set_signature(p_parent)
            returning l.result into v_result;
            if found then
                return v_result;
            end if;
        end if;

        -- planning: read-only; an error here (a corrupt setting, a clock far out of range) fails the table
        v_current := (partkeeper.table_period(p_parent, v_now)).lower;
        v_target := partkeeper.horizon_target(p_parent, v_now);
        select w.window_from, w.window_to into v_window_lo, v_window_hi from partkeeper.drain_window(p_parent, v_now) w;
        v_floor := coalesce(v_cfg.retired_before, '-infinity');
        v_limit := coalesce(p_max_create, v_cfg.max_create_per_run);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
        if v_state = 'PK005' then
            -- p_wait: the running one did not finish within lock_timeout; it records its own result
            return partkeeper.busy_result(p_parent, v_name, v_now, (partkeeper.step_failure(v_state, v_message, v_hint, null, null)).warning);
        end if;
        v_fail := partkeeper.step_failure(v_state, v_message, v_hint, null, null);
        v_result := jsonb_build_object('table', v_name, 'status', case when v_fail.failed then 'failed' else 'warning' end,
            'complete', false, 'clock', v_now, 'error', v_fail.warning, 'warnings', jsonb_build_array(v_fail.warning),
            'duration_ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3));
        -- a role that may not maintain the table leaves its state alone: the owner's last run stays.
        -- Row-level security stops it, except for members of the role that owns partkeeper's tables
        -- (PostgreSQL exempts a table's owner), hence PK007 is not written at all.
        if v_state <> 'PK007' then
            begin
                perform partkeeper.write_log(p_parent, 'failed', null, v_result);
                perform partkeeper.record_run(p_parent, v_result);
            exception when insufficient_privilege then
                null;
            end;
        end if;
        return v_result;
    end;

    -- step 1: the safety net
    begin
        v_step := partkeeper.ensure_default(p_parent);
        if (v_step ->> 'created_default')::boolean then
            v_warnings := v_warnings || jsonb_build_object('code', 'default_created', 'partition', v_step ->> 'default_partition',
                'message', format('the DEFAULT partition was missing; created %s', v_step ->> 'default_partition'));
        end if;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
        v_fail := partkeeper.step_failure(v_state, 'safety net not ensured: ' || v_message, v_hint, null, '{"step": "safety_net"}');
        v_lock_failed := v_lock_failed or v_fail.lock_timeout;
        v_failed := v_failed or v_fail.failed;
        v_warnings := v_warnings || v_fail.warning;
    end;

    -- what waits in the DEFAULT partition (one scan, as the owner; none when its files are empty)
    if not coalesce((v_step ->> 'default_empty')::boolean, false) then
        begin
            select coalesce(jsonb_agg(jsonb_build_object('period', d.period_start, 'period_end', d.period_end, 'rows', d.row_count,
                                                         'state', d.key_state) order by d.period_start nulls first), '[]')
              into v_waiting from partkeeper.default_periods(p_parent) d;
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
            v_fail := partkeeper.step_failure(v_state, 'the DEFAULT partition could not be read: ' || v_message, v_hint, null, '{"step": "read_default"}');
            v_lock_failed := v_lock_failed or v_fail.lock_timeout;
            v_failed := v_failed or v_fail.failed;
            v_warnings := v_warnings || v_fail.warning;
        end;
    end if;

    -- Nothing to create when partitions run contiguously from now to the horizon target, no row
    -- waits within the drain window, and no gap starts before the window's end: the usual case of
    -- a frequent run, which then skips walking every period of the table.
    v_coverage := partkeeper.coverage(p_parent, v_now, v_target);
    if v_coverage.horizon >= v_target
       and v_coverage.first_gap is null
       and not exists (select from jsonb_array_elements(v_waiting) w
                        where w ->> 'state' = 'period' and (w ->> 'period')::timestamptz >= greatest(v_window_lo, v_floor)
                          and (w ->> 'period')::timestamptz < v_window_hi) then
        v_planned := false;
    end if;

    -- steps 2-4
    begin
        for r in
            with parts as materialized (
                select b.lower, b.upper
                  from partkeeper.partition_bounds(p_parent) b
                 where not b.is_default and isfinite(b.lower) and isfinite(b.upper)),
            waiting as materialized (
                select (w ->> 'period')::timestamptz as period_start, (w ->> 'period_end')::timestamptz as period_end
                  from jsonb_array_elements(v_waiting) w
                 where w ->> 'state' = 'period' and (w ->> 'period')::timestamptz >= greatest(v_window_lo, v_floor)
                   and (w ->> 'period')::timestamptz < v_window_hi),
            span as (
                select greatest(least(v_current, (select min(p.lower) from parts p), (select min(w.period_start) from waiting w)), v_floor) as lo),
            -- every period up to the horizon target (premake and the holes below it), and the periods
            -- with waiting rows wherever they are in the window: a row a year ahead makes its own
            -- partition, not every one in between (premake reaches those in time)
            periods as (
                select b.lower as lo, b.upper as hi from span, partkeeper.periods_between(p_parent, span.lo, v_target) b
                 where v_planned
                union
                select w.period_start, w.period_end from waiting w where v_planned)
            select m.lo, m.hi,
                   exists (select from parts p where p.lower <= m.lo and p.upper >= m.hi) as covered,
                   exists (select from parts p where p.lower < m.hi and p.upper > m.lo) as overlapped,
                   (m.lo >= v_current and m.lo < v_target) as premake,
                   exists (select from waiting w where w.period_start = m.lo) as has_rows
              from periods m
             order by 5 desc, 6 desc, m.lo
        loop
            continue when r.covered;
            if r.overlapped then
                v_warnings := v_warnings || jsonb_build_object('code', 'overlap', 'period', r.lo,
                    'message', format('the period from %s to %s overlaps a partition with other bounds; not created', r.lo, r.hi),
                    'hint', 'A partition made by hand in a session with another TimeZone? See README, "Troubleshooting".');
                v_period_outcome := v_period_outcome || jsonb_build_object(r.lo::text, 'overlap');
                continue;
            end if;
            if v_lock_failed or v_done >= v_limit then
                v_deferred := v_deferred + 1;
                v_period_outcome := v_period_outcome || jsonb_build_object(r.lo::text, case when v_lock_failed then 'lock_timeout' else 'deferred' end);
                continue;
            end if;
            begin
                v_step := partkeeper.add_partition(p_parent, r.lo, r.hi);
                if (v_step ->> 'created')::boolean then
                    v_created := v_created || jsonb_build_array(v_step - 'created');
                    v_moved := v_moved + (v_step ->> 'rows_moved')::bigint;
                    v_done := v_done + 1;
                end if;
                v_period_outcome := v_period_outcome || jsonb_build_object(r.lo::text, 'done');
            exception when others then
                get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint, v_detail = pg_exception_detail;
                v_fail := partkeeper.step_failure(v_state, format('partition for %s to %s not made: %s', r.lo, r.hi, v_message), v_hint, v_detail,
                    jsonb_build_object('period', r.lo),
                    jsonb_build_object(
                        'insufficient_privilege', format('Every statement on the table runs as its owner (%s): that role needs what the message says is '
                            'missing (CREATE on the table''s schema to make a partition, TEMP on the database for its executor).',
                            (select c.relowner::regrole from pg_class c where c.oid = p_parent)),
                        'fk_violation', 'A row that references the table, or that the table references, blocks this; see the detail.',
                        'check_violation', 'A row breaks a CHECK constraint or the partition bounds; see the detail.'));
                v_lock_failed := v_lock_failed or v_fail.lock_timeout;
                v_failed := v_failed or v_fail.failed;
                if v_fail.lock_timeout then
                    v_deferred := v_deferred + 1;
                end if;
                v_warnings := v_warnings || v_fail.warning;
                v_period_outcome := v_period_outcome || jsonb_build_object(r.lo::text, v_fail.code);
            end;
        end loop;
    exception when others then
        -- the walk itself failed (more periods than a run can make: PK001 from periods_between)
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
        v_failed := true;
        v_warnings := v_warnings || (partkeeper.step_failure(v_state, 'the periods to make could not be listed: ' || v_message, v_hint, null,
                                                             '{"step": "plan"}')).warning;
    end;
    if v_deferred > 0 then
        v_warnings := v_warnings || jsonb_build_object('code', case when v_lock_failed then 'lock_timeout' else 'deferred' end,
            'message', format('%s partition(s) not made in this run (%s); the next run continues', v_deferred,
                              case when v_lock_failed then 'a lock was not obtained' else 'max_create_per_run reached' end));
    end if;

    -- step 5: retention, oldest first, stopping at the first partition kept or refused
    if v_cfg.retention is not null then
        begin
            for r in select e.partition, e.lower, e.upper, e.retirable, e.reason_code, e.reason from partkeeper.expired_partitions(p_parent) e loop
                if not r.retirable then
                    if r.reason_code <> 'older_kept' then
                        v_warnings := v_warnings || jsonb_build_object('code', 'expired_kept', 'reason', r.reason_code,
                            'partition', partkeeper.qualified_name(r.partition),
                            'message', format('%s expired but is kept: %s', partkeeper.qualified_name(r.partition), r.reason));
                    end if;
                    continue;
                end if;
                exit when v_lock_failed;
                begin
                    v_retired := v_retired || jsonb_build_array(partkeeper.retire_partition(p_parent, r.partition));
                exception when others then
                    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint, v_detail = pg_exception_detail;
                    -- partkeeper's own hint first: PostgreSQL's for 2BP01 says DROP ... CASCADE
                    v_fail := partkeeper.step_failure(v_state, format('%s not retired: %s', partkeeper.qualified_name(r.partition), v_message), v_hint, v_detail,
                        jsonb_build_object('partition', partkeeper.qualified_name(r.partition)),
                        jsonb_build_object(
                            'dependent_objects', 'Drop what depends on the partition (the message names it), or set retention_mode to detach; never DROP ... CASCADE, which would drop it too.',
                            'fk_violation', 'Rows of other tables still reference rows of this partition: delete them, or the rows they reference, first.'),
                        p_hints_first => true);
                    v_lock_failed := v_lock_failed or v_fail.lock_timeout;
                    v_failed := v_failed or v_fail.failed;
                    v_warnings := v_warnings || v_fail.warning;
                    exit; -- oldest first: never retire a newer partition past one that failed
                end;
            end loop;
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
            v_fail := partkeeper.step_failure(v_state, 'retention could not run: ' || v_message, v_hint, null, '{"step": "retention"}');
            v_lock_failed := v_lock_failed or v_fail.lock_timeout;
            v_failed := v_failed or v_fail.failed;
            v_warnings := v_warnings || v_fail.warning;
        end;
        v_next_expiry := partkeeper.next_expiry(p_parent);
    end if;

    -- what stays in the DEFAULT partition, and why (nothing to work out when nothing waited)
    if jsonb_array_length(v_waiting) > 0 then
    select coalesce(jsonb_agg(jsonb_build_object(
               'period', w.period, 'period_end', w.period_end, 'rows', w.rows,
               'waiting_since', coalesce(p.first_seen, v_now),
               'reason', w.reason,
               'message', case w.reason
                   when 'null_key' then 'the partition key is NULL'
                   when 'infinite_key' then 'the partition key is infinite'
                   when 'out_of_range' then 'no partition period can be computed for this key (the end of the type''s range)'
                   when 'retired' then format('the range was retired (retention); nothing below %s is made again', v_floor)
                   when 'before_window' then format('before the drain window (from %s)', v_window_lo)
                   when 'after_window' then format('after the drain window (to %s)', v_window_hi)
                   when 'lock_timeout' then 'a lock was not obtained; the next run retries'
                   when 'deferred' then 'max_create_per_run reached; the next run continues'
                   when 'overlap' then 'a partition with other bounds overlaps this period'
                   when 'not_planned' then 'not moved by this run'
                   else 'its step was refused: see warnings' end) order by w.period nulls first), '[]'),
           coalesce(sum(w.rows), 0)
      into v_left, v_default_rows
      from (select (e ->> 'period')::timestamptz as period, (e ->> 'period_end')::timestamptz as period_end, (e ->> 'rows')::bigint as rows,
                   case e ->> 'state'
                       when 'null' then 'null_key' when 'infinity' then 'infinite_key' when '-infinity' then 'infinite_key'
                       when 'out_of_range' then 'out_of_range'
                       else case when (e ->> 'period')::timestamptz < v_floor then 'retired'
                                 when (e ->> 'period')::timestamptz < v_window_lo then 'before_window'
                                 when (e ->> 'period')::timestamptz >= v_window_hi then 'after_window'
                                 else coalesce(v_period_outcome ->> ((e ->> 'period')::timestamptz::text), 'not_planned') end end as reason
              from jsonb_array_elements(v_waiting) e) w
      left join partkeeper.pending p on p.parent = p_parent and p.period_start = coalesce(w.period, '-infinity')
     where w.reason <> 'done';
    end if;

    -- pending mirrors what still waits: forget placed periods, remember new ones with when first seen
    delete from partkeeper.pending p
     where p.parent = p_parent
       and not exists (select from jsonb_array_elements(v_left) e where coalesce((e ->> 'period')::timestamptz, '-infinity') = p.period_start);
    if jsonb_array_length(v_left) > 0 then
        insert into partkeeper.pending (parent, period_start, first_seen)
        select p_parent, coalesce((e ->> 'period')::timestamptz, '-infinity'), v_now from jsonb_array_elements(v_left) e
        on conflict do nothing;
    end if;
    if v_default_rows > 0 then
        v_warnings := v_warnings || jsonb_build_object('code', 'rows_in_default',
            'message', format('%s row(s) left in the DEFAULT partition: %s', v_default_rows,
                              (select string_agg(format('%s row(s) %s', e ->> 'rows', e ->> 'message'), '; ') from jsonb_array_elements(v_left) e)));
    end if;

    if jsonb_array_length(v_created) > 0 or jsonb_array_length(v_retired) > 0 then
        v_coverage := partkeeper.coverage(p_parent, v_now, v_target);
    end if;
    v_warnings := v_warnings || coalesce((select jsonb_agg(jsonb_build_object('code', 'gap', 'message', g)) from unnest(v_coverage.gaps) g), '[]');
    v_horizon := v_coverage.horizon;
    if v_horizon is null or v_horizon < v_target then
        v_warnings := v_warnings || jsonb_build_object('code', 'horizon_short',
            'message', format('partitions cover up to %s, short of the horizon %s (now + premake)', coalesce(v_horizon::text, 'nothing at now'), v_target));
    end if;

    v_result := jsonb_build_object(
        'table', v_name,
        'status', case when v_failed then 'failed' when jsonb_array_length(v_warnings) = 0 then 'ok' else 'warning' end,
        'complete', not v_failed and not v_lock_failed and v_deferred = 0 and coalesce(v_horizon >= v_target, false)
                    and not exists (select from jsonb_array_elements(v_left) e
                                     where e ->> 'reason' not in ('null_key', 'infinite_key', 'out_of_range', 'retired', 'before_window', 'after_window')),
        'clock', v_now,
        'created', v_created,
        'rows_moved', v_moved,
        'default_rows', v_default_rows,
        'left_in_default', v_left,
        'retired', v_retired,
        'next_expiry', v_next_expiry,
        'horizon', v_horizon,
        'horizon_target', v_target,
        'drain_window', jsonb_build_object('from', v_window_lo, 'to', v_window_hi),
        'duration_ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3),
        'warnings', v_warnings);

    -- a run that changed nothing and warns as the previous one did adds nothing to the log
    if jsonb_array_length(v_created) > 0 or jsonb_array_length(v_retired) > 0
       or (jsonb_array_length(v_warnings) > 0 and not exists (
               select from partkeeper.last_run l
                where l.parent = p_parent and l.result -> 'warnings' = v_result -> 'warnings')) then
        perform partkeeper.write_log(p_parent, 'maintain', null, v_result);
    end if;
    perform partkeeper.record_run(p_parent, v_result, case when v_result ->> 'status' = 'ok' and (v_result ->> 'complete')::boolean then
        -- valid until the current period ends or either end of the drain window moves
        jsonb_build_object('period_from', v_current,
                           'period_to', least((partkeeper.table_period(p_parent, v_now)).upper,
                                              (partkeeper.table_period(p_parent, v_now - v_cfg.drain_window_back)).upper + v_cfg.drain_window_back,
                                              (partkeeper.table_period(p_parent, v_now + v_cfg.drain_window_ahead)).upper - v_cfg.drain_window_ahead),
                           'expires_at', v_next_expiry ->> 'at', 'signature', partkeeper.partition_set_signature(p_parent)) end);
    return v_result;
end
$$;
