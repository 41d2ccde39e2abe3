create or replace function partkeeper.coverage(p_parent regclass, p_at timestamptz, p_gaps_before timestamptz default 'infinity',
    out horizon timestamptz, out gaps text[], out first_gap timestamptz)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * One pass over p_parent's partitions: horizon is the end of the run of contiguous partitions that
 * starts with the one holding p_at (NULL when none holds it): the first instant from which an
 * insert would land in the DEFAULT partition again. gaps describes every hole between partitions
 * that starts before p_gaps_before (maintenance passes the horizon target: holes above it are
 * left to premake), first_gap is where the first one starts (NULL without gaps). Maintenance, status and health all
 * read the horizon from here (horizon() is this function's first column).
 */
declare
    v_previous timestamptz;
    r record;
begin
    gaps := '{}';
    for r in select b.lower, b.upper from partkeeper.partition_bounds(p_parent) b where not b.is_default order by b.lower loop
        if r.lower > v_previous and v_previous < p_gaps_before then
            gaps := gaps || format('gap: no partition from %s to %s', v_previous, r.lower);
            first_gap := coalesce(first_gap, v_previous);
        end if;
        if horizon is null and r.lower <= p_at and r.upper > p_at then
            horizon := r.upper;
        elsif r.lower = horizon then
            horizon := r.upper;
        end if;
        v_previous := r.upper;
    end loop;
end
$$;
