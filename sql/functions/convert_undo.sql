create or replace function partkeeper.convert_undo(p_table regclass, p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Go back to the original table, from any step before convert_finish.
 * Before the swap: the capture trigger and its function are dropped, the twin is unregistered and
 * dropped (a twin already dropped by hand is only unregistered); the table was never touched
 * otherwise.
 * After the swap, swap_ddl the other way: under ACCESS EXCLUSIVE on both tables (lock_timeout,
 * lock_retries, PK005), the trigger that carried every write since the swap back into the retired
 * table is dropped, the sequences are handed back to it, it takes its name back; and the twin is
 * unregistered and dropped.
 * Either way the conversion's record is removed: convert_prepare can start again. One transaction;
 * a kill leaves the conversion at its step, and undo can be run again.
 * p_dry_run: the statements, nothing changed.
 * Returns {"table", "undone_from" (the step), "statements"}. Errors: PK015 nothing under way or
 * already finished; PK002 after the swap when the retired table was dropped (there is nothing to
 * go back to: the hint names convert_finish); PK005, PK007.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_state(p_table, array['prepared', 'capturing', 'filled', 'verified', 'swapped']);
    v_cfg partkeeper.config := partkeeper.config_for(v_state.parent);
    v_schema name := (select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = v_state.parent);
    v_twin_exists boolean := exists (select from pg_class c where c.oid = v_state.twin);
    v_stmts text[] := '{}';
begin
    if v_state.step = 'swapped' and v_schema is null then
        raise exception 'the retired table %.% of % was dropped: there is nothing to go back to',
                        (select quote_ident(n.nspname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = v_state.twin),
                        quote_ident(v_state.retired_name), v_state.table_name
            using errcode = 'PK002', hint = format('Finish the conversion instead: %s', (partkeeper.conversion_next(v_state)).sql_call);
    end if;
    if v_state.step = 'swapped' then
        v_stmts := partkeeper.swap_ddl(v_state.twin, v_state.parent, v_state.twin_name, v_state.capture_function);
        -- by the name it has now: the one it had belongs to the original again
        v_stmts := v_stmts || format('drop table %I.%I', v_schema, v_state.twin_name);
    else
        v_stmts := v_stmts || format('drop trigger if exists partkeeper_capture on %s', v_state.parent);
        v_stmts := v_stmts || format('drop function if exists %s()', v_state.capture_function);
        if v_twin_exists then
            v_stmts := v_stmts || format('drop table %s', v_state.twin);
        end if;
    end if;
    if p_dry_run then
        return jsonb_build_object('table', v_state.table_name, 'undone_from', v_state.step, 'dry_run', true,
                                  'statements', to_jsonb(v_stmts));
    end if;
    if exists (select from partkeeper.config c where c.parent = v_state.twin) then
        perform partkeeper.unregister_table(v_state.twin);
    end if;
    perform partkeeper.execute_as_owner(v_state.parent, array(select row(s, false)::partkeeper.statement from unnest(v_stmts) s),
                                        v_cfg.lock_timeout, v_cfg.lock_retries);
    update partkeeper.config c set table_name = partkeeper.qualified_name(c.parent) where c.parent = v_state.parent;
    delete from partkeeper.conversions c where c.table_name = v_state.table_name;
    perform partkeeper.write_log(v_state.parent, 'convert_undo', null, jsonb_build_object('from_step', v_state.step));
    return jsonb_build_object('table', v_state.table_name, 'undone_from', v_state.step, 'statements', to_jsonb(v_stmts));
end
$$;
