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
 * Returns {"partition", "lower", "upper", "mode", "bytes"} (bytes freed from the table) and logs it.
 * The caller decides what expires (expired_partitions); this only refuses the DEFAULT partition
 * and tables that are not partitions of p_parent (PK003).
 * Locks: DETACH and DROP take ACCESS EXCLUSIVE on the parent for a moment, under lock_timeout
 * with retries (PK005). PostgreSQL refuses DETACH ... CONCURRENTLY on a table that has a DEFAULT
 * partition, and every managed table has one, so no weaker lock exists for this.
 */
declare
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_bounds record;
    v_bytes bigint;
    v_name text := p_partition::text;
begin
    select b.lower, b.upper into v_bounds from partkeeper.partition_bounds(p_parent) b
     where b.partition = p_partition and not b.is_default;
    if not found then
        raise exception '% is not a range partition of %', p_partition, p_parent
            using errcode = 'PK003', hint = 'Only range partitions retire; the DEFAULT partition never does.';
    end if;
    v_bytes := pg_total_relation_size(p_partition);
    perform partkeeper.execute_with_retry(
        case v_cfg.retention_mode
            when 'drop' then array[format('drop table %s', p_partition)]
            else array[format('alter table %s detach partition %s', p_parent, p_partition)]
                 || case when v_cfg.retention_schema is not null
                         then array[format('alter table %s set schema %I', p_partition, v_cfg.retention_schema)] else '{}'::text[] end
        end,
        v_cfg.lock_timeout, v_cfg.lock_retries);
    perform partkeeper.write_log(p_parent::text, 'retire', v_name,
        jsonb_build_object('lower', v_bounds.lower, 'upper', v_bounds.upper, 'mode', v_cfg.retention_mode, 'bytes', v_bytes,
                           'schema', v_cfg.retention_schema));
    return jsonb_build_object('partition', v_name, 'lower', v_bounds.lower, 'upper', v_bounds.upper,
                              'mode', v_cfg.retention_mode, 'bytes', v_bytes);
end
$$;
