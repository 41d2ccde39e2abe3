create or replace function partkeeper.version()
returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The version of the installed bundle. Must equal "version" in package.json (a test checks it).
 */
select '0.1.0'::text
$$;
