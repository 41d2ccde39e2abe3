create or replace function partkeeper.partition_bounds(p_parent regclass)
returns table (partition regclass, lower timestamptz, upper timestamptz, is_default boolean)
language plpgsql
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
declare
    v_type regtype;
    v_default oid;
begin
    select a.atttypid::regtype, p.partdefid into v_type, v_default
      from pg_partitioned_table p
      join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
     where p.partrelid = p_parent;
    -- FOR VALUES FROM ('<lower>') TO ('<upper>'), or MINVALUE / MAXVALUE unquoted: cut with plain
    -- string functions, several times cheaper than a regular expression on every partition. The
    -- texts are computed below an OFFSET 0, so key_value gets plain columns and is inlined
    -- (PostgreSQL does not inline a function whose costly argument it would evaluate several times).
    return query
    select x.oid::regclass, partkeeper.key_value(x.lower_text, v_type), partkeeper.key_value(x.upper_text, v_type), x.oid = v_default
      from (select b.oid,
                   btrim(split_part(split_part(b.bound, ') TO (', 1), 'FROM (', 2), '''') as lower_text,
                   btrim(rtrim(split_part(b.bound, ') TO (', 2), ')'), '''') as upper_text
              from (select c.oid, case when c.oid = v_default then null else pg_get_expr(c.relpartbound, c.oid) end as bound
                      from pg_inherits i join pg_class c on c.oid = i.inhrelid
                     where i.inhparent = p_parent) b
            offset 0) x
     order by 4, 2;
end
$$;
