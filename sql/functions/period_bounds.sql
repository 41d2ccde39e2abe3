create or replace function partkeeper.period_bounds(p_at timestamptz, p_interval text, p_zone text,
    out lower timestamptz, out upper timestamptz)
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The period of a plain grid that holds p_at: day, week (ISO weeks: Monday 00:00), month,
 * quarter or year, in zone p_zone. Arithmetic on local wall time (timestamp without time zone),
 * so the session's TimeZone never enters and a day in a DST change is 23 or 25 hours long.
 * NULL for NULL input or an unknown interval. table_period() adds a table's interval history.
 */
select (g.local_lower at time zone p_zone), ((g.local_lower + g.step) at time zone p_zone)
  from (select date_trunc(case p_interval when 'week' then 'week' else p_interval end, p_at at time zone p_zone) as local_lower,
               case p_interval when 'day' then interval '1 day' when 'week' then interval '7 days' when 'month' then interval '1 month'
                               when 'quarter' then interval '3 months' when 'year' then interval '1 year' end as step) g
 where p_interval in ('day', 'week', 'month', 'quarter', 'year') and isfinite(p_at)
$$;
