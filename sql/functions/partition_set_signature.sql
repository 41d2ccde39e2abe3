create or replace function partkeeper.partition_set_signature(p_parent regclass)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * A fingerprint of p_parent's partitioning as maintenance sees it: every partition with its bounds
 * (the stored bound expression, not reparsed), the DEFAULT partition, the replica identity of the
 * parent and of the DEFAULT. It changes when a partition is created, attached, detached or dropped,
 * or an identity changes. maintain_table keeps it from a complete run and compares it on the next,
 * so an unchanged table is recognised without reading a bound. Reads the catalog only.
 */
begin
    return (
    select md5(coalesce(string_agg(i.inhrelid::text || ':' || c.relreplident::text || ':' || c.relpartbound::text, ',' order by i.inhrelid), ''))
           || ':' || (select p.relreplident::text from pg_class p where p.oid = p_parent)
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = p_parent);
end
$$;
