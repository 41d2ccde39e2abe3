create or replace function partkeeper.local_size(p_rel regclass)
returns bigint
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The bytes of p_rel's main data in its own files (pg_relation_size): 0 means no row, committed or
 * not, is in it, the cheap test of whether a DEFAULT partition is empty. NULL when that cannot be
 * told here: p_rel is NULL or dropped, or is a Citus table (citus_table), whose rows are in shards
 * on the workers. Measuring shards would wait for a lock held on a worker without any lock_timeout
 * (and Citus refuses it inside a transaction that has changed shards), so callers read NULL as
 * "unknown" and look at the rows instead, under the table's lock_timeout.
 * Takes ACCESS SHARE on p_rel for a moment (as pg_relation_size does).
 */
begin
    if p_rel is null or not exists (select from pg_class c where c.oid = p_rel) or (partkeeper.citus_table(p_rel)).is_citus then
        return null;
    end if;
    return pg_relation_size(p_rel);
end
$$;
