create or replace function partkeeper.maintain_table(p_parent regclass, p_wait boolean default false, p_max_create integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * One maintenance run for the registered table p_parent, safe to call at any moment from anywhere.
 * Periods are the table's partition periods (table_period: months unless configured otherwise).
 *  1. the safety net: DEFAULT partition and its ensure_partition_exists trigger (ensure_default);
 *  2. partitions for the current period and the next `premake` periods, from partkeeper.now() (the
 *     clock, not the newest data);
 *  3. every period that has rows waiting in the DEFAULT partition within the drain window
 *     (drain_window), the rows moved in; rows outside the window (a bogus year 2099) stay and are
 *     reported instead of creating hundreds of partitions;
 *  4. every period missing between the oldest partition and the newest one needed (gaps after a
 *     clock jump or an outage), up to the end of the drain window;
 *  5. retention, when configured: partitions wholly older than now - retention are dropped or
 *     detached (retire_partition), never the current period, the horizon or the DEFAULT partition,
 *     and with require_archive only those with a recorded archive of all their rows.
 * At most max_create_per_run (or p_max_create) partitions a run, in that order of priority; the
 * next run continues. Each partition is made by add_partition (its locks, lock_timeout, retries).
 * A lock not obtained stops creating (or retiring) for this run and is reported, not raised.
 *
 * Concurrency: one run per table (advisory lock). p_wait = false: a second concurrent run returns
 * at once with status "busy"; p_wait = true: it waits up to lock_timeout (PK005 after).
 * On a standby returns status "skipped" and does nothing; a disabled table returns "disabled".
 * Returns JSON: table, status (ok | warning | busy | skipped | disabled), clock, created
 * [{partition, lower, upper, rows_moved}], rows_moved, default_rows, left_in_default
 * [{period, rows, waiting_since, reason}], retired [{partition, lower, upper, mode, bytes}],
 * next_expiry {partition, at} (NULL without retention), horizon (end of contiguous partitions
 * from now), horizon_target, drain_window {from, to}, duration_ms, warnings [text].
 * Logs every action, and each run that acted or whose warnings changed; the latest result of
 * every run is in partkeeper.last_run.
 * Errors: PK002 NULL or dropped table, PK004 not registered, PK003 table no longer suitable.
 * SECURITY DEFINER: a maintenance role needs only EXECUTE (see grant_maintenance).
 */
declare
    v_started timestamptz := clock_timestamp();
    v_cfg partkeeper.config;
    v_now timestamptz;
    v_current timestamptz;
    v_target timestamptz;
    v_window_lo timestamptz;
    v_window_hi timestamptz;
    v_limit integer;
    v_safety jsonb;
    v_step jsonb;
    v_created jsonb := '[]';
    v_moved bigint := 0;
    v_done integer := 0;
    v_deferred integer := 0;
    v_lock_failed boolean := false;
    v_warnings text[] := '{}';
    v_left jsonb;
    v_default_rows bigint;
    v_horizon timestamptz;
    v_result jsonb;
    v_retired jsonb := '[]';
    v_next_expiry jsonb;
    v_planned boolean := true;
    v_coverage record;
    r record;
begin
    if p_parent is null then
        raise exception 'no table given' using errcode = 'PK002', hint = 'Pass a registered table, or call partkeeper.maintain_all().';
    end if;
    select * into v_cfg from partkeeper.config c where c.parent = p_parent;
    if not found then
        raise exception 'table % is not managed by partkeeper', p_parent
            using errcode = 'PK004', hint = format('Register it first: SELECT partkeeper.register_table(%L);', p_parent::text);
    end if;
    if pg_is_in_recovery() then
        return jsonb_build_object('table', p_parent::text, 'status', 'skipped', 'reason', 'standby: partitions are made on the primary');
    end if;
    if not v_cfg.enabled then
        return jsonb_build_object('table', p_parent::text, 'status', 'disabled', 'reason', 'enabled is false in partkeeper.config');
    end if;
    perform partkeeper.table_info(p_parent);
    if not partkeeper.lock_table_runs(p_parent, p_wait, v_cfg.lock_timeout) then
        v_result := jsonb_build_object('table', p_parent::text, 'status', 'busy',
                                       'reason', 'another maintenance run holds this table; this run did nothing');
        perform partkeeper.write_log(p_parent::text, 'busy', null, v_result);
        return v_result;
    end if;

    v_now := partkeeper.now();
    v_current := (partkeeper.table_period(p_parent, v_now)).lower;
    v_target := partkeeper.horizon_target(p_parent, v_now);
    select w.window_from, w.window_to into v_window_lo, v_window_hi from partkeeper.drain_window(p_parent, v_now) w;
    v_limit := coalesce(p_max_create, v_cfg.max_create_per_run);

    begin
        v_safety := partkeeper.ensure_default(p_parent);
        if (v_safety ->> 'created_default')::boolean then
            v_warnings := v_warnings || format('the DEFAULT partition was missing; created %s', v_safety ->> 'default_partition');
        elsif (v_safety ->> 'created_trigger')::boolean then
            v_warnings := v_warnings || format('trigger ensure_partition_exists was missing on %s; created', v_safety ->> 'default_partition');
        end if;
        if not (v_safety ->> 'trigger_enabled')::boolean then
            v_warnings := v_warnings || format('trigger ensure_partition_exists on %s is disabled: rows landing there are not recorded', v_safety ->> 'default_partition');
        end if;
    exception when sqlstate 'PK005' then
        v_lock_failed := true;
        v_warnings := v_warnings || ('safety net not ensured: ' || sqlerrm);
    end;

    -- Nothing to create when partitions run contiguously from now to the horizon target, no row
    -- waits in the DEFAULT partition within the drain window, and no gap starts before the window's
    -- end: the usual case of a frequent run, which then skips walking every period of the table.
    v_coverage := partkeeper.coverage(p_parent, v_now);
    if v_coverage.horizon >= v_target
       and coalesce(v_coverage.first_gap >= v_window_hi, true)
       and not exists (select from partkeeper.default_periods(p_parent) d
                        where isfinite(d.period_start) and d.period_start >= v_window_lo and d.period_start < v_window_hi) then
        v_planned := false;
    end if;

    for r in
        with parts as materialized (
            select b.lower, b.upper
              from partkeeper.partition_bounds(p_parent) b
             where not b.is_default and isfinite(b.lower) and isfinite(b.upper)),
        waiting as materialized (
            select d.period_start
              from partkeeper.default_periods(p_parent) d
             where isfinite(d.period_start) and d.period_start >= v_window_lo and d.period_start < v_window_hi),
        span as (
            select least(v_current, (select min(p.lower) from parts p), (select min(w.period_start) from waiting w)) as lo,
                   greatest(v_target,
                            (partkeeper.table_period(p_parent, (select max(w.period_start) from waiting w))).upper,
                            least(coalesce((select max(p.upper) from parts p), v_target), v_window_hi)) as hi),
        months as (
            select b.lower as lo, b.upper as hi from span, partkeeper.periods_between(p_parent, span.lo, span.hi) b)
        select m.lo, m.hi,
               exists (select from parts p where p.lower <= m.lo and p.upper >= m.hi) as covered,
               exists (select from parts p where p.lower < m.hi and p.upper > m.lo) as overlapped,
               (m.lo >= v_current and m.lo < v_target) as premake,
               exists (select from waiting w where w.period_start = m.lo) as has_rows
          from months m
         where v_planned
         order by 5 desc, 6 desc, m.lo
    loop
        continue when r.covered;
        if r.overlapped then
            v_warnings := v_warnings || format('the period from %s to %s overlaps a partition with other bounds; not created', r.lo, r.hi);
            continue;
        end if;
        if v_lock_failed or v_done >= v_limit then
            v_deferred := v_deferred + 1;
            continue;
        end if;
        begin
            v_step := partkeeper.add_partition(p_parent, r.lo, r.hi);
            if (v_step ->> 'created')::boolean then
                v_created := v_created || jsonb_build_array(v_step - 'created');
                v_moved := v_moved + (v_step ->> 'rows_moved')::bigint;
                v_done := v_done + 1;
            end if;
        exception
            when sqlstate 'PK005' then
                v_lock_failed := true;
                v_deferred := v_deferred + 1;
                v_warnings := v_warnings || format('lock not obtained for the period from %s: %s', r.lo, sqlerrm);
            when sqlstate 'PK006' then
                v_warnings := v_warnings || sqlerrm;
        end;
    end loop;
    if v_deferred > 0 then
        v_warnings := v_warnings || format('%s partition(s) not created in this run (%s); the next run continues',
            v_deferred, case when v_lock_failed then 'a lock was not obtained' else 'max_create_per_run reached' end);
    end if;

    select coalesce(jsonb_agg(jsonb_build_object(
               'period', d.period_start,
               'rows', d.row_count,
               'waiting_since', coalesce(p.first_seen, v_now),
               'reason', case
                   when not isfinite(d.period_start) then 'partition key is NULL'
                   when d.period_start < v_window_lo then format('before the drain window (from %s)', v_window_lo)
                   when d.period_start >= v_window_hi then format('after the drain window (to %s)', v_window_hi)
                   when v_lock_failed then 'a lock was not obtained; the next run retries'
                   when v_deferred > 0 then 'max_create_per_run reached; the next run continues'
                   else 'a partition with other bounds overlaps this period' end) order by d.period_start), '[]'),
           coalesce(sum(d.row_count), 0)
      into v_left, v_default_rows
      from partkeeper.default_periods(p_parent) d
      left join partkeeper.pending p on p.parent = p_parent and p.period_start = d.period_start;

    -- pending mirrors what still waits: forget placed periods, remember ones the trigger did not see
    delete from partkeeper.pending p
     where p.parent = p_parent
       and not exists (select from jsonb_array_elements(v_left) e where (e ->> 'period')::timestamptz = p.period_start);
    insert into partkeeper.pending (parent, period_start, first_seen)
    select p_parent, (e ->> 'period')::timestamptz, v_now from jsonb_array_elements(v_left) e
    on conflict do nothing;
    if v_default_rows > 0 then
        v_warnings := v_warnings || format('%s row(s) left in the DEFAULT partition (see left_in_default)', v_default_rows);
    end if;

    if v_cfg.retention is not null then
        for r in select e.partition, e.lower, e.upper, e.retirable, e.reason from partkeeper.expired_partitions(p_parent) e loop
            if not r.retirable then
                v_warnings := v_warnings || format('%s expired but is kept: %s', r.partition, r.reason);
                continue;
            end if;
            exit when v_lock_failed;
            begin
                v_retired := v_retired || jsonb_build_array(partkeeper.retire_partition(p_parent, r.partition));
            exception when sqlstate 'PK005' then
                v_lock_failed := true;
                v_warnings := v_warnings || format('lock not obtained to retire %s: %s; the next run retries', r.partition, sqlerrm);
            end;
        end loop;
        select jsonb_build_object('partition', b.partition::text, 'at', b.upper + v_cfg.retention) into v_next_expiry
          from partkeeper.partition_bounds(p_parent) b
         where not b.is_default and isfinite(b.upper)
         order by b.upper limit 1;
    end if;

    if jsonb_array_length(v_created) > 0 or jsonb_array_length(v_retired) > 0 then
        v_coverage := partkeeper.coverage(p_parent, v_now);
    end if;
    v_warnings := v_warnings || v_coverage.gaps;
    v_horizon := v_coverage.horizon;
    if v_horizon is null or v_horizon < v_target then
        v_warnings := v_warnings || format('partitions cover up to %s, short of the horizon %s (now + premake)',
                                           coalesce(v_horizon::text, 'nothing at now'), v_target);
    end if;

    v_result := jsonb_build_object(
        'table', p_parent::text,
        'status', case when cardinality(v_warnings) = 0 then 'ok' else 'warning' end,
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
        'warnings', to_jsonb(v_warnings));

    -- a run that changed nothing and warns as the previous one did adds nothing to the log
    if jsonb_array_length(v_created) > 0 or jsonb_array_length(v_retired) > 0
       or (cardinality(v_warnings) > 0 and not exists (
               select from partkeeper.last_run l
                where l.parent = p_parent and l.result -> 'warnings' = v_result -> 'warnings')) then
        perform partkeeper.write_log(p_parent::text, 'maintain', null, v_result);
    end if;
    insert into partkeeper.last_run as l (parent, finished_at, clock, status, result)
    values (p_parent, clock_timestamp(), v_now, v_result ->> 'status', v_result)
    on conflict (parent) do update
       set finished_at = excluded.finished_at, clock = excluded.clock, status = excluded.status, result = excluded.result;
    return v_result;
end
$$;
