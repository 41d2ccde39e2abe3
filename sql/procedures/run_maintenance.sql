create or replace procedure partkeeper.run_maintenance()
language plpgsql
as $$
/*
 * maintain_table for every registered table, committing after each one, so that a table's locks
 * (SHARE on the parent while a partition is attached, ACCESS EXCLUSIVE for a moment while one
 * retires) last only as long as that table's own step, not the whole run as in maintain_all().
 * What the pg_cron jobs call. A table's error is logged ('failed') and the others go on.
 * Each result is in partkeeper.last_run; a NOTICE summarises the run.
 * Must be CALLed outside an explicit transaction block (it commits). SECURITY INVOKER, with no SET
 * clause (PostgreSQL forbids both with transaction control): everything it names is
 * schema-qualified, and it reaches tables only through maintain_table (SECURITY DEFINER).
 */
declare
    v_parents regclass[];
    v_parent regclass;
    v_result jsonb;
    v_state text;
    v_message text;
    v_counts jsonb := '{}';
begin
    v_parents := array(select c.parent from partkeeper.config c order by c.parent::text);
    foreach v_parent in array v_parents loop
        begin
            v_result := partkeeper.maintain_table(v_parent);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
            v_result := pg_catalog.jsonb_build_object('table', v_parent::text, 'status', 'failed',
                'error', pg_catalog.jsonb_build_object('sqlstate', v_state, 'message', v_message));
            perform partkeeper.write_log(v_parent::text, 'failed', null, v_result);
        end;
        v_counts := v_counts || pg_catalog.jsonb_build_object(v_result ->> 'status',
            coalesce((v_counts ->> (v_result ->> 'status'))::int, 0) + 1);
        commit;
    end loop;
    raise notice 'partkeeper: maintenance of % table(s): %', pg_catalog.cardinality(v_parents), v_counts;
end
$$;
