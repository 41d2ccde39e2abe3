create or replace function partkeeper.add_partition(p_parent regclass, p_lower timestamptz, p_upper timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Make p_parent's partition for [p_lower, p_upper) exist, named <parent><suffix> after the period
 * of p_lower (table_period: _YYYY_MM for months; partition_name shortens long parents), moving the rows of that range out of the DEFAULT partition into it. Returns
 * {"partition", "lower", "upper", "created", "rows_moved"}.
 *
 * Locks, in this order, each under lock_timeout with retries (execute_with_retry, PK005):
 *   SHARE on the parent: writers wait a few milliseconds, readers never. It closes the race in which
 *     an insert routed to the DEFAULT by the old partition set commits a row of this range after the
 *     move: ATTACH would fail ("updated partition constraint for default partition ... would be
 *     violated") or the insert would ("new row ... violates partition constraint", 23514).
 *   ACCESS EXCLUSIVE on the new table and on the DEFAULT partition (ATTACH scans the DEFAULT).
 * Never ACCESS EXCLUSIVE on the parent: the table is created standalone with a CHECK matching the
 * bounds, so ATTACH needs only SHARE UPDATE EXCLUSIVE and skips validating the new table.
 *
 * Idempotent: an existing partition with exactly these bounds is returned with "created": false.
 * PK006 when another partition overlaps the range or the name belongs to another relation.
 * The caller holds the table's advisory lock (lock_table_runs) and validates the bounds.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_name name := partkeeper.partition_name(p_parent, (partkeeper.table_period(p_parent, p_lower)).suffix);
    v_target text;
    v_existing record;
    v_lower text := partkeeper.bound_literal(p_lower, v_info.control_type);
    v_upper text := partkeeper.bound_literal(p_upper, v_info.control_type);
    v_in_range text;
    v_columns text;
    v_statements text[];
    v_counts bigint[];
    v_moved bigint := 0;
begin
    select b.partition, b.lower, b.upper into v_existing
      from partkeeper.partition_bounds(p_parent) b
     where not b.is_default and b.lower < p_upper and b.upper > p_lower
     limit 1;
    if found then
        if v_existing.lower = p_lower and v_existing.upper = p_upper then
            return jsonb_build_object('partition', v_existing.partition::text, 'lower', p_lower, 'upper', p_upper,
                                      'created', false, 'rows_moved', 0);
        end if;
        raise exception 'range [%, %) of % overlaps partition % [%, %)',
                        p_lower, p_upper, p_parent, v_existing.partition, v_existing.lower, v_existing.upper
            using errcode = 'PK006',
                  hint = 'That partition has other bounds (often made in a session with another TimeZone). '
                         'Move its rows and re-create it on month boundaries, or leave this range to it.';
    end if;

    v_target := format('%I.%I', v_info.schema_name, v_name);
    if to_regclass(v_target) is not null then
        raise exception 'relation % already exists and is not a partition of %', v_target, p_parent
            using errcode = 'PK006', hint = 'Rename or drop that relation, then run again.';
    end if;

    v_in_range := format('%I >= %s::%s and %I < %s::%s',
                         v_info.control_column, v_lower, v_info.control_type,
                         v_info.control_column, v_upper, v_info.control_type);
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_columns
      from pg_attribute a
     where a.attrelid = p_parent and a.attnum > 0 and not a.attisdropped and a.attgenerated = '';

    v_statements := array[
        format('lock table %s in share mode', p_parent),
        format('create table %s (like %s including defaults including constraints including generated'
               ' including storage including comments including compression including statistics)%s',
               v_target, p_parent, coalesce(' tablespace ' || quote_ident(v_info.tablespace), '')),
        format('alter table %s add constraint partkeeper_bounds check (%I is not null and %s)',
               v_target, v_info.control_column, v_in_range)];
    if v_info.default_partition is not null then
        v_statements := v_statements || format(
            'with moved as (delete from only %s where %s returning %s) insert into %s (%s) select %s from moved',
            v_info.default_partition, v_in_range, v_columns, v_target, v_columns, v_columns);
    end if;
    v_statements := v_statements
        || format('alter table %s attach partition %s for values from (%s) to (%s)', p_parent, v_target, v_lower, v_upper)
        || format('alter table %s drop constraint partkeeper_bounds', v_target);
    if v_info.owner <> current_user::regrole then
        v_statements := v_statements || format('alter table %s owner to %s', v_target, v_info.owner);
    end if;

    v_counts := partkeeper.execute_with_retry(v_statements, v_cfg.lock_timeout, v_cfg.lock_retries);
    if v_info.default_partition is not null then
        v_moved := v_counts[4];
    end if;

    perform partkeeper.write_log(p_parent::text, 'create_partition', v_target,
        jsonb_build_object('lower', p_lower, 'upper', p_upper, 'rows_moved', v_moved));
    return jsonb_build_object('partition', v_target, 'lower', p_lower, 'upper', p_upper,
                              'created', true, 'rows_moved', v_moved);
end
$$;
