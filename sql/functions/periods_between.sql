create or replace function partkeeper.periods_between(p_parent regclass, p_from timestamptz, p_to timestamptz)
returns table (lower timestamptz, upper timestamptz)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The partition periods of p_parent (table_period) from the one holding p_from up to the last
 * one starting before p_to, in order. Empty when p_from >= p_to or either is NULL or infinite.
 * At most 100000 periods (a daily table over 270 years): a bound beyond that raises PK001.
 */
declare
    v_period record;
    v_count integer := 0;
begin
    if p_from is null or p_to is null or not isfinite(p_from) or not isfinite(p_to) then
        return;
    end if;
    v_period := partkeeper.table_period(p_parent, p_from);
    while v_period.lower < p_to loop
        v_count := v_count + 1;
        if v_count > 100000 then
            raise exception 'more than 100000 partition periods between % and %', p_from, p_to
                using errcode = 'PK001', hint = 'A clock or a row far out of range? Check partkeeper.now and the drain window.';
        end if;
        lower := v_period.lower;
        upper := v_period.upper;
        return next;
        v_period := partkeeper.table_period(p_parent, v_period.upper);
    end loop;
end
$$;
