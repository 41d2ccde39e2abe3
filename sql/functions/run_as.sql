create or replace function partkeeper.run_as(p_owner regrole, p_replica boolean)
returns text[]
language plpgsql
volatile
as $$
/*
 * Switch the transaction to run the next statement as p_owner, the owner of a managed table, under
 * the owner's search_path (owner_search_path), with session_replication_role = replica when
 * p_replica. session_replication_role is set first, while the caller is still the current role (it
 * takes superuser or, on PostgreSQL 15+, GRANT SET ON PARAMETER). Returns the caller's role,
 * session_replication_role and search_path, which the caller restores in that order right after
 * the one statement, with pg_catalog.set_config only: while the owner is the current role no
 * partkeeper function can be called (the owner may have no right on schema partkeeper). Used by
 * execute_as_owner and query_as_owner. PK007 when the current role is not a member of p_owner
 * (superusers are members of every role). SET LOCAL semantics: an error undoes it with the
 * (sub)transaction. No SET clause (it would undo the search_path change at return): every name
 * here is schema-qualified instead.
 */
declare
    v_saved text[] := array[pg_catalog.current_setting('role'), pg_catalog.current_setting('session_replication_role'),
                            pg_catalog.current_setting('search_path')];
    v_name name := (select r.rolname from pg_catalog.pg_roles r where r.oid operator(pg_catalog.=) p_owner);
    v_path text := partkeeper.owner_search_path(p_owner);
begin
    if not pg_catalog.pg_has_role(current_user, p_owner, 'MEMBER') then
        raise exception 'role % may not act as %', current_user, v_name
            using errcode = 'PK007',
                  hint = pg_catalog.format('Run it as %s, as a superuser, or as a member of that role: GRANT %I TO %I;', v_name, v_name, current_user);
    end if;
    if p_replica then
        perform pg_catalog.set_config('session_replication_role', 'replica', true);
    end if;
    if current_user operator(pg_catalog.<>) v_name then
        perform pg_catalog.set_config('role', v_name, true);
    end if;
    perform pg_catalog.set_config('search_path', v_path, true);
    return v_saved;
end
$$;
