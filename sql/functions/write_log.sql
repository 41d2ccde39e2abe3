create or replace function partkeeper.write_log(p_parent regclass, p_action text, p_partition text, p_detail jsonb default '{}')
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Append one action to partkeeper.log, stamped (log_stamp) with the real time, the login role and
 * the table's schema-qualified name (its last known name, from partkeeper.config, once it is
 * dropped), and with partkeeper.now().
 * p_parent NULL: an action that concerns no table. Inside the caller's transaction: an action that
 * is rolled back leaves no log row.
 */
begin
    -- log_stamp fills in the table's name, who and when
    insert into partkeeper.log (clock, parent, action, partition_name, detail)
    values (partkeeper.now(), p_parent, p_action, p_partition, coalesce(p_detail, '{}'));
end
$$;
