create or replace function partkeeper.retire_partition(p_parent regclass, p_partition regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Retire one range partition of p_parent as the table's retention_mode says: 'drop' drops it;
 * 'detach' detaches it and keeps it as a plain table, moved to retention_schema when one is set.
 * The range is recorded (config.retired_before) so that nothing makes it again: gap healing, the
 * drain window and premake stop there. Returns {"partition", "lower", "upper", "mode", "bytes"}
 * (bytes freed from the table; NULL on Citus when relation_size cannot tell) and logs it. The
 * caller decides what expires (expired_partitions); this only refuses the DEFAULT partition and
 * tables that are not partitions of p_parent (PK003).
 * As the table's owner (execute_as_owner). When a foreign key references the table, 'drop' detaches
 * first: PostgreSQL refuses to drop a partition of a referenced table outright (2BP01), and DETACH
 * then checks that no referencing row points into the partition (23503 otherwise: delete those
 * rows, or the referencing ones, first). A view or other object depending on the partition makes
 * DROP fail with 2BP01 (drop it, or use retention_mode 'detach').
 * Locks: DETACH and DROP take ACCESS EXCLUSIVE on the parent and the DEFAULT partition for a moment
 * (DETACH also locks the tables foreign keys link to the parent: those referencing it in ACCESS
 * EXCLUSIVE). All are asked for first, in ddl_locks' order, each under lock_timeout capped below
 * deadlock_timeout, with retries (PK005). PostgreSQL refuses DETACH ... CONCURRENTLY on a table
 * that has a DEFAULT partition, and every managed table has one, so no weaker lock exists for this.
 */
declare
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_bounds record;
    v_bytes bigint;
    v_name text := partkeeper.qualified_name(p_partition);
    v_statements text[];
    v_locks partkeeper.statement[];
begin
    select b.lower, b.upper into v_bounds from partkeeper.partition_bounds(p_parent) b
     where b.partition = p_partition and not b.is_default;
    if not found then
        raise exception '% is not a range partition of %', v_name, partkeeper.qualified_name(p_parent)
            using errcode = 'PK003', hint = 'Only range partitions retire; the DEFAULT partition never does.';
    end if;
    v_bytes := partkeeper.relation_size(p_partition);
    if v_cfg.retention_mode = 'drop' then
        v_statements := case when (partkeeper.move_observers(p_parent)).referenced
                             then array[format('alter table %s detach partition %s', p_parent, p_partition), format('drop table %s', p_partition)]
                             else array[format('drop table %s', p_partition)] end;
    else
        v_statements := array[format('alter table %s detach partition %s', p_parent, p_partition)]
            || case when v_cfg.retention_schema is not null
                    then array[format('alter table %s set schema %I', p_partition, v_cfg.retention_schema)] else '{}'::text[] end;
    end if;
    -- the locks the DDL takes, asked for first and each wait capped so all end before
    -- deadlock_timeout: partkeeper, not a writer holding one of those tables, gives up (ddl_locks)
    v_locks := partkeeper.ddl_locks(p_parent, case when v_statements[1] like 'drop %' then 'drop' else 'detach' end);
    perform partkeeper.execute_as_owner(p_parent,
        v_locks || array(select (s, false)::partkeeper.statement from unnest(v_statements) s),
        least(v_cfg.lock_timeout, current_setting('deadlock_timeout')::interval * 0.8 / cardinality(v_locks)), v_cfg.lock_retries);
    update partkeeper.config c set retired_before = greatest(c.retired_before, v_bounds.upper) where c.parent = p_parent;
    perform partkeeper.write_log(p_parent, 'retire', v_name,
        jsonb_build_object('lower', v_bounds.lower, 'upper', v_bounds.upper, 'mode', v_cfg.retention_mode, 'bytes', v_bytes,
                           'schema', v_cfg.retention_schema));
    return jsonb_build_object('partition', v_name, 'lower', v_bounds.lower, 'upper', v_bounds.upper,
                              'mode', v_cfg.retention_mode, 'bytes', v_bytes);
end
$$;
