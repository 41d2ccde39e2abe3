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
 *                  the timestamptz range (period_start is the key's local day).
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
    v_days := partkeeper.query_as_owner(p_parent, format(
        'select date_trunc(''day'', %s at time zone %L) as local_day, %I is null as is_null, count(*) as n from only %s group by 1, 2',
        partkeeper.key_expr(v_info.control_column, v_info.control_type), v_zone, v_info.control_column, v_info.default_partition));
    for r in select d.local_day, d.is_null, d.n from jsonb_to_recordset(v_days) d(local_day timestamp, is_null boolean, n bigint) loop
        if r.is_null then
            v_out := v_out || jsonb_build_object('s', null, 'e', null, 'n', r.n, 'k', 'null');
        elsif not isfinite(r.local_day) then
            v_out := v_out || jsonb_build_object('s', r.local_day::timestamptz, 'e', null, 'n', r.n,
                                                 'k', case when r.local_day > 'epoch'::timestamp then 'infinity' else '-infinity' end);
        else
            begin
                v_period := partkeeper.table_period(p_parent, r.local_day at time zone v_zone);
                v_out := v_out || jsonb_build_object('s', v_period.lower, 'e', v_period.upper, 'n', r.n, 'k', 'period');
            exception when datetime_field_overflow or numeric_value_out_of_range or invalid_datetime_format then
                v_out := v_out || jsonb_build_object('s', r.local_day at time zone 'UTC', 'e', null, 'n', r.n, 'k', 'out_of_range');
            end;
        end if;
    end loop;
    return query
        select o.s, o.e, sum(o.n)::bigint, o.k
          from jsonb_to_recordset(v_out) o(s timestamptz, e timestamptz, n bigint, k text)
         group by 1, 2, 4 order by 1 nulls first, 4;
end
$$;
