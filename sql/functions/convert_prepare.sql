create or replace function partkeeper.convert_prepare(p_table regclass, p_column name default null,
                                                      p_unpartition boolean default false, p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * First step of an online conversion of p_table: its twin,
 * an empty table of the other kind with the same columns, defaults, identity, generated columns,
 * CHECK constraints, NOT NULL, outgoing foreign keys, indexes, storage, comments, statistics, owner,
 * table privileges and row-level security (enabled, forced, every policy), named <table>_twin.
 *  - partition (p_unpartition false): the twin is PARTITION BY RANGE (p_column); its primary key is
 *    the table's with p_column appended when missing (a partitioned table's unique keys must hold
 *    it); partitions are made for every period from the oldest to the newest row (at most 240;
 *    rows beyond wait in the DEFAULT partition for maintenance's drain window), and the twin is
 *    registered (register_table) and maintained once, so the premake periods exist;
 *  - unpartition: the twin is a plain table with the same primary key and indexes.
 * The state is recorded in partkeeper.conversions (step "prepared"). Nothing is copied yet: the
 * table keeps serving reads and writes; creating the twin takes ACCESS SHARE on the table only.
 * One transaction: a kill leaves nothing behind. Idempotent: when a conversion of p_table in the
 * same direction (and by the same column, when one is named) is under way, its state is returned
 * and nothing is made ({"already": true}); one the other way or by another column is refused
 * (PK015, the hint names its next call and its undo).
 * Its LIKE lists are its own, not partition_ddl()'s, on purpose: that one makes a partition, which
 * its parent completes on ATTACH; a twin is a whole table that replaces p_table. So the twin takes
 * over what a partition must not have:
 *  - identity (INCLUDING IDENTITY): the twin numbers its rows itself, where a partition uses its parent's;
 *  - CHECK constraints (INCLUDING CONSTRAINTS): the twin is empty and has no parent to give them,
 *    where partition_ddl() adds its parent's CHECKs itself, valid or NOT VALID around a load;
 *  - indexes: partition (INCLUDING ALL less INDEXES) builds them itself, its primary key with
 *    p_column appended, which LIKE would copy without; unpartition (INCLUDING ALL) copies them,
 *    a plain table's unique keys may be what the partitioned table's are.
 * The rest (defaults, generated columns, storage, comments, compression, statistics) is what
 * partition_ddl() copies too.
 * p_dry_run: returns the statements it would run ("statements") and changes nothing.
 * Every statement on the tables runs as their owner (execute_as_owner).
 * Returns {"table", "twin", "direction", "step", "already", "key_columns", "twin_key", "partitions",
 * "statements"}. Errors: those of convert_check (PK001, PK002, PK003, PK007, PK014), nothing changed;
 * PK006 when the twin's name is taken by another relation; PK015 (above).
 */
declare
    v_direction text := case when p_unpartition then 'unpartition' else 'partition' end;
    v_check jsonb;
    v_source regclass;
    v_state partkeeper.conversions;
    v_schema name;
    v_twin_name name;
    v_twin text;
    v_owner regrole;
    v_stmts text[] := '{}';
    v_keys name[];
    v_twin_key name[];
    v_cfg partkeeper.config;
    v_range jsonb;
    v_lo timestamptz;
    v_hi timestamptz;
    v_period record;
    v_parts jsonb := '[]';
    v_calls text[] := '{}';
    r record;
begin
    v_state := partkeeper.conversion_of(p_table);
    if v_state.step <> 'finished' then
        select * into v_state from partkeeper.conversions c where c.table_name = v_state.table_name for update;
    end if;
    -- under way (and not undone while this waited for its lock)
    if v_state.step <> 'finished' then
        if v_state.direction <> v_direction or (v_direction = 'partition' and p_column <> v_state.time_column) then
            raise exception 'a conversion of % % is under way (step %)', v_state.table_name,
                case when v_state.direction = 'partition' then format('by %I', v_state.time_column) else 'into a plain table' end, v_state.step
                using errcode = 'PK015', hint = format('Finish it or undo it first. Its next step is %s To go back: %s',
                                                       (partkeeper.conversion_next(v_state)).sql_call, (partkeeper.conversion_next(v_state)).undo_call);
        end if;
        return jsonb_build_object('table', v_state.table_name, 'twin', partkeeper.qualified_name(v_state.twin),
                                  'direction', v_state.direction, 'step', v_state.step, 'already', true,
                                  'key_columns', to_jsonb(v_state.key_columns), 'statements', '[]'::jsonb);
    end if;
    v_check := partkeeper.convert_check(p_table, p_column, v_direction);
    v_source := (v_check ->> 'oid')::oid::regclass;
    if p_unpartition then
        p_column := v_check ->> 'time_column';
    end if;
    v_keys := array(select jsonb_array_elements_text(v_check -> 'key_columns'));
    v_twin_key := array(select jsonb_array_elements_text(v_check -> 'twin_key'));
    select n.nspname, c.relowner::regrole into v_schema, v_owner
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = v_source;
    v_twin_name := partkeeper.partition_name(v_source, '_twin');
    v_twin := format('%I.%I', v_schema, v_twin_name);
    if to_regclass(v_twin) is not null then
        raise exception 'the name % is taken', v_twin
            using errcode = 'PK006', hint = 'A twin of an earlier conversion that was never recorded, or another table: drop or rename it.';
    end if;

    if p_unpartition then
        v_stmts := v_stmts || format('create table %s (like %s including all)', v_twin, v_source);
    else
        v_stmts := v_stmts || format('create table %s (like %s including defaults including identity including constraints'
                                     ' including generated including statistics including storage including comments'
                                     ' including compression) partition by range (%I)', v_twin, v_source, p_column);
        v_stmts := v_stmts || format('alter table %s add primary key (%s)', v_twin,
                                     (select string_agg(format('%I', k), ', ') from unnest(v_twin_key) k));
        -- the other indexes, as the catalog prints them (USING method, columns or expressions, WHERE)
        for r in
            select i.indisunique, substring(pg_get_indexdef(i.indexrelid) from ' USING .*$') as def
              from pg_index i where i.indrelid = v_source and not i.indisprimary order by i.indexrelid
        loop
            v_stmts := v_stmts || format('create %sindex on %s%s', case when r.indisunique then 'unique ' else '' end, v_twin, r.def);
        end loop;
    end if;
    -- outgoing foreign keys (LIKE copies none)
    for r in select c.conname, pg_get_constraintdef(c.oid) as def from pg_constraint c
              where c.conrelid = v_source and c.contype = 'f' and c.conparentid = 0 order by c.conname loop
        v_stmts := v_stmts || format('alter table %s add constraint %I %s', v_twin, r.conname, r.def);
    end loop;
    -- table privileges (column privileges are not copied)
    for r in select a.grantee, a.privilege_type, a.is_grantable
               from pg_class c, aclexplode(c.relacl) a where c.oid = v_source and a.grantee <> c.relowner loop
        v_stmts := v_stmts || format('grant %s on %s to %s%s', r.privilege_type, v_twin,
                                     case when r.grantee = 0 then 'public' else quote_ident((select rolname from pg_roles where oid = r.grantee)) end,
                                     case when r.is_grantable then ' with grant option' else '' end);
    end loop;
    -- row-level security
    for r in select c.relrowsecurity, c.relforcerowsecurity from pg_class c where c.oid = v_source loop
        if r.relrowsecurity then v_stmts := v_stmts || format('alter table %s enable row level security', v_twin); end if;
        if r.relforcerowsecurity then v_stmts := v_stmts || format('alter table %s force row level security', v_twin); end if;
    end loop;
    for r in select p.polname, p.polpermissive, p.polcmd, pg_get_expr(p.polqual, p.polrelid) as qual,
                    pg_get_expr(p.polwithcheck, p.polrelid) as wcheck,
                    (select string_agg(case when x = 0 then 'public' else quote_ident((select rolname from pg_roles where oid = x)) end, ', ')
                       from unnest(p.polroles) x) as roles
               from pg_policy p where p.polrelid = v_source order by p.polname loop
        v_stmts := v_stmts || format('create policy %I on %s as %s for %s to %s%s%s', r.polname, v_twin,
                                     case when r.polpermissive then 'permissive' else 'restrictive' end,
                                     case r.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'all' end,
                                     r.roles, coalesce(' using (' || r.qual || ')', ''), coalesce(' with check (' || r.wcheck || ')', ''));
    end loop;

    if not p_unpartition then
        v_cfg := partkeeper.config_for(v_source);
        v_range := partkeeper.query_as_owner(v_source, format(
            'select pg_catalog.jsonb_build_object(''lo'', min(%1$I)::timestamp at time zone %3$L, ''hi'', max(%1$I)::timestamp at time zone %3$L) from only %2$s',
            p_column, v_source, case when v_check ->> 'time_type' = 'timestamp with time zone' then 'UTC' else v_cfg.time_zone end), true);
        v_lo := (v_range ->> 'lo')::timestamptz;
        v_hi := (v_range ->> 'hi')::timestamptz;
        v_calls := v_calls || format('select partkeeper.register_table(%L)', v_twin);
    end if;

    if p_dry_run then
        if v_lo is not null then
            v_calls := v_calls || format('select partkeeper.create_partition(%L, <first day of each period from %s to %s>)', v_twin, v_lo, v_hi);
        end if;
        if not p_unpartition then
            v_calls := v_calls || format('select partkeeper.maintain_table(%L)', v_twin);
        end if;
        return jsonb_build_object('table', v_check ->> 'table', 'twin', v_twin, 'direction', v_direction, 'step', null,
                                  'already', false, 'dry_run', true, 'key_columns', to_jsonb(v_keys), 'twin_key', to_jsonb(v_twin_key),
                                  'statements', to_jsonb(v_stmts || v_calls));
    end if;

    perform partkeeper.execute_as_owner(v_source, array(select row(s, false)::partkeeper.statement from unnest(v_stmts) s),
                                        (partkeeper.config_for(v_source)).lock_timeout, (partkeeper.config_for(v_source)).lock_retries);
    if not p_unpartition then
        perform partkeeper.register_table(v_twin::regclass);
        v_cfg := partkeeper.config_for(v_twin::regclass);
        if v_lo is not null then
            v_period := partkeeper.table_period(v_twin::regclass, v_lo);
            while v_period.lower <= v_hi and jsonb_array_length(v_parts) < 240 loop
                v_parts := v_parts || to_jsonb(partkeeper.create_partition(v_twin::regclass, (v_period.lower at time zone v_cfg.time_zone)::date));
                v_period := partkeeper.table_period(v_twin::regclass, v_period.upper);
            end loop;
        end if;
        perform partkeeper.maintain_table(v_twin::regclass);
    end if;

    delete from partkeeper.conversions c where c.table_name = v_check ->> 'table';
    insert into partkeeper.conversions (table_name, parent, twin, direction, time_column, key_columns, twin_name,
                                        retired_name, capture_function, rows_estimate)
    values (v_check ->> 'table', v_source, v_twin::regclass, v_direction, p_column, v_keys, v_twin_name,
            partkeeper.partition_name(v_source, '_retired'),
            format('%I.%I', v_schema, partkeeper.partition_name(v_source, '_pk_capture')),
            (select coalesce(sum(greatest(c.reltuples, 0)), 0) from pg_class c
              where c.oid = v_source or c.oid in (select i.inhrelid from pg_inherits i where i.inhparent = v_source))::bigint);
    perform partkeeper.write_log(v_source, 'convert_prepare', v_twin, jsonb_build_object('direction', v_direction, 'partitions', v_parts));

    return jsonb_build_object('table', v_check ->> 'table', 'twin', v_twin, 'direction', v_direction, 'step', 'prepared',
                              'already', false, 'key_columns', to_jsonb(v_keys), 'twin_key', to_jsonb(v_twin_key),
                              'partitions', v_parts, 'statements', to_jsonb(v_stmts || v_calls));
end
$$;
