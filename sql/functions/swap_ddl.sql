create or replace function partkeeper.swap_ddl(p_holder regclass, p_other regclass, p_holder_new_name name, p_capture_function text)
returns text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The statements by which p_other takes the name of p_holder, its table of the same columns in the
 * same schema, in the one order both directions use: ACCESS EXCLUSIVE on p_holder then p_other, the
 * capture trigger on p_holder and its function p_capture_function dropped (capture_ddl made them),
 * the column sequences handed over to p_other (sequence_handover), p_holder renamed p_holder_new_name
 * and p_other given p_holder's name. convert_swap runs them from the table to its twin (the table
 * becomes <table>_retired), convert_undo back from the twin (which becomes <table>_twin again); each
 * adds what belongs to its direction (partitions renamed, the carry-back trigger; the twin dropped).
 * Reads the catalog only; the statements are returned, not run (execute_as_owner runs them in one
 * unit under lock_timeout).
 */
declare
    v_name name := (select c.relname from pg_class c where c.oid = p_holder);
begin
    return array[format('lock table %s, %s in access exclusive mode', p_holder, p_other),
                 format('drop trigger if exists partkeeper_capture on %s', p_holder),
                 format('drop function if exists %s()', p_capture_function)]
           || partkeeper.sequence_handover(p_holder, p_other)
           || array[format('alter table %s rename to %I', p_holder, p_holder_new_name),
                    format('alter table %s rename to %I', p_other, v_name)];
end
$$;
