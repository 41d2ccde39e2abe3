create or replace function partkeeper.create_partition(p_parent text, p_month date)
returns text
language sql
volatile
as $$
/*
 * partkeeper.create_partition(regclass, date) for a table named as text:
 * SELECT partkeeper.create_partition('events', '2026-01-01'). The name is resolved by resolve_table
 * (PK002 with the name in its hint, where the regclass cast would give a bare 42P01); everything
 * else is create_partition(regclass, date)'s contract.
 * No SET clause: the name resolves in the caller's search_path (see resolve_table).
 */
select partkeeper.create_partition(partkeeper.resolve_table(p_parent), p_month)
$$;
