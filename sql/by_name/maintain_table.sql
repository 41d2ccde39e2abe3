create or replace function partkeeper.maintain_table(p_parent text, p_wait boolean default false, p_max_create integer default null)
returns jsonb
language sql
volatile
as $$
/*
 * partkeeper.maintain_table(regclass, ...) for a table named as text: SELECT partkeeper.maintain_table('events').
 * The name is resolved by resolve_table (PK002 with the name in its hint, where the regclass cast
 * would give a bare 42P01); everything else is maintain_table(regclass, ...)'s contract. Its
 * parameters and defaults must stay those of maintain_table(regclass, ...), so that a call with
 * named arguments finds this form too.
 * No SET clause: the name resolves in the caller's search_path (see resolve_table).
 */
select partkeeper.maintain_table(partkeeper.resolve_table(p_parent), p_wait, p_max_create)
$$;
