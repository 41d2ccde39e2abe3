create or replace function partkeeper.rows_estimate(p_rel regclass)
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The planner's estimate of p_rel's rows (pg_class.reltuples), NULL when it was never vacuumed or
 * analyzed. For a Citus table (citus_table) the sum of its shards' estimates, read on the workers
 * that hold them (run_command_on_shards, read-only): the coordinator's relation is an empty shell;
 * NULL when no shard was ever analyzed. NULL for a NULL or dropped p_rel. Takes no lock.
 * Volatile: it reads other servers.
 */
declare
    v_estimate bigint;
begin
    if p_rel is null then
        return null;
    end if;
    if (partkeeper.citus_table(p_rel)).is_citus then
        execute $q$select sum(nullif(greatest(s.result::float8, -1), -1))::bigint
                     from pg_catalog.run_command_on_shards($1,
                          'select c.reltuples from pg_catalog.pg_class c where c.oid operator(pg_catalog.=) ''%s''::pg_catalog.regclass') s
                    where s.success$q$
           into v_estimate using p_rel;
        return v_estimate;
    end if;
    return (select nullif(greatest(c.reltuples, -1), -1)::bigint from pg_class c where c.oid = p_rel);
end
$$;
