create or replace function partkeeper.partition_bounds(p_parent regclass)
returns table (partition regclass, lower timestamptz, upper timestamptz, is_default boolean)
language sql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * The direct partitions of p_parent with their bounds as instants (see key_value for timestamp and
 * date keys), ordered by lower bound, the DEFAULT partition last with NULL bounds. Bounds are read
 * from pg_get_expr with TimeZone and DateStyle pinned, so any session gets the same values.
 * MINVALUE/MAXVALUE come back as -infinity/infinity. Reads the catalog only; takes no lock.
 */
select c.oid::regclass,
       partkeeper.key_value(m[1], pt.atttypid::regtype),
       partkeeper.key_value(m[2], pt.atttypid::regtype),
       c.oid = pt.partdefid
  from pg_inherits i
  join pg_class c on c.oid = i.inhrelid
  cross join lateral (
      select a.atttypid, p.partdefid
        from pg_partitioned_table p
        join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
       where p.partrelid = p_parent) pt
  left join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \(''?([^'']*)''?\) TO \(''?([^'']*)''?\)$') m on true
 where i.inhparent = p_parent
 order by 4, 2
$$;
