create or replace function partkeeper.restore_target(p_parent regclass, p_lower timestamptz, p_upper timestamptz, p_name name)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * The empty table `partkeeper restore` loads an archive of [p_lower, p_upper) into before
 * attach_restored() makes it a partition of p_parent: named p_name in p_parent's schema, made by
 * partition_ddl() (the one builder of tables shaped like the partitions, so a restored partition
 * is made exactly as a new one), as the table's owner (execute_as_owner), and on Citus distributed
 * co-located with p_parent (distribute_like), so the rows loaded go to its shards. Refuses, having made
 * nothing: PK007 when the caller may not act for the owner, PK001/PK006 from check_restore_range()
 * (the range must be free: no partition overlaps it and no row of it waits in the DEFAULT
 * partition), PK006 when p_name is taken, PK002 for a NULL name. Returns the table's qualified name.
 * Takes no lock on p_parent beyond what CREATE TABLE ... LIKE takes (ACCESS SHARE).
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_target text;
    v_ddl record;
begin
    if not partkeeper.may_maintain(p_parent) then
        raise exception 'role % may not restore into %', current_user, partkeeper.qualified_name(p_parent)
            using errcode = 'PK007', hint = 'Restore as the table''s owner, a member of the owning role, or a superuser.';
    end if;
    if p_name is null or p_name = '' then
        raise exception 'no name given for the restored table' using errcode = 'PK002', hint = 'Pass the partition name from the archive''s manifest.';
    end if;
    perform partkeeper.check_restore_range(p_parent, p_lower, p_upper);
    v_target := format('%I.%I', v_info.schema_name, p_name);
    if exists (select from pg_class c where c.relnamespace = (select relnamespace from pg_class where oid = p_parent) and c.relname = p_name) then
        raise exception 'relation % already exists', v_target
            using errcode = 'PK006', hint = 'Restore into a table of your choice instead (--into), or rename that relation first.';
    end if;
    v_ddl := partkeeper.partition_ddl(p_parent, v_target, true);
    perform partkeeper.execute_as_owner(p_parent,
        array(select (s, false)::partkeeper.statement from unnest(v_ddl.create_statements) s)
        || partkeeper.distribute_like(p_parent, v_target),
        v_cfg.lock_timeout, v_cfg.lock_retries);
    return v_target;
end
$$;
