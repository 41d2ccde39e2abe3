create or replace function partkeeper.ensure_default(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Make sure p_parent has its safety net: a DEFAULT partition, so that an insert whose range has no
 * partition yet lands there instead of failing (maintenance then moves it into its own partition).
 * When missing, it is made by partition_ddl (named partition_name(p_parent, '_default')) as the
 * table's owner and ATTACHed: SHARE UPDATE EXCLUSIVE on the parent, under lock_timeout with
 * retries (PK005). An existing DEFAULT partition, whatever its name, is kept; its replica identity
 * is aligned with the parent's when the parent has one set and the DEFAULT's differs (a publication
 * cannot replicate the DELETE of a move without it; ACCESS EXCLUSIVE on the DEFAULT for a moment).
 * Returns {"default_partition", "created_default", "replica_identity_set", "default_empty"}; default_empty:
 * the DEFAULT partition's files are empty, so no row, committed or not, is in it (false when
 * that cannot be told: on Citus, local_size). Idempotent. On Citus, ATTACH distributes the new DEFAULT partition
 * co-located with a distributed parent.
 * Errors: PK006 when the name is taken by another relation; PK007 (execute_as_owner).
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_default regclass := v_info.default_partition;
    v_target text;
    v_name name;
    v_ddl record;
    v_created boolean := false;
    v_identity boolean := false;
begin
    if v_default is null then
        v_name := partkeeper.partition_name(p_parent, '_default');
        v_target := format('%I.%I', v_info.schema_name, v_name);
        -- by the catalog, not by name: the caller may have no USAGE on the table's schema
        if exists (select from pg_class c where c.relnamespace = (select relnamespace from pg_class where oid = p_parent) and c.relname = v_name) then
            raise exception 'relation % already exists and is not the DEFAULT partition of %', v_target, partkeeper.qualified_name(p_parent)
                using errcode = 'PK006', hint = format('Rename or drop %s, then run again: partkeeper makes the DEFAULT partition itself.', v_target);
        end if;
        v_ddl := partkeeper.partition_ddl(p_parent, v_target, false);
        perform partkeeper.execute_as_owner(p_parent,
            array(select (s, false)::partkeeper.statement
                    from unnest(v_ddl.create_statements || v_ddl.after_load
                                || format('alter table %s attach partition %s default', p_parent, v_target)
                                || v_ddl.after_attach) s),
            v_cfg.lock_timeout, v_cfg.lock_retries);
        v_default := (select nullif(pt.partdefid, 0)::regclass from pg_partitioned_table pt where pt.partrelid = p_parent);
        v_created := true;
        perform partkeeper.write_log(p_parent, 'create_default', v_target, '{}');
    elsif (select p.relreplident from pg_class p where p.oid = p_parent) <> 'd'
          and (select p.relreplident from pg_class p where p.oid = p_parent)
              is distinct from (select d.relreplident from pg_class d where d.oid = v_default) then
        v_ddl := partkeeper.partition_ddl(p_parent, partkeeper.qualified_name(v_default), false);
        perform partkeeper.execute_as_owner(p_parent,
            array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_attach) s),
            v_cfg.lock_timeout, v_cfg.lock_retries);
        v_identity := true;
        perform partkeeper.write_log(p_parent, 'replica_identity', partkeeper.qualified_name(v_default), '{}');
    end if;
    return jsonb_build_object('default_partition', partkeeper.qualified_name(v_default),
                              'created_default', v_created, 'replica_identity_set', v_identity,
                              'default_empty', coalesce(partkeeper.local_size(v_default) = 0, false));
end
$$;
