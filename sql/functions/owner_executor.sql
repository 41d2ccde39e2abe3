create or replace function partkeeper.owner_executor(p_owner regrole)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The name of this session's executor for p_owner: a function pg_temp.partkeeper_as_<oid>_<hash>
 * (p_sql text, p_query boolean) returning jsonb, SECURITY DEFINER and owned by p_owner, with the
 * owner's search_path (owner_search_path) as its SET clause. It runs p_sql and returns its row count,
 * or with p_query the single value p_sql returns, as jsonb. Every statement partkeeper runs on a managed table runs
 * through it (execute_as_owner, query_as_owner): the owner's code it evaluates (triggers, index
 * expressions, generated columns, CHECKs, defaults, row-level security policies) runs with the
 * owner's rights and resolves names as in the owner's sessions, and cannot leave them:
 * PostgreSQL refuses SET ROLE and SET SESSION AUTHORIZATION inside a security-definer function,
 * and the function itself, being the owner's, can never run with more than the owner's rights.
 * Made once per session and owner (and search_path), as the owner: the caller must be allowed to
 * SET ROLE to it (its owner, a member, a superuser; PK007 otherwise), and the owner needs TEMP on
 * the database (PostgreSQL's default). Temporary: gone with the session, invisible to others.
 */
declare
    v_name name;
    v_path text := partkeeper.owner_search_path(p_owner);
    v_role text := current_setting('role');
    v_saved_path text := current_setting('search_path');
    v_propagate text := current_setting('citus.enable_ddl_propagation', true);
begin
    if not pg_has_role(current_user, p_owner, 'MEMBER') then
        raise exception 'role % may not act as %', current_user, p_owner
            using errcode = 'PK007',
                  hint = format('Run it as %s, as a superuser, or as a member of that role: GRANT %s TO %I;', p_owner, p_owner, current_user);
    end if;
    v_name := format('partkeeper_as_%s_%s', p_owner::oid, left(md5(v_path), 8));
    if to_regprocedure(format('pg_temp.%I(text, boolean)', v_name)) is null then
        perform set_config('role', (select rolname from pg_roles where oid = p_owner), true);
        -- a temporary function is this session's alone: Citus must not try to create it on the workers
        if v_propagate is not null then
            perform set_config('citus.enable_ddl_propagation', 'off', true);
        end if;
        execute format($create$
            create function pg_temp.%I(p_sql text, p_query boolean) returns jsonb
            language plpgsql volatile security definer as $body$
            declare
                v_result jsonb;
                v_count bigint;
            begin
                if p_query then
                    execute p_sql into v_result;
                    return v_result;
                end if;
                execute p_sql;
                get diagnostics v_count = row_count;
                return pg_catalog.to_jsonb(v_count);
            end
            $body$
            $create$, v_name);
        -- the owner's search_path, captured as a value (never spliced into the statement's text)
        perform set_config('search_path', v_path, true);
        execute format('alter function pg_temp.%I(text, boolean) set search_path from current', v_name);
        perform set_config('search_path', v_saved_path, true);
        if v_propagate is not null then
            perform set_config('citus.enable_ddl_propagation', v_propagate, true);
        end if;
        perform set_config('role', v_role, true);
    end if;
    return format('pg_temp.%I', v_name);
end
$$;
