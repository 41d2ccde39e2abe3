create or replace function partkeeper.month_start(p_at timestamptz, p_zone text, p_months integer default 0)
returns timestamptz
language plpgsql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The instant at which the month containing p_at begins in zone p_zone, moved by p_months whole
 * months. The arithmetic is done on local wall time (timestamp without time zone), so the session's
 * TimeZone never enters: month_start('2025-10-01 00:00+00', 'UTC', 1) is 2025-11-01 00:00+00 in
 * every session. NULL in, NULL out; infinite p_at comes back infinite.
 */
begin
    return (
    select case
        when not isfinite(p_at) then p_at
        else (date_trunc('month', p_at at time zone p_zone) + make_interval(months => p_months)) at time zone p_zone
    end);
end
$$;
