create or replace function partkeeper.copy_columns(p_parent regclass)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The columns a copy of p_parent's rows carries, quoted and comma-separated in column order: every
 * live column but generated ones, which the target computes itself. Used wherever rows are copied
 * (moves out of the DEFAULT partition; archive and restore read it too). NULL for a dropped table.
 */
begin
    return (
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum)
      from pg_attribute a
     where a.attrelid = p_parent and a.attnum > 0 and not a.attisdropped and a.attgenerated = '');
end
$$;
