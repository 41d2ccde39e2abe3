create or replace function partkeeper.unregister_table(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Stop managing p_parent: remove its settings and pending records and the ensure_partition_exists
 * trigger of its DEFAULT partition. Partitions, the DEFAULT partition and every row stay.
 * Runs with the caller's rights (owner of the table, PK007). A table that was dropped can be
 * unregistered too. Returns {"table", "unregistered"}; false when it was not registered.
 */
declare
    v_owner oid := (select c.relowner from pg_class c where c.oid = p_parent);
    v_default regclass;
    v_found boolean;
begin
    if v_owner is not null and not pg_has_role(current_user, v_owner, 'USAGE') then
        raise exception 'role % does not own %', current_user, p_parent
            using errcode = 'PK007', hint = 'Unregister it as its owner.';
    end if;
    v_default := (select nullif(pt.partdefid, 0)::regclass from pg_partitioned_table pt where pt.partrelid = p_parent);
    if v_default is not null then
        execute format('drop trigger if exists ensure_partition_exists on %s', v_default);
    end if;
    delete from partkeeper.pending p where p.parent = p_parent;
    delete from partkeeper.interval_history h where h.parent = p_parent;
    delete from partkeeper.config c where c.parent = p_parent;
    v_found := found;
    if v_found then
        perform partkeeper.write_log(p_parent::text, 'unregister', null, '{}');
    end if;
    return jsonb_build_object('table', p_parent::text, 'unregistered', v_found);
end
$$;
