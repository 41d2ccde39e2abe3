create or replace function partkeeper.convert_swap(p_table regclass, p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Fifth step of an online conversion: the twin takes the table's name. In one transaction, as the
 * owner, under the table's lock_timeout with lock_retries (execute_as_owner; PK005 and nothing
 * changed when the locks are not granted), swap_ddl: ACCESS EXCLUSIVE on the table and its twin, the
 * capture trigger dropped, the sequences handed over to the twin (identity continues, a serial's is
 * owned by the twin's column), the table renamed <table>_retired and the twin given the table's name;
 * then its partitions renamed after it (<table>_YYYY_MM and <table>_default), and a capture trigger from the converted table to the retired one, so convert_undo can
 * go back with every write made since. Writers wait for the swap at most lock_timeout plus the
 * few milliseconds it runs. Before anything changes, convert_check runs again: a foreign key, a
 * view, a trigger or a publication added since prepare stops the swap with PK014.
 * Partitioned twins stay registered under their new name; after unpartition the retired
 * partitioned table stays registered until convert_finish.
 * Idempotent: at step "swapped" it returns the state. p_dry_run: the statements, nothing changed.
 * Returns {"table", "step", "retired", "already", "statements"}.
 * Errors: PK015 not verified (conversion_state), PK014, PK005, PK006 the retired name is taken, PK007.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_state(p_table, array['verified', 'swapped']);
    v_cfg partkeeper.config;
    v_schema name;
    v_name name;
    v_stmts text[] := '{}';
    v_capture partkeeper.statement[];
    r record;
begin
    if v_state.step = 'swapped' then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', true,
                                  'retired', partkeeper.qualified_name(v_state.parent), 'statements', '[]'::jsonb);
    end if;
    perform partkeeper.convert_check(v_state.parent, v_state.time_column, v_state.direction);
    v_cfg := partkeeper.config_for(v_state.parent);
    select n.nspname, c.relname into v_schema, v_name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = v_state.parent;
    if to_regclass(format('%I.%I', v_schema, v_state.retired_name)) is not null then
        raise exception 'the name %.% is taken', quote_ident(v_schema), quote_ident(v_state.retired_name)
            using errcode = 'PK006', hint = 'Rename or drop that relation; the table is kept under that name after the swap.';
    end if;

    v_stmts := partkeeper.swap_ddl(v_state.parent, v_state.twin, v_state.retired_name, v_state.capture_function);
    if v_state.direction = 'partition' then
        for r in select b.partition, b.is_default, b.lower from partkeeper.partition_bounds(v_state.twin) b loop
            v_stmts := v_stmts || format('alter table %s rename to %I', r.partition,
                partkeeper.partition_name(v_state.parent, case when r.is_default then '_default'
                                                               else (partkeeper.table_period(v_state.twin, r.lower)).suffix end));
        end loop;
    end if;
    -- after the renames: the converted table carries every write back to the retired one
    v_capture := partkeeper.capture_ddl(v_state.twin, v_state.parent, v_state.capture_function,
                                        format('%I.%I', v_schema, v_name), format('%I.%I', v_schema, v_state.retired_name));
    if p_dry_run then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'already', false, 'dry_run', true,
                                  'retired', format('%I.%I', v_schema, v_state.retired_name),
                                  'statements', to_jsonb(v_stmts) || (select jsonb_agg(s.sql) from unnest(v_capture) s));
    end if;
    perform partkeeper.execute_as_owner(v_state.parent,
        array(select row(s, false)::partkeeper.statement from unnest(v_stmts) s) || v_capture,
        v_cfg.lock_timeout, v_cfg.lock_retries);

    update partkeeper.config c set table_name = partkeeper.qualified_name(c.parent)
     where c.parent in (v_state.parent, v_state.twin);
    update partkeeper.conversions set step = 'swapped', updated_at = clock_timestamp() where table_name = v_state.table_name;
    perform partkeeper.write_log(v_state.twin, 'convert_swap', partkeeper.qualified_name(v_state.parent));
    return jsonb_build_object('table', v_state.table_name, 'step', 'swapped', 'already', false,
                              'retired', partkeeper.qualified_name(v_state.parent),
                              'statements', to_jsonb(v_stmts) || (select jsonb_agg(s.sql) from unnest(v_capture) s));
end
$$;
