create or replace function partkeeper.expired_partitions(p_parent text)
returns table (partition regclass, lower timestamptz, upper timestamptz, retirable boolean, reason_code text, reason text)
language sql
volatile
as $$
/*
 * partkeeper.expired_partitions(regclass) for a table named as text:
 * SELECT * FROM partkeeper.expired_partitions('livechat_messages'). The name is resolved by
 * resolve_table (PK002 with the name in its hint, where the regclass cast would give a bare 42P01);
 * everything else is expired_partitions(regclass)'s contract, whose columns these must stay.
 * No SET clause: the name resolves in the caller's search_path (see resolve_table).
 */
select e.partition, e.lower, e.upper, e.retirable, e.reason_code, e.reason
  from partkeeper.expired_partitions(partkeeper.resolve_table(p_parent)) e
$$;
