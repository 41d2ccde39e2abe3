create or replace function partkeeper.create_partition(p_parent regclass, p_month date)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Make sure the partition of p_parent whose period starts on p_month exists; return its qualified
 * name. p_month is a calendar date in the table's zone (UTC for unregistered tables) and must start
 * a period (table_period): the first day of a month for monthly tables, a Monday for weekly ones. Rows of that month waiting in the DEFAULT partition are moved in.
 * Idempotent: an existing partition with exactly that month's bounds is returned unchanged,
 * whatever its name. Locks: see add_partition; waits at most lock_timeout for a running maintenance.
 * Works on any table range-partitioned by one time column, registered or not, for its owner, a
 * member of the owning role or a superuser (may_maintain; PK007 otherwise); everything runs as
 * the owner (execute_as_owner). Errors (nothing changed): PK001 NULL, infinite, out-of-range or
 * mid-period p_month; PK002/PK003 from table_info; PK005 lock; PK006 conflicting partition or
 * name; PK007 not the owner; PK009/PK010 rows that cannot be moved invisibly (add_partition).
 */
declare
    v_info record;
    v_cfg partkeeper.config;
    v_lower timestamptz;
    v_period record;
    v_result jsonb;
begin
    if p_month is null or not isfinite(p_month) then
        raise exception 'month must be a finite date, got %', coalesce(p_month::text, 'NULL')
            using errcode = 'PK001', hint = 'Pass the first day of a month, for example ''2025-09-01''::date.';
    end if;
    if p_month < date '0001-01-01' or p_month > date '9999-12-01' then
        raise exception 'month % is outside the years 1 to 9999', p_month
            using errcode = 'PK001', hint = 'Pass a date between 0001-01-01 and 9999-12-01.';
    end if;

    v_info := partkeeper.table_info(p_parent);
    if not partkeeper.may_maintain(p_parent) then
        raise exception 'role % may not create partitions of %', current_user, partkeeper.qualified_name(p_parent)
            using errcode = 'PK007',
                  hint = format('Run it as its owner (%s), a member of that role (GRANT %I TO %I;), or a superuser.', v_info.owner,
                                (select rolname from pg_roles where oid = v_info.owner), current_user);
    end if;
    v_cfg := partkeeper.config_for(p_parent);

    perform partkeeper.lock_table_runs(p_parent, true, v_cfg.lock_timeout);
    v_lower := p_month::timestamp at time zone v_cfg.time_zone;
    v_period := partkeeper.table_period(p_parent, v_lower);
    if v_period.lower <> v_lower then
        raise exception '% does not start a partition period of % (%)', p_month, p_parent, v_period.part_interval
            using errcode = 'PK001',
                  hint = format('The %s holding it starts on %L::date.', v_period.part_interval, (v_period.lower at time zone v_cfg.time_zone)::date);
    end if;
    if v_period.upper <= coalesce(v_cfg.retired_before, '-infinity') then
        raise exception '% lies in a range retention retired (everything before %)', p_month, v_cfg.retired_before
            using errcode = 'PK001',
                  hint = 'partkeeper makes no partition there again. Bring an archived month back with `partkeeper restore`; it then stays until you drop it.';
    end if;
    v_result := partkeeper.add_partition(p_parent, v_period.lower, v_period.upper);
    if exists (select from partkeeper.config c where c.parent = p_parent) then
        delete from partkeeper.pending p where p.parent = p_parent and p.period_start = v_lower;
    end if;
    return v_result ->> 'partition';
end
$$;
