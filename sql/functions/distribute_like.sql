create or replace function partkeeper.distribute_like(p_parent regclass, p_target text)
returns partkeeper.statement[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The statements that make the new table p_target (a qualified, quoted name, made by
 * partition_ddl and still empty) a Citus distributed table like p_parent's partitions: distributed
 * by the same column and co-located with p_parent, so that each of its shards sits beside the
 * matching shard of the parent and of the DEFAULT partition. Rows must only be loaded into p_target
 * after this: Citus distributes a table it ATTACHes, but rows already in it would stay in the
 * coordinator's relation, where no query of the table finds them. Run as the table's owner
 * (execute_as_owner), before any row is loaded. Empty (nothing to do) when p_parent is not a
 * hash-distributed Citus table (citus_table), which is always the case on PostgreSQL without Citus.
 * Reads the catalog only.
 */
declare
    v_column name := (partkeeper.citus_table(p_parent)).distribution_column;
begin
    if v_column is null then
        return '{}';
    end if;
    return array[(format('select pg_catalog.create_distributed_table(%L, %L, colocate_with => %L)',
                         p_target, v_column, partkeeper.qualified_name(p_parent)), false)]::partkeeper.statement[];
end
$$;
