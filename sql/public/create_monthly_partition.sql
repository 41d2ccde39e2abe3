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
 * exactly as it would in the caller's own queries. Only name resolution happens here.
 * Errors: PK001 empty table_name; PK002 no such table or a name that is not a valid identifier;
 * PK007 an unregistered table the current role does not own.
 */
declare
    v_table regclass;
begin
    if table_name is null or btrim(table_name) = '' then
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
    -- An unregistered table is the caller's own business: the caller, as it is now (SET ROLE
    -- included), must own it. partkeeper.create_partition checks the login role as well.
    if not pg_catalog.pg_has_role(current_user, (select c.relowner from pg_catalog.pg_class c where c.oid = v_table), 'USAGE') then
        if not exists (select from partkeeper.config c where c.parent = v_table) then
            raise exception 'role % may not create partitions of %', current_user, v_table
                using errcode = 'PK007', hint = 'Ask the table owner, or have the owner register it with partkeeper.register_table().';
        end if;
    end if;
    -- regclass::text here, in the caller's search_path: 'livechat_messages_2025_09' as documented
    return partkeeper.create_partition(v_table, start_date)::regclass::text;
end
$$;

comment on function public.create_monthly_partition(text, date) is 'partkeeper: make sure the monthly partition starting on start_date exists; returns its name';
