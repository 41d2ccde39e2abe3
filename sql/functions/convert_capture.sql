create or replace function partkeeper.convert_capture(p_table regclass, p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Second step of an online conversion: from the commit of this call on, every INSERT, UPDATE and
 * DELETE on the table reaches its twin in the same transaction (capture_ddl: a trigger
 * partkeeper_capture and its function), so no write made while fill copies is lost.
 * Creating the trigger takes SHARE ROW EXCLUSIVE on the table: it waits (at most lock_timeout,
 * with retries, PK005) for running writes to commit, which then all precede fill's first snapshot,
 * and writers wait for it for a moment. One transaction; idempotent: at step "capturing" or later
 * it returns the state unchanged. p_dry_run: the statements, nothing changed.
 * Returns {"table", "step", "already", "statements"}. Errors: PK015 (conversion_state), PK005, PK007.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_state(p_table, array['prepared', 'capturing', 'filled', 'verified']);
    v_cfg partkeeper.config := partkeeper.config_for(v_state.parent);
    v_stmts partkeeper.statement[];
begin
    if v_state.step <> 'prepared' then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', true, 'statements', '[]'::jsonb);
    end if;
    v_stmts := partkeeper.capture_ddl(v_state.parent, v_state.twin, v_state.capture_function);
    if p_dry_run then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', false, 'dry_run', true,
                                  'statements', (select jsonb_agg(s.sql) from unnest(v_stmts) s));
    end if;
    perform partkeeper.execute_as_owner(v_state.parent, v_stmts, v_cfg.lock_timeout, v_cfg.lock_retries);
    update partkeeper.conversions set step = 'capturing', updated_at = clock_timestamp() where table_name = v_state.table_name;
    perform partkeeper.write_log(v_state.parent, 'convert_capture', partkeeper.qualified_name(v_state.twin));
    return jsonb_build_object('table', v_state.table_name, 'step', 'capturing', 'already', false,
                              'statements', (select jsonb_agg(s.sql) from unnest(v_stmts) s));
end
$$;
