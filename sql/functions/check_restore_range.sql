create or replace function partkeeper.check_restore_range(p_parent regclass, p_lower timestamptz, p_upper timestamptz)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Whether restored rows of [p_lower, p_upper) may become a partition of p_parent: the one rule
 * behind restore_target() (before anything is loaded) and attach_restored() (again, at attach).
 * A restore never mixes with data that is there: raises PK006 when a partition overlaps the range
 * or the DEFAULT partition holds rows of it (read as the owner, query_as_owner), PK001 for a
 * NULL, infinite or empty range. Returns nothing when the range is free. Takes no lock: the
 * caller's ATTACH settles a race.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_clash text;
    v_waiting bigint;
begin
    if p_lower is null or p_upper is null or not isfinite(p_lower) or not isfinite(p_upper) or p_lower >= p_upper then
        raise exception 'invalid range [%, %)', p_lower, p_upper using errcode = 'PK001', hint = 'Take the bounds from the archive''s manifest.';
    end if;
    select partkeeper.qualified_name(b.partition) into v_clash from partkeeper.partition_bounds(p_parent) b
     where not b.is_default and b.lower < p_upper and b.upper > p_lower limit 1;
    if v_clash is not null then
        raise exception 'range [%, %) of % is taken by partition %', p_lower, p_upper, partkeeper.qualified_name(p_parent), v_clash
            using errcode = 'PK006', hint = 'Restore into a table of your choice instead (--into), or drop that partition first.';
    end if;
    if v_info.default_partition is not null then
        v_waiting := (partkeeper.query_as_owner(p_parent, format(
            'select count(*) as n from only %1$s where %2$I operator(pg_catalog.>=) %3$s::%5$s and %2$I operator(pg_catalog.<) %4$s::%5$s',
            v_info.default_partition, v_info.control_column, partkeeper.bound_literal(p_lower, v_info.control_type),
            partkeeper.bound_literal(p_upper, v_info.control_type), v_info.control_type)) -> 0 ->> 'n')::bigint;
        if v_waiting > 0 then
            raise exception 'the DEFAULT partition of % holds % row(s) of [%, %)', partkeeper.qualified_name(p_parent), v_waiting, p_lower, p_upper
                using errcode = 'PK006', hint = 'Run maintenance to place them (it then makes that partition), or restore into a table of your choice (--into).';
        end if;
    end if;
end
$$;
