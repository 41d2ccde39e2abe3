create or replace function partkeeper.partition_ddl(p_parent regclass, p_target text, p_loaded boolean,
    out create_statements text[], out after_load text[], out after_attach text[])
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The one builder of the statements that make a table shaped like p_parent's partitions, named
 * p_target (a qualified, quoted name): every new partition and the DEFAULT partition are made here.
 * p_loaded: rows are copied into the table before it is attached (a move), else it stays empty.
 *  create_statements: CREATE TABLE p_target (LIKE p_parent including defaults, generated columns,
 *    storage, comments, compression, extended statistics) in the parent's tablespace, then the
 *    parent's CHECK constraints (all of them validated for a table that stays empty, as
 *    CREATE TABLE ... PARTITION OF gives them; only the validated ones when rows are loaded), then
 *    the per-partition settings PostgreSQL does not
 *    inherit, copied from the template table (configure p_template) or else the newest partition:
 *    persistence (UNLOGGED), storage parameters and TOAST storage parameters (the newest partition
 *    is the one made last);
 *  after_load: with p_loaded, the parent's NOT VALID CHECK constraints, added NOT VALID once rows
 *    are in (an old row that violates one still moves, as it stayed in the parent), before ATTACH,
 *    which needs them; those an existing p_target already has are left out; then DROP IDENTITY
 *    of every identity column an existing p_target has (a table made LIKE ... INCLUDING ALL):
 *    the parent's identity numbers the rows of its partitions, and PostgreSQL 17+ refuses to
 *    attach a table with one of its own (before 17 it would keep its own sequence); empty otherwise;
 *  after_attach: the replica identity, from the parent when it has one set, else from the template
 *    or newest partition (FULL, NOTHING, or the partition's index that is attached to the same
 *    index of the parent): a publication cannot replicate deletes without it.
 * Not copied: identity (the parent owns it), indexes (ATTACH builds the parent's indexes on the new
 * table), foreign keys and row triggers (ATTACH clones the parent's), indexes created on single
 * partitions only (create indexes on the parent), privileges (access goes through the parent).
 * Reads the catalog only. convert_prepare() makes a twin, a whole table rather than a partition,
 * with LIKE lists of its own; its header says where and why they differ from this one.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_source regclass;
    v_persistence "char";
    v_reloptions text[];
    v_toast_options text[];
    v_ident "char";
    v_ident_source regclass;
begin
    -- the newest partition: the one made last (the highest OID), not the one with the latest bounds
    -- (max over an expression: an ORDER BY inhrelid LIMIT 1 may walk pg_inherits' whole OID index)
    v_source := coalesce(v_cfg.template,
        (select max(i.inhrelid::bigint)::oid::regclass from pg_inherits i join pg_partitioned_table pt on pt.partrelid = i.inhparent
          where i.inhparent = p_parent and i.inhrelid <> pt.partdefid));
    if v_source is not null then
        select c.relpersistence, c.reloptions, t.reloptions into v_persistence, v_reloptions, v_toast_options
          from pg_class c left join pg_class t on t.oid = c.reltoastrelid
         where c.oid = v_source;
    end if;

    create_statements := array[format(
        'create %stable %s (like %s including defaults including generated including storage including comments'
        ' including compression including statistics)%s',
        case when v_persistence = 'u' then 'unlogged ' else '' end,
        p_target, p_parent, coalesce(' tablespace ' || quote_ident(v_info.tablespace), ''))];
    create_statements := create_statements || array(
        select format('alter table %s add constraint %I %s', p_target, c.conname,
                      case when c.convalidated then pg_get_constraintdef(c.oid)
                           else regexp_replace(pg_get_constraintdef(c.oid), ' NOT VALID$', '') end)
          from pg_constraint c
         where c.conrelid = p_parent and c.contype = 'c' and (c.convalidated or not p_loaded)
         order by c.conname);
    create_statements := create_statements || array(
        select format('alter table %s set (%s = %L)', p_target, split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
          from unnest(v_reloptions) o);
    create_statements := create_statements || array(
        select format('alter table %s set (toast.%s = %L)', p_target, split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
          from unnest(v_toast_options) o);

    after_load := array(
        select format('alter table %s add constraint %I %s', p_target, c.conname, pg_get_constraintdef(c.oid))
          from pg_constraint c
         where c.conrelid = p_parent and c.contype = 'c' and not c.convalidated and p_loaded
           -- by the catalog, not to_regclass(): the caller may have no USAGE on the schema
           and not exists (select from pg_constraint t join pg_class r on r.oid = t.conrelid join pg_namespace n on n.oid = r.relnamespace
                            where t.conname = c.conname and format('%I.%I', n.nspname, r.relname) = p_target)
         order by c.conname)
        || array(
        select format('alter table %s alter column %I drop identity', p_target, a.attname)
          from pg_attribute a join pg_class r on r.oid = a.attrelid join pg_namespace n on n.oid = r.relnamespace
         where format('%I.%I', n.nspname, r.relname) = p_target and a.attidentity <> '' and not a.attisdropped and a.attnum > 0
           and p_loaded
         order by a.attnum);

    select c.relreplident into v_ident from pg_class c where c.oid = p_parent;
    v_ident_source := p_parent;
    if v_ident = 'd' and v_source is not null then
        select c.relreplident into v_ident from pg_class c where c.oid = v_source;
        v_ident_source := v_source;
    end if;
    after_attach := case v_ident
        when 'f' then array[format('alter table %s replica identity full', p_target)]
        when 'n' then array[format('alter table %s replica identity nothing', p_target)]
        -- the index of p_target attached to the same parent index as v_ident_source's identity index
        when 'i' then array[format($do$do $ri$
declare
    v_parent_index oid;
    v_index name;
begin
    select case when si.indrelid = %3$s then si.indexrelid
                else (select i.inhparent from pg_catalog.pg_inherits i where i.inhrelid = si.indexrelid) end
      into v_parent_index
      from pg_catalog.pg_index si where si.indrelid = %2$s and si.indisreplident;
    select c.relname into v_index
      from pg_catalog.pg_inherits i
      join pg_catalog.pg_index ti on ti.indexrelid = i.inhrelid
      join pg_catalog.pg_class c on c.oid = ti.indexrelid
     where i.inhparent = v_parent_index and ti.indrelid = %1$L::regclass;
    if v_index is not null then
        execute pg_catalog.format('alter table %%s replica identity using index %%I', %1$L::regclass, v_index);
    end if;
end
$ri$
$do$, p_target, v_ident_source::oid, p_parent::oid)]
        else '{}'::text[] end;
end
$$;
