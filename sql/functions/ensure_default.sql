create or replace function partkeeper.ensure_default(p_parent regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Make sure p_parent has its safety net: a DEFAULT partition (named partition_name(p_parent,
 * '_default') when created here) carrying the ensure_partition_exists trigger, so an insert whose
 * range has no partition yet lands there instead of failing, and is recorded.
 * The DEFAULT is created standalone and ATTACHed (SHARE UPDATE EXCLUSIVE on the parent), the
 * trigger takes SHARE ROW EXCLUSIVE on the DEFAULT only; both under lock_timeout with retries (PK005).
 * Returns {"default_partition", "created_default", "created_trigger", "trigger_enabled"}.
 * Idempotent: an existing DEFAULT partition, whatever its name, is kept; so is an existing trigger.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_default regclass := v_info.default_partition;
    v_target text;
    v_created_default boolean := false;
    v_created_trigger boolean := false;
    v_enabled "char";
begin
    if v_default is null then
        v_target := format('%I.%I', v_info.schema_name, partkeeper.partition_name(p_parent, '_default'));
        if to_regclass(v_target) is not null then
            raise exception 'relation % already exists and is not the DEFAULT partition of %', v_target, p_parent
                using errcode = 'PK006', hint = 'Attach it as the DEFAULT partition, or rename it, then run again.';
        end if;
        perform partkeeper.execute_with_retry(array[
            format('create table %s (like %s including defaults including constraints including generated'
                   ' including storage including comments including compression including statistics)%s',
                   v_target, p_parent, coalesce(' tablespace ' || quote_ident(v_info.tablespace), '')),
            format('alter table %s attach partition %s default', p_parent, v_target)]
            || case when v_info.owner <> current_user::regrole
                    then array[format('alter table %s owner to %s', v_target, v_info.owner)] else '{}'::text[] end,
            v_cfg.lock_timeout, v_cfg.lock_retries);
        v_default := v_target::regclass;
        v_created_default := true;
        perform partkeeper.write_log(p_parent::text, 'create_default', v_target, '{}');
    end if;

    select t.tgenabled into v_enabled
      from pg_trigger t
     where t.tgrelid = v_default and t.tgname = 'ensure_partition_exists';
    if not found then
        perform partkeeper.execute_with_retry(array[
            format('create trigger ensure_partition_exists before insert on %s for each row'
                   ' execute function partkeeper.ensure_partition_exists(%L, %L)',
                   v_default, v_info.control_column, v_info.control_type)],
            v_cfg.lock_timeout, v_cfg.lock_retries);
        v_created_trigger := true;
        v_enabled := 'O';
        perform partkeeper.write_log(p_parent::text, 'create_trigger', v_default::text, '{}');
    end if;

    return jsonb_build_object('default_partition', v_default::text,
                              'created_default', v_created_default,
                              'created_trigger', v_created_trigger,
                              'trigger_enabled', v_enabled <> 'D');
end
$$;
