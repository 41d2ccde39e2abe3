create or replace function partkeeper.default_months(p_parent regclass)
returns table (month_start timestamptz, row_count bigint)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The rows waiting in p_parent's DEFAULT partition, counted per month of the table's zone;
 * month_start is '-infinity' for rows whose key is NULL. No rows when there is no DEFAULT partition.
 * Scans the DEFAULT partition (ACCESS SHARE): partkeeper keeps it small by draining it.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_zone text := (partkeeper.config_for(p_parent)).time_zone;
begin
    if v_info.default_partition is null then
        return;
    end if;
    return query execute format(
        'select coalesce(partkeeper.month_start(%s, %L), ''-infinity''), count(*) from only %s group by 1 order by 1',
        partkeeper.key_expr(v_info.control_column, v_info.control_type), v_zone, v_info.default_partition);
end
$$;
