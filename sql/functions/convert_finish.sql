create or replace function partkeeper.convert_finish(p_table regclass, p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Last step of an online conversion, after the swap: the trigger that keeps the retired table in
 * step with the converted one is dropped (writes stop paying for it), and after unpartition the
 * retired partitioned table is unregistered. The retired table is kept, with every row it had at
 * this moment: drop it when it is no longer wanted (DROP TABLE <table>_retired), after this step.
 * When it was dropped by hand before (the trigger then wrote nothing: capture_ddl), finish ends the
 * conversion all the same and says so ("retired_dropped": true).
 * After this, convert_undo can no longer go back. Takes SHARE ROW EXCLUSIVE on the converted table
 * for the DROP TRIGGER (lock_timeout, retries, PK005). Idempotent: at step "finished" it returns
 * the state. The record in partkeeper.conversions stays, at step "finished", as the converted
 * table's. p_dry_run: the statements, nothing changed.
 * Returns {"table", "step", "retired" (its qualified name), "retired_dropped", "already",
 * "statements"}. Errors: PK015, PK005, PK007.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_state(p_table, array['swapped', 'finished']);
    v_cfg partkeeper.config := partkeeper.config_for(v_state.twin);
    -- the retired table's name, whether or not it still exists: it is in the converted table's schema
    v_retired text := (select format('%I.%I', n.nspname, v_state.retired_name)
                         from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = v_state.twin);
    v_dropped boolean := not exists (select from pg_class c where c.oid = v_state.parent);
    v_stmts text[];
begin
    if v_state.step = 'finished' then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', true,
                                  'retired', v_retired, 'retired_dropped', to_regclass(v_retired) is null, 'statements', '[]'::jsonb);
    end if;
    v_stmts := array[format('drop trigger if exists partkeeper_capture on %s', v_state.twin),
                     format('drop function if exists %s()', v_state.capture_function)];
    if p_dry_run then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', false, 'dry_run', true,
                                  'retired', v_retired, 'retired_dropped', v_dropped, 'statements', to_jsonb(v_stmts));
    end if;
    perform partkeeper.execute_as_owner(v_state.twin, array(select row(s, false)::partkeeper.statement from unnest(v_stmts) s),
                                        v_cfg.lock_timeout, v_cfg.lock_retries);
    if v_state.direction = 'unpartition' and exists (select from partkeeper.config c where c.parent = v_state.parent) then
        perform partkeeper.unregister_table(v_state.parent);
    end if;
    -- the record now belongs to the converted table alone: the retired one may be dropped at any time
    update partkeeper.conversions set step = 'finished', parent = v_state.twin, updated_at = clock_timestamp()
     where table_name = v_state.table_name;
    perform partkeeper.write_log(v_state.twin, 'convert_finish', v_retired, jsonb_build_object('retired_dropped', v_dropped));
    return jsonb_build_object('table', v_state.table_name, 'step', 'finished', 'already', false,
                              'retired', v_retired, 'retired_dropped', v_dropped, 'statements', to_jsonb(v_stmts));
end
$$;
