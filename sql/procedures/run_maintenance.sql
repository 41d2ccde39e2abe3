create or replace procedure partkeeper.run_maintenance(p_table regclass default null, p_raise boolean default true,
                                                       inout p_results jsonb default null)
language plpgsql
as $$
/*
 * maintain_table for every registered table (or only p_table), committing after each one, so that
 * a table's locks (SHARE on the parent while a partition is attached, ACCESS EXCLUSIVE while rows
 * move or a partition retires) last only as long as that table's own run, not the whole run as in
 * maintain_all(). What the pg_cron jobs and `partkeeper maintain` call.
 * A table that fails does not stop the others; its result is in partkeeper.last_run and the log.
 * When any table failed (status "failed") and p_raise, the procedure ends, after committing the
 * others, with ERROR PK008 naming the failed tables, so pg_cron records the job run as failed;
 * otherwise a NOTICE summarises the run. p_results returns every table's result:
 * {"status", "tables": [...]} (CALL partkeeper.run_maintenance(p_raise => false, p_results => null)).
 * Must be CALLed outside an explicit transaction block (it commits). SECURITY INVOKER, with no SET
 * clause (PostgreSQL forbids both with transaction control): everything it names is schema-qualified.
 */
declare
    v_parents regclass[];
    v_parent regclass;
    v_result jsonb;
    -- arrays, appended in place: a jsonb value appended to is copied whole, every table
    v_tables jsonb[] := '{}';
    v_statuses text[] := '{}';
    v_failed text[] := '{}';
    v_counts jsonb := '{}';
begin
    v_parents := array(select c.parent from partkeeper.config c
                        where p_table is null or c.parent operator(pg_catalog.=) p_table
                        order by c.table_name, c.parent);
    if p_table is not null and pg_catalog.cardinality(v_parents) operator(pg_catalog.=) 0 then
        raise exception 'table % is not managed by partkeeper', partkeeper.qualified_name(p_table)
            using errcode = 'PK004', hint = pg_catalog.format('Register it first: SELECT partkeeper.register_table(%L);', partkeeper.qualified_name(p_table));
    end if;
    foreach v_parent in array v_parents loop
        v_result := partkeeper.maintain_table(v_parent);
        v_tables := pg_catalog.array_append(v_tables, v_result);
        v_statuses := pg_catalog.array_append(v_statuses, v_result operator(pg_catalog.->>) 'status');
        if v_result operator(pg_catalog.->>) 'status' operator(pg_catalog.=) 'failed' then
            v_failed := v_failed operator(pg_catalog.||) (v_result operator(pg_catalog.->>) 'table');
        end if;
        v_counts := v_counts operator(pg_catalog.||) pg_catalog.jsonb_build_object(v_result operator(pg_catalog.->>) 'status',
            coalesce((v_counts operator(pg_catalog.->>) (v_result operator(pg_catalog.->>) 'status'))::int, 0) operator(pg_catalog.+) 1);
        commit;
    end loop;
    p_results := pg_catalog.jsonb_build_object(
        'status', partkeeper.worst_status(v_statuses),
        'tables', pg_catalog.to_jsonb(v_tables));
    if p_raise and pg_catalog.cardinality(v_failed) operator(pg_catalog.>) 0 then
        raise exception 'partkeeper: maintenance failed for % of % table(s): %', pg_catalog.cardinality(v_failed),
                        pg_catalog.cardinality(v_parents), pg_catalog.array_to_string(v_failed, ', ')
            using errcode = 'PK008',
                  hint = 'The other tables were maintained and committed. Why: SELECT parent::regclass, result -> ''warnings'' FROM partkeeper.last_run WHERE status = ''failed'';';
    end if;
    raise notice 'partkeeper: maintenance of % table(s): %', pg_catalog.cardinality(v_parents), v_counts;
end
$$;
