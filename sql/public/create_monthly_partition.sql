create or replace function public.create_monthly_partition(table_name text, start_date date)
returns text
language plpgsql
volatile
as $$
/*
 * The original interface, kept as written: SELECT create_monthly_partition('livechat_messages', '2025-09-01'::date);
 * Makes sure the monthly partition of table_name that starts on start_date exists and returns its
 * name (<table>_YYYY_MM); see partkeeper.create_partition for bounds, locks and errors.
 * SECURITY INVOKER with the caller's search_path on purpose: table_name resolves exactly as it
 * would in the caller's own queries (partkeeper.resolve_table), and the name returned is printed as
 * there. Every function it uses is named with its schema, so nothing another role put in the
 * caller's search_path (a look-alike function in public) can stand in for it.
 * Errors: PK002 NULL, blank, not a table name, or no such table (resolve_table, table_info);
 * those of partkeeper.create_partition (PK007 when the role may not act as the table's owner).
 */
begin
    -- regclass::text here, in the caller's search_path: 'livechat_messages_2025_09' as documented
    return partkeeper.create_partition(partkeeper.resolve_table(table_name), start_date)::pg_catalog.regclass::pg_catalog.text;
end
$$;

comment on function public.create_monthly_partition(text, date) is 'partkeeper: make sure the monthly partition starting on start_date exists; returns its name';
