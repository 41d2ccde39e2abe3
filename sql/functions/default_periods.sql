create or replace function partkeeper.default_periods(p_parent regclass)
returns table (period_start timestamptz, row_count bigint)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The rows waiting in p_parent's DEFAULT partition, counted per partition period (table_period);
 * period_start is '-infinity' for rows whose key is NULL. No rows when there is no DEFAULT partition.
 * Rows are grouped by local day first (every period starts at a local midnight), so table_period
 * runs once per distinct day, not per row. Scans the DEFAULT partition (ACCESS SHARE): partkeeper
 * keeps it small by draining it.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_zone text := (partkeeper.config_for(p_parent)).time_zone;
begin
    if v_info.default_partition is null then
        return;
    end if;
    return query execute format(
        'with days as (select date_trunc(''day'', %s at time zone %L) as local_day, count(*) as n from only %s group by 1)
         select coalesce((partkeeper.table_period($1, local_day at time zone %L)).lower, ''-infinity''), sum(n)::bigint
           from days group by 1 order by 1',
        partkeeper.key_expr(v_info.control_column, v_info.control_type), v_zone, v_info.default_partition, v_zone)
        using p_parent;
end
$$;
