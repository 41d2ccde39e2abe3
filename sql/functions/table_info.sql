create or replace function partkeeper.table_info(
    p_parent regclass,
    out parent regclass,
    out schema_name name,
    out table_name name,
    out owner regrole,
    out control_column name,
    out control_type regtype,
    out default_partition regclass,
    out tablespace name)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * What partkeeper needs to know about a table, after checking that it can manage it: a table
 * range-partitioned by exactly one plain column of type timestamptz, timestamp or date.
 * Errors: PK002 when p_parent is NULL or no longer exists; PK003 when the table is not partitioned
 * (with a hint on converting it), not by range, by several columns or an expression, or by a column
 * of another type. Reads the catalog only; takes no lock.
 */
declare
    v_kind "char";
    v_strat "char";
    v_natts smallint;
    v_attnum smallint;
begin
    if p_parent is null then
        raise exception 'no table given'
            using errcode = 'PK002', hint = 'Pass the partitioned table, for example ''public.livechat_messages''.';
    end if;

    select c.oid, n.nspname, c.relname, c.relowner, c.relkind,
           coalesce(t.spcname, case when c.reltablespace = 0 then null end)
      into parent, schema_name, table_name, owner, v_kind, tablespace
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_tablespace t on t.oid = c.reltablespace
     where c.oid = p_parent;
    if not found then
        raise exception 'table with OID % does not exist', p_parent::oid
            using errcode = 'PK002', hint = 'It was dropped; unregister it with partkeeper.unregister_table().';
    end if;

    if v_kind <> 'p' then
        raise exception 'table % is not partitioned', p_parent
            using errcode = 'PK003',
                  hint = case when v_kind = 'r' then
                      format('partkeeper manages tables declared PARTITION BY RANGE on a time column. Convert it online: '
                             'SELECT partkeeper.convert_prepare(%L, <time column>); and the next steps, or '
                             '`partkeeper convert %s --column <time column>` (README, "Converting a plain table").',
                             partkeeper.qualified_name(p_parent), partkeeper.qualified_name(p_parent))
                  else 'Only partitioned tables (relkind p) can be managed.' end;
    end if;

    select pt.partstrat, pt.partnatts, pt.partattrs[0], nullif(pt.partdefid, 0)::regclass
      into v_strat, v_natts, v_attnum, default_partition
      from pg_partitioned_table pt
     where pt.partrelid = p_parent;

    if v_strat <> 'r' or v_natts <> 1 or v_attnum = 0 then
        raise exception 'table % is not range-partitioned by a single column', p_parent
            using errcode = 'PK003',
                  hint = 'partkeeper manages PARTITION BY RANGE (one timestamptz, timestamp or date column).';
    end if;

    select a.attname, a.atttypid::regtype
      into control_column, control_type
      from pg_attribute a
     where a.attrelid = p_parent and a.attnum = v_attnum;

    if control_type not in ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype) then
        raise exception 'table % is partitioned by column % of type %', p_parent, control_column, control_type
            using errcode = 'PK003',
                  hint = 'partkeeper manages tables partitioned by a timestamptz, timestamp or date column.';
    end if;
end
$$;
