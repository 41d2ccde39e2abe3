create or replace function partkeeper.copy_columns(p_parent regclass)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The columns a copy of p_parent's rows carries (copyable_columns), quoted and comma-separated in
 * column order, for INSERT ... SELECT and COPY column lists. NULL for a dropped table.
 */
begin
    return (select string_agg(quote_ident(c.name), ', ' order by c.n)
              from partkeeper.copyable_columns(p_parent) with ordinality c(name, type, not_null, n));
end
$$;
