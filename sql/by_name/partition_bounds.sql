create or replace function partkeeper.partition_bounds(p_parent text)
returns table (partition regclass, lower timestamptz, upper timestamptz, is_default boolean)
language sql
stable
as $$
/*
 * partkeeper.partition_bounds(regclass) for a table named as text:
 * SELECT * FROM partkeeper.partition_bounds('livechat_messages'). The name is resolved by
 * resolve_table (PK002 with the name in its hint, where the regclass cast would give a bare 42P01);
 * everything else is partition_bounds(regclass)'s contract, whose columns these must stay.
 * No SET clause: the name resolves in the caller's search_path (see resolve_table).
 */
select b.partition, b.lower, b.upper, b.is_default from partkeeper.partition_bounds(partkeeper.resolve_table(p_parent)) b
$$;
