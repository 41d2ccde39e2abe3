create or replace function partkeeper.resolve_table(p_name text)
returns regclass
language plpgsql
stable
as $$
/*
 * The relation a caller names as text, found as regclass input finds it (the caller's search_path,
 * double-quoted identifiers, schema.table, database.schema.table of this database, a number taken
 * as an OID), with partkeeper's errors where the regclass cast gives bare ones. The one rule behind
 * every call that takes a table's name as text: public.create_monthly_partition(), the text forms
 * of register_table, configure, unregister_table, maintain_table, create_partition, run_maintenance,
 * partition_bounds and expired_partitions (sql/by_name/), and the command line's table and
 * partition arguments. It only resolves: whether partkeeper can manage the relation is table_info's
 * rule, and an OID is returned as given (a dropped table is unregistered by its OID).
 * No SET clause, on purpose: an unqualified name resolves in the caller's search_path, exactly as in
 * the caller's own queries. Every function, operator and type here is named with its schema, so
 * nothing another role put in that search_path can stand in for it.
 * Where NULL means something (every table to run_maintenance, "leave it" to configure's
 * p_template), the caller does not call it with NULL. Reads the catalog only; takes no lock.
 * Errors, each naming the text as given (cut to 100 characters), with a hint:
 *   PK002  NULL or blank; not a name as SQL writes one (an unbalanced quote, a space, a semicolon outside
 *          double quotes, more than three parts); a part longer than max_identifier_length bytes
 *          (PostgreSQL would cut it to a name that may be another table's); another database's
 *          table; no such relation (the hint names the search_path for an unqualified name).
 *   42501  PostgreSQL's, when the caller lacks USAGE on the schema named.
 */
declare
    v_shown pg_catalog.text := pg_catalog.quote_literal(case when pg_catalog.length(p_name) operator(pg_catalog.>) 100
                                                         then pg_catalog.left(p_name, 100) operator(pg_catalog.||) '...' else p_name end);
    v_parts pg_catalog.text[];
    v_max integer := pg_catalog.current_setting('max_identifier_length')::integer;
    v_long pg_catalog.text;
    v_rel pg_catalog.regclass;
begin
    if p_name is null or p_name operator(pg_catalog.~) '^\s*$' then
        raise exception 'no table given%', case when p_name is null then '' else pg_catalog.format(': %s is blank', v_shown) end
            using errcode = 'PK002', hint = 'Name the table, for example ''public.livechat_messages''.';
    end if;
    if p_name operator(pg_catalog.~) '^\s*[0-9]+\s*$' then
        return p_name::pg_catalog.oid::pg_catalog.regclass;
    end if;
    begin
        v_parts := pg_catalog.parse_ident(p_name);
    exception when invalid_parameter_value then
        raise exception '% is not a table name', v_shown
            using errcode = 'PK002',
                  hint = pg_catalog.format('Write %s as SQL names a table: table or schema.table, each part in double quotes when it '
                                           'holds capitals, spaces or other signs (''"Chat Room"."Events"'').', v_shown);
    end;
    if pg_catalog.cardinality(v_parts) operator(pg_catalog.>) 3 then
        raise exception '% is not a table name: it has % parts', v_shown, pg_catalog.cardinality(v_parts)
            using errcode = 'PK002', hint = pg_catalog.format('Name the table as table or schema.table, not %s.', v_shown);
    end if;
    select x into v_long from pg_catalog.unnest(v_parts) x where pg_catalog.octet_length(x) operator(pg_catalog.>) v_max limit 1;
    if found then
        raise exception '% is not a table name: a part of it has % bytes, and a name has at most %', v_shown,
                        pg_catalog.octet_length(v_long), v_max
            using errcode = 'PK002',
                  hint = pg_catalog.format('PostgreSQL would cut that part to its first %s bytes, which may name another table: '
                                           'name the table exactly.', v_max);
    end if;
    if pg_catalog.cardinality(v_parts) operator(pg_catalog.=) 3
       and v_parts[1] operator(pg_catalog.<>) pg_catalog.current_database()::pg_catalog.text then
        raise exception '% names a table of database %, not of this one (%)', v_shown, pg_catalog.quote_ident(v_parts[1]),
                        pg_catalog.quote_ident(pg_catalog.current_database())
            using errcode = 'PK002',
                  hint = pg_catalog.format('Connect to database %s to work on %s, or name a table of this database.',
                                           pg_catalog.quote_ident(v_parts[1]), v_shown);
    end if;
    v_rel := pg_catalog.to_regclass(p_name);
    if v_rel is null then
        raise exception 'table % does not exist', v_shown
            using errcode = 'PK002',
                  hint = case when pg_catalog.cardinality(v_parts) operator(pg_catalog.=) 1 then
                             pg_catalog.format('No table %s is visible with search_path = %s: check the name, or qualify it '
                                               'with its schema (''public.livechat_messages'').', v_shown, pg_catalog.current_setting('search_path'))
                         else pg_catalog.format('No table %s exists: check the schema and the name (SELECT oid::regclass FROM pg_class '
                                                'WHERE relname = %L).', v_shown, v_parts[pg_catalog.cardinality(v_parts)]) end;
    end if;
    return v_rel;
end
$$;
