create or replace function partkeeper.unregister_table(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Stop managing p_parent: remove its settings, pending records, interval history and last run.
 * Partitions, the DEFAULT partition and every row stay; the log and archive records stay too.
 * Runs with the caller's rights (owner of the table, a member of the owning role or a superuser;
 * PK007). A table that was dropped can be unregistered by a role with partkeeper's rights that
 * owned it, or the installing role: SELECT partkeeper.unregister_table(<oid>);
 * Returns {"table", "unregistered"}; false when it was not registered.
 */
declare
    v_owner oid := (select c.relowner from pg_class c where c.oid = p_parent);
    v_name text := coalesce(partkeeper.qualified_name(p_parent), (select c.table_name from partkeeper.config c where c.parent = p_parent), p_parent::oid::text);
begin
    if v_owner is not null and not partkeeper.may_maintain(p_parent) then
        raise exception 'role % does not own %', current_user, v_name
            using errcode = 'PK007', hint = 'Unregister it as its owner, a member of that role, or a superuser.';
    end if;
    if not exists (select from partkeeper.config c where c.parent = p_parent) then
        return jsonb_build_object('table', v_name, 'unregistered', false);
    end if;
    perform partkeeper.write_log(p_parent, 'unregister', null, '{}');
    delete from partkeeper.pending p where p.parent = p_parent;
    delete from partkeeper.last_run l where l.parent = p_parent;
    delete from partkeeper.interval_history h where h.parent = p_parent;
    delete from partkeeper.config c where c.parent = p_parent;
    if not found then
        raise exception 'role % may not unregister %', current_user, v_name
            using errcode = 'PK007', hint = 'A table that was dropped is unregistered by the installing role or a superuser.';
    end if;
    return jsonb_build_object('table', v_name, 'unregistered', true);
end
$$;
