create or replace function partkeeper.horizon(p_parent regclass, p_at timestamptz)
returns timestamptz
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The end of the run of contiguous partitions of p_parent that starts with the partition holding
 * p_at: the first instant from which an insert would land in the DEFAULT partition again.
 * NULL when no partition holds p_at. Maintenance, status and health all read it from here.
 */
with recursive chain as (
    select b.upper
      from partkeeper.partition_bounds(p_parent) b
     where not b.is_default and b.lower <= p_at and b.upper > p_at
    union all
    select b.upper
      from chain c
      join partkeeper.partition_bounds(p_parent) b on not b.is_default and b.lower = c.upper
)
select max(upper) from chain
$$;
