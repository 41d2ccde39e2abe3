create or replace function partkeeper.copyable_columns(p_table regclass)
returns table (name name, type text, not_null boolean)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The columns a copy of p_table's rows carries, in column order: every live column but generated
 * ones, which the target computes itself; with each one's type (format_type, typmod included) and
 * NOT NULL. The one rule behind copy_columns() (moves out of the DEFAULT partition) and what
 * `partkeeper archive` writes and `partkeeper restore` checks. No rows for a dropped table.
 * Reads the catalog only.
 */
select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
  from pg_attribute a
 where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
 order by a.attnum;
$$;
