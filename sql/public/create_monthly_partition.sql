create or replace function public.create_monthly_partition(table_name text, start_date date)
returns text
language plpgsql
volatile
as $$
/*
 * The original interface, kept as written: SELECT create_monthly_partition('livechat_messages', '2025-09-01'::date);
 * Makes sure the monthly partition of table_name that starts on start_date exists and returns its
 * name (<table>_YYYY_MM); see partkeeper.create_partition for bounds, locks and errors.
 * SECURITY INVOKER with the caller's search_path on purpose: an unqualified table_name resolves
 * exactly as it would in the caller's own queries. Only name resolution happens here, and every
 * function and operator it uses is named with its schema, so nothing another role put in the
 * caller's search_path (a look-alike operator in public) can stand in for it.
 * Errors: PK001 empty table_name; PK002 no such table or a name that is not a valid identifier;
 * those of partkeeper.create_partition (PK007 when the role may not act as the table's owner).
 */
declare
    v_table regclass;
begin
    if table_name is null or pg_catalog.btrim(table_name) operator(pg_catalog.=) '' then
        raise exception 'table_name must be given'
            using errcode = 'PK001', hint = 'For example: SELECT create_monthly_partition(''livechat_messages'', ''2025-09-01''::date);';
    end if;
    begin
        v_table := pg_catalog.to_regclass(table_name);
    exception when invalid_name or syntax_error or feature_not_supported or invalid_parameter_value then
        v_table := null;
    end;
    if v_table is null then
        raise exception 'table % does not exist', pg_catalog.quote_literal(table_name)
            using errcode = 'PK002',
                  hint = 'Check the name and your search_path (SHOW search_path), or qualify it: ''public.livechat_messages''.';
    end if;
    -- regclass::text here, in the caller's search_path: 'livechat_messages_2025_09' as documented
    return partkeeper.create_partition(v_table, start_date)::regclass::text;
end
$$;

comment on function public.create_monthly_partition(text, date) is 'partkeeper: make sure the monthly partition starting on start_date exists; returns its name';
