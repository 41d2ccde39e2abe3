create or replace function partkeeper.qualified_name(p_rel regclass)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The schema-qualified, quoted name of p_rel ('public.livechat_messages', '"My Schema"."T"'),
 * whatever the session's search_path: what partkeeper prints, logs and returns for a table.
 * NULL when p_rel is NULL or no longer exists. Reads the catalog only.
 */
begin
    return (
    select format('%I.%I', n.nspname, c.relname)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = p_rel);
end
$$;
