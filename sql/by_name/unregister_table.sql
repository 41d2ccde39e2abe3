create or replace function partkeeper.unregister_table(p_parent text)
returns jsonb
language sql
volatile
as $$
/*
 * partkeeper.unregister_table(regclass) for a table named as text: SELECT partkeeper.unregister_table('events').
 * The name is resolved by resolve_table (PK002 with the name in its hint, where the regclass cast
 * would give a bare 42P01; a dropped table by its OID, '16384'); everything else is
 * unregister_table(regclass)'s contract.
 * No SET clause: the name resolves in the caller's search_path (see resolve_table).
 */
select partkeeper.unregister_table(partkeeper.resolve_table(p_parent))
$$;
