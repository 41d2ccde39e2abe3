create or replace function partkeeper.convert_check(p_table regclass, p_column name, p_direction text)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * Whether the table p_table can be converted online:
 * p_direction 'partition' turns a plain table into a partitioned one by its time column p_column;
 * 'unpartition' turns a range-partitioned table (by one time column) into a plain one. The one
 * place that says what an online conversion accepts: convert_prepare asks before anything is made,
 * convert_swap again under its lock (a view or trigger added meanwhile stops the swap).
 * Returns {"table" (regclass as text), "oid", "direction", "time_column", "time_type", "key_columns"
 * (the primary key, in order), "twin_key" (the twin's primary key: the time column is appended
 * when the key lacks it, as a partitioned table's key must contain it), "column_nullable"}.
 * Reads the catalog and, for 'partition', whether p_column holds NULLs (a scan, as the owner);
 * takes ACCESS SHARE on the table.
 * Errors (nothing is ever changed here):
 *   PK001 no time column named; PK002 NULL (a name that did not resolve: to_regclass) or a dropped
 *         table; PK007 the caller may not act as its owner;
 *   PK003 not a plain table (already partitioned, a view...), not partitioned (unpartition), no
 *         primary key, a time column that does not exist, is not timestamptz/timestamp/date or holds
 *         NULLs, a unique index without the time column, inheritance;
 *   PK014 something that would see or break the swap: a foreign key that references the table, a
 *         user trigger, a publication, a view or rule that depends on it. The hint says what to do.
 */
declare
    v_table regclass;
    v_kind "char";
    v_keys name[];
    v_type regtype;
    v_notnull boolean;
    v_list text;
    v_twin_key name[];
begin
    if p_direction is null or p_direction not in ('partition', 'unpartition') then
        raise exception 'direction must be partition or unpartition, got %', coalesce(p_direction, 'NULL') using errcode = 'PK001',
            hint = 'Use partkeeper.convert_prepare(table, column) or partkeeper.convert_prepare(table, p_unpartition => true).';
    end if;
    v_table := p_table;
    select c.relkind into v_kind from pg_class c where c.oid = v_table;
    if v_table is null or v_kind is null then
        raise exception 'table % does not exist', coalesce(p_table::oid::text, 'NULL')
            using errcode = 'PK002', hint = 'Check the name and your search_path, or qualify it: ''public.livechat_messages''.';
    end if;
    if not partkeeper.may_maintain(v_table) then
        raise exception 'role % does not own %', current_user, partkeeper.qualified_name(v_table)
            using errcode = 'PK007', hint = format('Convert it as its owner (%s), a member of that role, or a superuser.',
                                                   (select c.relowner::regrole from pg_class c where c.oid = v_table));
    end if;

    if p_direction = 'partition' then
        if v_kind = 'p' then
            raise exception 'table % is already partitioned', partkeeper.qualified_name(v_table)
                using errcode = 'PK003', hint = format('Manage it as it is: SELECT partkeeper.register_table(%L);', partkeeper.qualified_name(v_table));
        elsif v_kind <> 'r' then
            raise exception '% is not a table', partkeeper.qualified_name(v_table)
                using errcode = 'PK003', hint = 'Only plain tables (relkind r) can be converted.';
        end if;
        if exists (select from pg_inherits i where i.inhrelid = v_table or i.inhparent = v_table) then
            raise exception 'table % takes part in table inheritance', partkeeper.qualified_name(v_table)
                using errcode = 'PK003', hint = 'Detach the inheritance (ALTER TABLE ... NO INHERIT) first.';
        end if;
        if p_column is null then
            raise exception 'no time column named for %', partkeeper.qualified_name(v_table)
                using errcode = 'PK001', hint = 'Name the timestamptz, timestamp or date column to partition by, for example created_at.';
        end if;
    else
        if v_kind = 'r' then
            raise exception 'table % is not partitioned', partkeeper.qualified_name(v_table)
                using errcode = 'PK003', hint = 'There is nothing to undo: it is a plain table already.';
        end if;
        -- PK003 for a partitioning partkeeper does not manage
        p_column := (partkeeper.table_info(v_table)).control_column;
    end if;

    select a.atttypid::regtype, a.attnotnull into v_type, v_notnull
      from pg_attribute a where a.attrelid = v_table and a.attname = p_column and a.attnum > 0 and not a.attisdropped;
    if not found then
        raise exception 'table % has no column %', partkeeper.qualified_name(v_table), quote_ident(p_column)
            using errcode = 'PK003', hint = 'Name an existing timestamptz, timestamp or date column.';
    end if;
    if v_type not in ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype) then
        raise exception 'column % of % is of type %, not a time', quote_ident(p_column), partkeeper.qualified_name(v_table), v_type
            using errcode = 'PK003', hint = 'Partition by a timestamptz, timestamp or date column.';
    end if;

    select array_agg(a.attname order by k.n) into v_keys
      from pg_constraint c
      cross join unnest(c.conkey) with ordinality k(attnum, n)
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
     where c.conrelid = v_table and c.contype = 'p';
    if v_keys is null then
        raise exception 'table % has no primary key', partkeeper.qualified_name(v_table)
            using errcode = 'PK003', hint = 'Rows are copied in batches by primary key and kept in step by it: add one (ALTER TABLE ... ADD PRIMARY KEY).';
    end if;
    v_twin_key := case when p_column = any (v_keys) then v_keys else v_keys || p_column end;

    if p_direction = 'partition' then
        select string_agg(i.indexrelid::regclass::text, ', ') into v_list
          from pg_index i
         where i.indrelid = v_table and i.indisunique and not i.indisprimary
           and not exists (select from pg_attribute a where a.attrelid = v_table and a.attname = p_column and a.attnum = any (i.indkey));
        if v_list is not null then
            raise exception 'unique index % of % does not contain %', v_list, partkeeper.qualified_name(v_table), quote_ident(p_column)
                using errcode = 'PK003', hint = 'A partitioned table can only enforce uniqueness that includes the partition column: add it to the index, or drop the index.';
        end if;
        if not v_notnull and (partkeeper.query_as_owner(v_table,
                format('select pg_catalog.to_jsonb(exists (select from only %s where %I is null))', v_table, p_column), true))::boolean then
            raise exception 'column % of % holds NULLs', quote_ident(p_column), partkeeper.qualified_name(v_table)
                using errcode = 'PK003', hint = format('Give those rows a time (UPDATE ... SET %I = ... WHERE %I IS NULL) and make it NOT NULL, or partition by another column.', p_column, p_column);
        end if;
    end if;

    select string_agg(format('%s on %s', c.conname, c.conrelid::regclass), ', ') into v_list
      from pg_constraint c where c.contype = 'f' and c.confrelid = v_table and c.conparentid = 0;
    if v_list is not null then
        raise exception 'table % is referenced by foreign keys: %', partkeeper.qualified_name(v_table), v_list
            using errcode = 'PK014', hint = 'A foreign key follows the table it references, not its name: drop it, convert, and add it again referencing the converted table.';
    end if;
    select string_agg(t.tgname, ', ') into v_list
      from pg_trigger t where t.tgrelid = v_table and not t.tgisinternal and t.tgname <> 'partkeeper_capture';
    if v_list is not null then
        raise exception 'table % has triggers: %', partkeeper.qualified_name(v_table), v_list
            using errcode = 'PK014', hint = 'A trigger would fire twice while rows are kept in step, or miss the copy: drop it, convert, and create it again on the converted table.';
    end if;
    select string_agg(distinct p.pubname, ', ') into v_list
      from pg_publication_tables p
     where (p.schemaname, p.tablename) in (select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                            where c.oid = v_table or c.oid in (select i.inhrelid from pg_inherits i where i.inhparent = v_table));
    if v_list is not null then
        raise exception 'table % is in publications: %', partkeeper.qualified_name(v_table), v_list
            using errcode = 'PK014', hint = 'Subscribers would receive the copy as new rows: remove it from the publication (ALTER PUBLICATION ... DROP TABLE), convert, then add the converted table and refresh the subscriptions.';
    end if;
    select string_agg(distinct r.ev_class::regclass::text, ', ') into v_list
      from pg_depend d join pg_rewrite r on r.oid = d.objid
     where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjid = v_table;
    if v_list is not null then
        raise exception 'views or rules depend on %: %', partkeeper.qualified_name(v_table), v_list
            using errcode = 'PK014', hint = 'A view follows the table, not its name, and would keep reading the retired one: drop it, convert, and create it again.';
    end if;

    return jsonb_build_object('table', partkeeper.qualified_name(v_table), 'oid', v_table::oid, 'direction', p_direction,
                              'time_column', p_column, 'time_type', v_type::text, 'key_columns', to_jsonb(v_keys),
                              'twin_key', to_jsonb(v_twin_key), 'column_nullable', not v_notnull);
end
$$;
