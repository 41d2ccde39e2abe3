create or replace function partkeeper.relation_size(p_rel regclass)
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The bytes p_rel takes with its indexes and TOAST, wherever its rows are: pg_total_relation_size,
 * or for a Citus table (citus_table) the sum over its shards (citus_total_relation_size), since the
 * coordinator's relation of a distributed table is an empty shell. For monitoring and the log
 * (status, health, the bytes retention frees).
 * NULL when p_rel is NULL or no longer exists, and on Citus when Citus refuses to measure shards:
 * inside a transaction that has already changed shards (a maintenance run after its first
 * partition). Takes ACCESS SHARE on p_rel, or on Citus on its shards, from separate connections to
 * the workers, which wait for a lock held there without partkeeper's lock_timeout: maintenance
 * never measures a table it is about to change (local_size). Volatile: it reads other servers.
 */
declare
    v_bytes bigint;
begin
    if p_rel is null or not exists (select from pg_class c where c.oid = p_rel) then
        return null;
    end if;
    if (partkeeper.citus_table(p_rel)).is_citus then
        begin
            execute 'select pg_catalog.citus_total_relation_size($1)' into strict v_bytes using p_rel;
        exception when active_sql_transaction then
            -- "citus size functions cannot be called in transaction blocks which contain multi-shard data modifications"
            return null;
        end;
        return v_bytes;
    end if;
    return pg_total_relation_size(p_rel);
end
$$;
