create or replace function partkeeper.table_period(p_parent regclass, p_at timestamptz,
    out lower timestamptz, out upper timestamptz, out part_interval text, out suffix text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The partition period of p_parent that holds p_at, and the name suffix of its partition.
 * Periods follow the table's interval in its zone (period_bounds). When the interval was changed
 * (configure), periods from interval_since on follow the new one and earlier periods the interval
 * they had (interval_history); a period is clipped at the change, so the two grids meet with no
 * gap and no overlap. Suffixes sort in time order: day and week _YYYY_MM_DD (the first day),
 * month _YYYY_MM, quarter _YYYY_qN, year _YYYY, and a period clipped at its start by an interval
 * change _YYYY_MM_DD whatever its interval (so the first month after weeks sorts after them).
 * Every partkeeper function asks here; nothing else knows what a period is. NULL for NULL p_at.
 */
declare
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_from timestamptz := '-infinity';
    v_until timestamptz := 'infinity';
    v_aligned boolean;
begin
    if p_at is null or not isfinite(p_at) then
        return;
    end if;
    part_interval := v_cfg.part_interval;
    if v_cfg.interval_since is not null and p_at < v_cfg.interval_since then
        select h.until, h.part_interval into v_until, part_interval
          from partkeeper.interval_history h where h.parent = p_parent and h.until > p_at order by h.until limit 1;
        v_from := coalesce((select max(h.until) from partkeeper.interval_history h where h.parent = p_parent and h.until <= p_at), '-infinity');
    elsif v_cfg.interval_since is not null then
        v_from := v_cfg.interval_since;
    end if;
    select greatest(b.lower, v_from), least(b.upper, v_until), b.lower >= v_from into lower, upper, v_aligned
      from partkeeper.period_bounds(p_at, part_interval, v_cfg.time_zone) b;
    -- a period clipped at an interval change is named by its first day, which sorts among both grids
    suffix := to_char(lower at time zone v_cfg.time_zone, case when part_interval in ('day', 'week') or not v_aligned then '"_"YYYY"_"MM"_"DD'
        when part_interval = 'month' then '"_"YYYY"_"MM' when part_interval = 'quarter' then '"_"YYYY"_q"Q' else '"_"YYYY' end);
end
$$;
