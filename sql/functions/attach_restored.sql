create or replace function partkeeper.attach_restored(p_parent regclass, p_table regclass, p_lower timestamptz, p_upper timestamptz)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Attach p_table (a standalone table holding restored rows, made LIKE p_parent) as the partition
 * [p_lower, p_upper) of p_parent, as `partkeeper restore` does after loading an archive.
 * Refuses (PK001/PK006 from check_restore_range, nothing changed) when any partition overlaps the
 * range or the DEFAULT partition holds rows of it: a restore never mixes with existing data. Rows of p_table outside the range
 * make the CHECK fail (23514). Locks as add_partition: CHECK first, then SHARE on the parent and
 * ATTACH (SHARE UPDATE EXCLUSIVE), under lock_timeout with retries (PK005). p_table is first given
 * to the table's owner, so restored partitions belong to it like every other partition. An
 * identity column of p_table's own (LIKE ... INCLUDING ALL) loses its identity first, as
 * partition_ddl() says: the parent's numbers new rows, on every PostgreSQL version.
 * Everything runs as the table's owner (execute_as_owner); the caller must be allowed to act for
 * it (PK007) and own p_table (or be a member of its owner). Returns the partition's name.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_lower text := partkeeper.bound_literal(p_lower, v_info.control_type);
    v_upper text := partkeeper.bound_literal(p_upper, v_info.control_type);
    v_in_range text;
    v_ddl record;
begin
    if not partkeeper.may_maintain(p_parent) or not partkeeper.may_maintain(p_table) then
        raise exception 'role % may not attach % to %', current_user, p_table, partkeeper.qualified_name(p_parent)
            using errcode = 'PK007', hint = 'Restore as the table''s owner, a member of the owning role, or a superuser.';
    end if;
    perform partkeeper.check_restore_range(p_parent, p_lower, p_upper);
    v_in_range := format('%1$I operator(pg_catalog.>=) %2$s::%4$s and %1$I operator(pg_catalog.<) %3$s::%4$s',
                         v_info.control_column, v_lower, v_upper, v_info.control_type);
    if (select c.relowner from pg_class c where c.oid = p_table) <> (select c.relowner from pg_class c where c.oid = p_parent) then
        execute format('alter table %s owner to %s', p_table, (select c.relowner::regrole from pg_class c where c.oid = p_parent));
    end if;
    -- what partition_ddl() adds to a loaded table: the parent's NOT VALID CHECKs (ATTACH needs
    -- them; restored rows are old rows) and, after ATTACH, the replica identity of the partitions
    v_ddl := partkeeper.partition_ddl(p_parent, partkeeper.qualified_name(p_table), true);
    perform partkeeper.execute_as_owner(p_parent,
        array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_load) s) || array[
        (format('alter table %s add constraint partkeeper_bounds check (%I is not null and %s)', p_table, v_info.control_column, v_in_range), false),
        (format('lock table %s in share mode', p_parent), false),
        (format('alter table %s attach partition %s for values from (%s) to (%s)', p_parent, p_table, v_lower, v_upper), false),
        (format('alter table %s drop constraint partkeeper_bounds', p_table), false)]::partkeeper.statement[]
        || array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_attach) s),
        v_cfg.lock_timeout, v_cfg.lock_retries);
    perform partkeeper.write_log(p_parent, 'restore', partkeeper.qualified_name(p_table), jsonb_build_object('lower', p_lower, 'upper', p_upper));
    return partkeeper.qualified_name(p_table);
end
$$;
