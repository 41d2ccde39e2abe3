create or replace function partkeeper.resolve_table(p_name text)
returns regclass
language plpgsql
stable
as $$
/*
 * The table p_name names, resolved as the caller's own queries would resolve it: in the caller's
 * search_path unless qualified ('public.events', '"My Schema"."Events"'). The one place where a
 * table given as text (the command line, the original interface's create_monthly_partition) becomes
 * a regclass, so that a name that names nothing is reported with that name.
 * SECURITY INVOKER without a SET clause on purpose: the caller's search_path is the point. Only the
 * name is resolved here, and every function and operator it uses is named with its schema, so
 * nothing another role put in that search_path can stand in for them. Reads the catalog only; any
 * relation kind is returned, the caller says what it accepts.
 * Errors: PK001 NULL or blank; PK002 no such relation, or text that is not a name (SQL in it).
 */
declare
    v_table regclass;
begin
    if p_name is null or pg_catalog.btrim(p_name) operator(pg_catalog.=) '' then
        raise exception 'no table named'
            using errcode = 'PK001', hint = 'Name a table, for example ''public.livechat_messages''.';
    end if;
    begin
        v_table := pg_catalog.to_regclass(p_name);
    exception when invalid_name or syntax_error or feature_not_supported or invalid_parameter_value then
        v_table := null;
    end;
    if v_table is null then
        raise exception 'table % does not exist', pg_catalog.quote_literal(p_name)
            using errcode = 'PK002',
                  hint = 'Check the name and your search_path (SHOW search_path), or qualify it: ''public.livechat_messages''.';
    end if;
    return v_table;
end
$$;
