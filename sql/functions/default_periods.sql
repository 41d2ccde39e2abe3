create or replace function partkeeper.default_periods(p_parent regclass)
returns table (period_start timestamptz, period_end timestamptz, row_count bigint, key_state text)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The rows waiting in p_parent's DEFAULT partition, counted per partition period (table_period),
 * ordered by period. key_state says what the keys are:
 *   'period'       an ordinary period [period_start, period_end);
 *   'null'         the key is NULL (period_start NULL);
 *   'infinity', '-infinity'  the key is infinite (period_start is that value);
 *   'out_of_range' a key whose period PostgreSQL cannot compute, such as one in the last month of
 *                  the timestamptz range or a date beyond the timestamp range (period_start NULL).
 * Never raises for a key value PostgreSQL can store. No rows when there is no DEFAULT partition.
 * Rows are grouped by local day first (every period starts at a local midnight), so table_period
 * runs once per distinct day, not per row. Scans the DEFAULT partition as its owner
 * (query_as_owner, ACCESS SHARE): partkeeper keeps it small. Volatile only because it switches role.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_zone text := (partkeeper.config_for(p_parent)).time_zone;
    v_days jsonb;
    v_period record;
    v_out jsonb := '[]';
    r record;
begin
    if v_info.default_partition is null then
        return;
    end if;
    -- the local day as text: a date key may lie beyond the timestamp range (5874897 AD), which
    -- only the per-day step below may find out
    v_days := partkeeper.query_as_owner(p_parent, format(
        'select %s as local_day, %I is null as is_null, count(*) as n from only %s group by 1, 2',
        case v_info.control_type
            when 'date'::regtype then format('%I::text', v_info.control_column)
            when 'timestamp without time zone'::regtype then format('date_trunc(''day'', %I)::text', v_info.control_column)
            else format('date_trunc(''day'', %I at time zone %L)::text', v_info.control_column, v_zone) end,
        v_info.control_column, v_info.default_partition));
    for r in select d.local_day, d.is_null, d.n from jsonb_to_recordset(v_days) d(local_day text, is_null boolean, n bigint) loop
        if r.is_null then
            v_out := v_out || jsonb_build_object('s', null, 'e', null, 'n', r.n, 'k', 'null');
        elsif r.local_day in ('infinity', '-infinity') then
            v_out := v_out || jsonb_build_object('s', r.local_day, 'e', null, 'n', r.n, 'k', r.local_day);
        else
            begin
                v_period := partkeeper.table_period(p_parent, r.local_day::timestamp at time zone v_zone);
                v_out := v_out || jsonb_build_object('s', v_period.lower, 'e', v_period.upper, 'n', r.n, 'k', 'period');
            exception when datetime_field_overflow or numeric_value_out_of_range or invalid_datetime_format then
                v_out := v_out || jsonb_build_object('s', null, 'e', null, 'n', r.n, 'k', 'out_of_range', 'day', r.local_day);
            end;
        end if;
    end loop;
    return query
        select o.s, o.e, sum(o.n)::bigint, o.k
          from jsonb_to_recordset(v_out) o(s timestamptz, e timestamptz, n bigint, k text)
         group by 1, 2, 4 order by 1 nulls first, 4;
end
$$;
