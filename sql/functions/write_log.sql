create or replace function partkeeper.write_log(p_table text, p_action text, p_partition text, p_detail jsonb default '{}')
returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Append one action to partkeeper.log, stamped with the real time and partkeeper.now().
 * Inside the caller's transaction: an action that is rolled back leaves no log row.
 */
insert into partkeeper.log (clock, table_name, action, partition_name, detail)
values (partkeeper.now(), p_table, p_action, p_partition, coalesce(p_detail, '{}'))
$$;
