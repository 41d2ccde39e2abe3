create or replace function partkeeper.drain_window(p_parent regclass, p_at timestamptz,
    out window_from timestamptz, out window_to timestamptz)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The range [window_from, window_to) of periods for which maintenance makes partitions on demand
 * for rows waiting in the DEFAULT partition: from the period holding p_at - drain_window_back to
 * the end of the period holding p_at + drain_window_ahead. Rows outside stay and are reported.
 * The intervals are added on the UTC calendar (months and days of a timestamptz follow TimeZone),
 * so every session gets the window maintenance uses.
 */
begin
    select (partkeeper.table_period(p_parent, p_at - c.drain_window_back)).lower,
           (partkeeper.table_period(p_parent, p_at + c.drain_window_ahead)).upper
      into window_from, window_to
      from partkeeper.config_for(p_parent) c;
end
$$;
