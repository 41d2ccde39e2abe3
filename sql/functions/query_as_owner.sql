create or replace function partkeeper.query_as_owner(p_parent regclass, p_query text, p_value boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The rows of p_query as a JSON array of objects (with p_value: the one json value p_query returns,
 * such as EXPLAIN (FORMAT JSON) prints), read in the owner's executor of p_parent
 * (owner_executor): how partkeeper reads a managed table, so that a row-level security policy, a
 * function a CHECK or an index calls, or any other code of the owner's never runs with more rights
 * than the owner has. Takes the locks the query takes (ACCESS SHARE for a SELECT) under the table's
 * lock_timeout (SET LOCAL, forwarded to Citus workers as in execute_as_owner). Errors: PK002 dropped table, PK007 (owner_executor), the query's own.
 * p_query is built by the caller with format('%I') or regclass.
 */
declare
    v_owner regrole := (select c.relowner::regrole from pg_class c where c.oid = p_parent);
    v_lock text := current_setting('lock_timeout');
    v_propagate text := current_setting('citus.propagate_set_commands', true);
    v_rows jsonb;
begin
    if v_owner is null then
        raise exception 'table with OID % does not exist', p_parent::oid
            using errcode = 'PK002', hint = 'It was dropped; unregister it with partkeeper.unregister_table().';
    end if;
    -- SET LOCAL reaches Citus workers only with propagate_set_commands = 'local' (execute_as_owner)
    if v_propagate is not null then
        set local citus.propagate_set_commands = 'local';
    end if;
    execute format('set local lock_timeout = %L',
                   (extract(epoch from (partkeeper.config_for(p_parent)).lock_timeout) * 1000)::bigint || 'ms');
    execute format('select %s($1, true)', partkeeper.owner_executor(v_owner)) into v_rows
        using case when p_value then p_query else format('select coalesce(pg_catalog.jsonb_agg(q), ''[]'') from (%s) q', p_query) end;
    execute format('set local lock_timeout = %L', v_lock);
    if v_propagate is not null then
        execute format('set local citus.propagate_set_commands = %L', v_propagate);
    end if;
    return v_rows;
end
$$;
