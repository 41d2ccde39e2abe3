create or replace function partkeeper.query_as_owner(p_parent regclass, p_query text)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The rows of p_query as a JSON array of objects, read as the owner of p_parent with the owner's
 * search_path (run_as): how partkeeper reads a managed table, so that a row-level security policy
 * or other code of the owner's never runs with more rights than the owner has. Takes the locks the
 * query takes (ACCESS SHARE for a SELECT) under the table's lock_timeout. Errors: PK002 dropped
 * table, PK007 (run_as), the query's own. p_query is built by the caller with format('%I') or regclass.
 */
declare
    v_owner regrole := (select c.relowner::regrole from pg_class c where c.oid = p_parent);
    v_lock text := current_setting('lock_timeout');
    v_saved text[];
    v_rows jsonb;
begin
    if v_owner is null then
        raise exception 'table with OID % does not exist', p_parent::oid
            using errcode = 'PK002', hint = 'It was dropped; unregister it with partkeeper.unregister_table().';
    end if;
    execute format('set local lock_timeout = %L',
                   (extract(epoch from (partkeeper.config_for(p_parent)).lock_timeout) * 1000)::bigint || 'ms');
    v_saved := partkeeper.run_as(v_owner, false);
    execute format('select coalesce(pg_catalog.jsonb_agg(q), ''[]'') from (%s) q', p_query) into v_rows;
    -- back to the caller: role first, then what only the caller may set
    if pg_catalog.current_setting('role') is distinct from v_saved[1] then
        perform pg_catalog.set_config('role', v_saved[1], true);
    end if;
    if pg_catalog.current_setting('session_replication_role') is distinct from v_saved[2] then
        perform pg_catalog.set_config('session_replication_role', v_saved[2], true);
    end if;
    perform pg_catalog.set_config('search_path', v_saved[3], true);
    execute format('set local lock_timeout = %L', v_lock);
    return v_rows;
end
$$;
