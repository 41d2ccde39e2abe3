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
 * Rows are grouped by local day first, so table_period runs per distinct day, not per row; a day
 * whose earliest and latest keys fall in two periods (a period boundary at an ambiguous local time,
 * as where a DST change happens at midnight) is counted again, split at the boundary, so every row
 * is counted in the period whose bounds hold it. Scans the DEFAULT partition as its owner
 * (query_as_owner, ACCESS SHARE): partkeeper keeps it small. Volatile only because of the owner's
 * executor.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_zone text := (partkeeper.config_for(p_parent)).time_zone;
    v_key text := partkeeper.key_expr(v_info.control_column, v_info.control_type);
    v_days jsonb;
    v_first record;
    v_last record;
    v_split jsonb;
    v_out jsonb := '[]';
    r record;
begin
    -- an empty relation file holds no row at all: nothing to read (the usual case, and cheap; on
    -- Citus unknown, so the rows are read)
    if v_info.default_partition is null or partkeeper.local_size(v_info.default_partition) = 0 then
        return;
    end if;
    -- days and keys as text of the key's type: a date key may lie beyond the timestamp range
    -- (5874897 AD), which only the per-day step below may find out
    v_days := partkeeper.query_as_owner(p_parent, format(
        'select %s as local_day, %I is null as is_null, count(*) as n, min(%2$I)::text as first_key, max(%2$I)::text as last_key
           from only %3$s group by 1, 2',
        case v_info.control_type
            when 'date'::regtype then format('%I::text', v_info.control_column)
            when 'timestamp without time zone'::regtype then format('date_trunc(''day'', %I)::text', v_info.control_column)
            else format('date_trunc(''day'', %I at time zone %L)::text', v_info.control_column, v_zone) end,
        v_info.control_column, v_info.default_partition));
    for r in select d.local_day, d.is_null, d.n, d.first_key, d.last_key
               from jsonb_to_recordset(v_days) d(local_day text, is_null boolean, n bigint, first_key text, last_key text) loop
        if r.is_null then
            v_out := v_out || jsonb_build_object('s', null, 'e', null, 'n', r.n, 'k', 'null');
        elsif r.local_day in ('infinity', '-infinity') then
            v_out := v_out || jsonb_build_object('s', r.local_day, 'e', null, 'n', r.n, 'k', r.local_day);
        else
            begin
                v_first := partkeeper.table_period(p_parent, partkeeper.key_value(r.first_key, v_info.control_type));
                v_last := partkeeper.table_period(p_parent, partkeeper.key_value(r.last_key, v_info.control_type));
                if v_first.lower = v_last.lower then
                    v_out := v_out || jsonb_build_object('s', v_first.lower, 'e', v_first.upper, 'n', r.n, 'k', 'period');
                else
                    -- the day straddles a period boundary: count each side of it
                    v_split := partkeeper.query_as_owner(p_parent, format(
                        'select count(*) filter (where %1$s operator(pg_catalog.<) %2$L::timestamptz) as before, count(*) as n
                           from only %3$s where %4$I between %5$L and %6$L',
                        v_key, v_last.lower, v_info.default_partition, v_info.control_column, r.first_key, r.last_key)) -> 0;
                    v_out := v_out || jsonb_build_object('s', v_first.lower, 'e', v_first.upper, 'n', (v_split ->> 'before')::bigint, 'k', 'period')
                                   || jsonb_build_object('s', v_last.lower, 'e', v_last.upper,
                                                         'n', (v_split ->> 'n')::bigint - (v_split ->> 'before')::bigint, 'k', 'period');
                end if;
            exception when datetime_field_overflow or numeric_value_out_of_range or invalid_datetime_format then
                v_out := v_out || jsonb_build_object('s', null, 'e', null, 'n', r.n, 'k', 'out_of_range');
            end;
        end if;
    end loop;
    return query
        select o.s, o.e, sum(o.n)::bigint, o.k
          from jsonb_to_recordset(v_out) o(s timestamptz, e timestamptz, n bigint, k text)
         where o.n > 0
         group by 1, 2, 4 order by 1 nulls first, 4;
end
$$;
