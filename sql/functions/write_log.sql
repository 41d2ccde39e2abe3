create or replace function partkeeper.write_log(p_parent regclass, p_action text, p_partition text, p_detail jsonb default '{}')
returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Append one action to partkeeper.log, stamped with the real time and partkeeper.now(), under the
 * table's schema-qualified name (its last known name, from partkeeper.config, once it is dropped).
 * p_parent NULL: an action that concerns no table. Inside the caller's transaction: an action that
 * is rolled back leaves no log row.
 */
insert into partkeeper.log (clock, parent, table_name, action, partition_name, detail)
values (partkeeper.now(), p_parent,
        coalesce(partkeeper.qualified_name(p_parent), (select c.table_name from partkeeper.config c where c.parent = p_parent), p_parent::oid::text),
        p_action, p_partition, coalesce(p_detail, '{}'))
$$;
