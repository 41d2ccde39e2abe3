create or replace function partkeeper.retention_scope(p_parent regclass)
returns table (partition regclass, lower timestamptz, upper timestamptz)
language sql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The partitions of p_parent that retention may ever retire, ordered by lower bound: every finite
 * partition except the DEFAULT one and those below the newest range already retired
 * (config.retired_before): a range retired once and brought back (partkeeper restore) is the DBA's
 * to drop, never retention's again. When each of them expires is not decided here. The one owner of
 * that rule: expired_partitions() (what expires now) and next_expiry() (what expires next) both read
 * it, so they never disagree on which partitions count. Empty for an unregistered table. Reads the
 * catalog and partkeeper.config only; takes no lock.
 */
select b.partition, b.lower, b.upper
  from partkeeper.config c, partkeeper.partition_bounds(p_parent) b
 where c.parent = p_parent
   and not b.is_default and isfinite(b.upper) and b.upper > coalesce(c.retired_before, '-infinity')
 order by b.lower
$$;
