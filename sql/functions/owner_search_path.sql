create or replace function partkeeper.owner_search_path(p_role regrole)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The search_path a session of p_role starts with in this database: the role's setting for this
 * database, else the role's own setting, else the database's, else PostgreSQL's default
 * '"$user", public' (ALTER ROLE / ALTER DATABASE ... SET search_path). Maintenance runs the owner's
 * code under it (execute_as_owner), so a trigger, a generated column or an index expression that
 * names objects without their schema resolves them as in the owner's own sessions, while
 * partkeeper's functions keep their pinned search_path. Reads pg_db_role_setting only.
 */
begin
    return (
    select coalesce(
        (select substr(s, 13)
           from pg_db_role_setting d
           cross join lateral unnest(d.setconfig) s
          where s like 'search_path=%'
            and ((d.setrole = p_role and d.setdatabase = (select oid from pg_database where datname = current_database()))
              or (d.setrole = p_role and d.setdatabase = 0)
              or (d.setrole = 0 and d.setdatabase = (select oid from pg_database where datname = current_database())))
          order by d.setrole = 0, d.setdatabase = 0
          limit 1),
        '"$user", public'));
end
$$;
