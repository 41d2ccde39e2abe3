create or replace function partkeeper.configure(
    p_parent regclass,
    p_time_zone text default null,
    p_premake integer default null,
    p_drain_window_back interval default null,
    p_drain_window_ahead interval default null,
    p_lock_timeout interval default null,
    p_lock_retries integer default null,
    p_max_create_per_run integer default null,
    p_enabled boolean default null)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Change the settings of a registered table; NULL leaves a setting as it is. Returns the new
 * settings as JSON and logs the change. Runs with the caller's rights: the caller must own the
 * table (PK007). Errors change nothing: PK004 not registered; PK001 for an invalid value (unknown
 * zone, a zone other than UTC for a timestamp/date key, a zone change once the table has
 * partitions, values outside the limits of partkeeper.config's CHECK constraints).
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_old partkeeper.config;
    v_new partkeeper.config;
    v_constraint text;
begin
    select * into v_old from partkeeper.config c where c.parent = p_parent;
    if not found then
        raise exception 'table % is not managed by partkeeper', p_parent
            using errcode = 'PK004', hint = format('Register it first: SELECT partkeeper.register_table(%L);', p_parent::text);
    end if;
    if not pg_has_role(current_user, v_info.owner::oid, 'USAGE') then
        raise exception 'role % does not own %', current_user, p_parent
            using errcode = 'PK007', hint = format('Configure it as its owner (%s).', v_info.owner);
    end if;

    if p_time_zone is not null and p_time_zone is distinct from v_old.time_zone then
        begin
            perform now() at time zone p_time_zone;
        exception when invalid_parameter_value then
            raise exception 'unknown time zone %', quote_literal(p_time_zone)
                using errcode = 'PK001', hint = 'Use a name from pg_timezone_names, for example ''Europe/Berlin'' or ''UTC''.';
        end;
        if v_info.control_type <> 'timestamp with time zone'::regtype and p_time_zone <> 'UTC' then
            raise exception 'table % is partitioned by % of type %, which has no time zone', p_parent, v_info.control_column, v_info.control_type
                using errcode = 'PK001', hint = 'Only timestamptz keys take a time zone; timestamp and date keys use their own wall time.';
        end if;
        if exists (select from partkeeper.partition_bounds(p_parent) b where not b.is_default) then
            raise exception 'table % already has partitions; its time zone cannot change', p_parent
                using errcode = 'PK001', hint = 'Month boundaries of the new zone would overlap the existing partitions. Set the zone before the first partition is made.';
        end if;
    end if;

    begin
        update partkeeper.config c set
            time_zone          = coalesce(p_time_zone, c.time_zone),
            premake            = coalesce(p_premake, c.premake),
            drain_window_back  = coalesce(p_drain_window_back, c.drain_window_back),
            drain_window_ahead = coalesce(p_drain_window_ahead, c.drain_window_ahead),
            lock_timeout       = coalesce(p_lock_timeout, c.lock_timeout),
            lock_retries       = coalesce(p_lock_retries, c.lock_retries),
            max_create_per_run = coalesce(p_max_create_per_run, c.max_create_per_run),
            enabled            = coalesce(p_enabled, c.enabled),
            updated_at         = clock_timestamp()
         where c.parent = p_parent
        returning * into v_new;
    exception when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception 'invalid setting for %: %', p_parent, v_constraint
            using errcode = 'PK001', hint = 'See the limits of each setting in the README, "Configuration".';
    end;

    perform partkeeper.write_log(p_parent::text, 'configure', null,
        jsonb_build_object('before', to_jsonb(v_old), 'after', to_jsonb(v_new)));
    return to_jsonb(v_new);
end
$$;
