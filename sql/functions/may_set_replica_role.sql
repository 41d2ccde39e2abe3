create or replace function partkeeper.may_set_replica_role()
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * Whether the current role may SET session_replication_role, which a move needs when a foreign
 * key references the table: a superuser may; on PostgreSQL 15+ so may a role granted
 *   GRANT SET ON PARAMETER session_replication_role TO <role>;
 * Reads the catalog only.
 */
begin
    if (select r.rolsuper from pg_roles r where r.rolname = current_user) then
        return true;
    end if;
    if to_regprocedure('pg_catalog.has_parameter_privilege(name, text, text)') is null then
        return false;
    end if;
    return has_parameter_privilege(current_user, 'session_replication_role', 'SET');
end
$$;
