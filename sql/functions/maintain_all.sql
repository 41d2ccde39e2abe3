create or replace function partkeeper.maintain_all()
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * maintain_table for every registered table, each in its own subtransaction so that one table's
 * error does not stop the others (it is reported as status "failed" with its SQLSTATE, message and
 * hint). Returns {"status", "tables": [maintain_table results]}: status is the worst of the tables
 * (failed > warning > ok; busy counts as a warning, skipped and disabled as ok).
 * A busy table is not waited for. Same privileges as maintain_table.
 */
declare
    v_tables jsonb := '[]';
    v_one jsonb;
    v_state text;
    v_message text;
    v_hint text;
    r record;
begin
    for r in select c.parent from partkeeper.config c order by c.parent::text loop
        begin
            v_one := partkeeper.maintain_table(r.parent);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_hint = pg_exception_hint;
            v_one := jsonb_build_object('table', r.parent::text, 'status', 'failed',
                'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'hint', nullif(v_hint, '')));
            perform partkeeper.write_log(r.parent::text, 'failed', null, v_one);
        end;
        v_tables := v_tables || jsonb_build_array(v_one);
    end loop;
    return jsonb_build_object(
        'status', case
            when exists (select from jsonb_array_elements(v_tables) t where t ->> 'status' = 'failed') then 'failed'
            when exists (select from jsonb_array_elements(v_tables) t where t ->> 'status' in ('warning', 'busy')) then 'warning'
            else 'ok' end,
        'tables', v_tables);
end
$$;
