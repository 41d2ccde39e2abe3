create or replace function partkeeper.period_bounds(p_at timestamptz, p_interval text, p_zone text,
    out lower timestamptz, out upper timestamptz)
language plpgsql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The period of a plain grid that holds p_at: day, week (ISO weeks: Monday 00:00), month,
 * quarter or year, in zone p_zone. Arithmetic on local wall time (timestamp without time zone),
 * so the session's TimeZone never enters and a day in a DST change is 23 or 25 hours long.
 * Always lower <= p_at < upper, also where a local midnight happens twice.
 * NULL for NULL input or an unknown interval. table_period() adds a table's interval history.
 */
declare
    v_local timestamp;
    v_step interval;
begin
    if p_interval not in ('day', 'week', 'month', 'quarter', 'year') or not isfinite(p_at) then
        return;
    end if;
    v_step := case p_interval when 'day' then interval '1 day' when 'week' then interval '7 days' when 'month' then interval '1 month'
                              when 'quarter' then interval '3 months' when 'year' then interval '1 year' end;
    v_local := date_trunc(p_interval, p_at at time zone p_zone);
    lower := v_local at time zone p_zone;
    upper := (v_local + v_step) at time zone p_zone;
    -- a local midnight that happens twice (a DST change at midnight) is read as one of its two
    -- instants; when that puts p_at outside the bounds, the period is the neighbour that holds it
    if lower > p_at then
        lower := (v_local - v_step) at time zone p_zone;
        upper := v_local at time zone p_zone;
    elsif upper <= p_at then
        lower := (v_local + v_step) at time zone p_zone;
        upper := (v_local + 2 * v_step) at time zone p_zone;
    end if;
end
$$;
