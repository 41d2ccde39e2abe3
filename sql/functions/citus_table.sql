create or replace function partkeeper.citus_table(p_rel regclass, out is_citus boolean, out distribution_column name)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * Whether p_rel is a table of Citus (distributed PostgreSQL) in this database, read from Citus's
 * metadata at run time:
 *   is_citus: p_rel is in pg_dist_partition, so its rows live in shards and the coordinator's own
 *     relation is an empty shell (sizes, row estimates and "is it empty" must ask the shards);
 *   distribution_column: the column a hash-distributed table is distributed by, which a new table
 *     must be distributed by, co-located with p_rel, before rows are moved into it; NULL for any
 *     other table.
 * On PostgreSQL without Citus (or a database without the extension): false and NULL, without
 * naming any Citus object, so the plain code path is unchanged. NULL p_rel: false and NULL.
 * Reads the catalog only; takes no lock.
 */
begin
    is_citus := false;
    if p_rel is null or to_regclass('pg_catalog.pg_dist_partition') is null then
        return;
    end if;
    execute 'select true, case when p.partmethod operator(pg_catalog.=) ''h''
                               then pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)::name end
               from pg_catalog.pg_dist_partition p where p.logicalrelid operator(pg_catalog.=) $1'
       into is_citus, distribution_column using p_rel;
    is_citus := coalesce(is_citus, false);
end
$$;
