create or replace procedure partkeeper.run_maintenance(p_table text, p_raise boolean default true,
                                                       inout p_results jsonb default null)
language plpgsql
as $$
/*
 * CALL partkeeper.run_maintenance(regclass, ...) for a table named as text:
 * CALL partkeeper.run_maintenance('events'). The name is resolved by resolve_table (PK002 with the
 * name in its hint, where the regclass cast would give a bare 42P01); NULL maintains every table,
 * as run_maintenance(regclass, ...) does. p_table has no default, so CALL partkeeper.run_maintenance()
 * stays the regclass form. Everything else, the COMMIT after each table included, is that
 * procedure's contract; its other parameters and defaults must stay the same here.
 * SECURITY INVOKER with no SET clause (transaction control forbids both; the name resolves in the
 * caller's search_path): everything it names is schema-qualified.
 */
begin
    call partkeeper.run_maintenance(case when p_table is null then null else partkeeper.resolve_table(p_table) end,
                                    p_raise, p_results);
end
$$;
