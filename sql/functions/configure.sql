create or replace function partkeeper.configure(
    p_parent regclass,
    p_time_zone text default null,
    p_premake integer default null,
    p_drain_window_back interval default null,
    p_drain_window_ahead interval default null,
    p_lock_timeout interval default null,
    p_lock_retries integer default null,
    p_max_create_per_run integer default null,
    p_enabled boolean default null,
    p_part_interval text default null,
    p_retention interval default null,
    p_retention_mode text default null,
    p_retention_schema name default null,
    p_require_archive boolean default null,
    p_template regclass default null)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * Change the settings of a registered table; NULL leaves a setting as it is (p_retention =>
 * '0' removes retention). Returns the new settings as JSON and logs the change.
 * p_part_interval (day, week, month, quarter, year) applies going forward: partitions already made
 * stay; new ones follow the new interval from the end of the last existing partition (the first
 * period is clipped there), so coverage stays contiguous with no overlap (table_period).
 * p_template names a table whose per-partition settings new partitions copy (partition_ddl).
 * Runs with the caller's rights: the caller must own the table, be a member of the owning role or
 * a superuser (PK007). Errors change nothing:
 * PK004 not registered; PK001 for an invalid value (unknown zone or interval, a zone other than
 * UTC for a timestamp/date key, a zone change once the table has partitions, a retention_schema
 * that does not exist, values outside the limits of partkeeper.config's CHECK constraints).
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_old partkeeper.config;
    v_new partkeeper.config;
    v_constraint text;
    v_since timestamptz;
begin
    select * into v_old from partkeeper.config c where c.parent = p_parent;
    if not found then
        raise exception 'table % is not managed by partkeeper', partkeeper.qualified_name(p_parent)
            using errcode = 'PK004', hint = format('Register it first: SELECT partkeeper.register_table(%L);', partkeeper.qualified_name(p_parent));
    end if;
    if not partkeeper.may_maintain(p_parent) then
        raise exception 'role % does not own %', current_user, partkeeper.qualified_name(p_parent)
            using errcode = 'PK007', hint = format('Configure it as its owner (%s), a member of that role, or a superuser.', v_info.owner);
    end if;
    if p_template is not null and (p_template = p_parent or not partkeeper.may_maintain(p_template)
                                   or (select c.relkind from pg_class c where c.oid = p_template) not in ('r', 'p')) then
        raise exception 'table % cannot be the template of %', p_template, partkeeper.qualified_name(p_parent)
            using errcode = 'PK001', hint = 'Name a plain table the same role owns; new partitions copy its storage parameters, persistence and replica identity.';
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

    if p_retention_schema is not null and not exists (select from pg_namespace n where n.nspname = p_retention_schema) then
        raise exception 'schema % does not exist', quote_ident(p_retention_schema)
            using errcode = 'PK001', hint = 'Create the schema for detached partitions first.';
    end if;
    if p_retention_schema is not null
       and not has_schema_privilege(v_info.owner, (select n.oid from pg_namespace n where n.nspname = p_retention_schema), 'CREATE') then
        raise exception 'the owner of % (%) may not create tables in schema %', partkeeper.qualified_name(p_parent), v_info.owner, quote_ident(p_retention_schema)
            using errcode = 'PK001', hint = format('Detached partitions move there as the table''s owner: GRANT CREATE ON SCHEMA %I TO %s;', p_retention_schema, v_info.owner);
    end if;
    if p_part_interval is not null and p_part_interval is distinct from v_old.part_interval then
        if p_part_interval not in ('day', 'week', 'month', 'quarter', 'year') then
            raise exception 'unknown partition interval %', quote_literal(p_part_interval)
                using errcode = 'PK001', hint = 'Use day, week, month, quarter or year.';
        end if;
        select max(b.upper) into v_since from partkeeper.partition_bounds(p_parent) b where not b.is_default and isfinite(b.upper);
        if v_since is not null and v_since > coalesce(v_old.interval_since, '-infinity') then
            -- partitions were made under the old interval: it keeps governing everything before v_since
            insert into partkeeper.interval_history (parent, until, part_interval) values (p_parent, v_since, v_old.part_interval);
        else
            -- no partition was made under the current interval: it is simply replaced
            v_since := v_old.interval_since;
        end if;
    end if;

    begin
        update partkeeper.config c set
            part_interval      = coalesce(p_part_interval, c.part_interval),
            interval_since     = case when p_part_interval is null then c.interval_since else v_since end,
            retention          = case when p_retention = interval '0' then null else coalesce(p_retention, c.retention) end,
            retention_mode     = coalesce(p_retention_mode, c.retention_mode),
            retention_schema   = coalesce(p_retention_schema, c.retention_schema),
            require_archive    = coalesce(p_require_archive, c.require_archive),
            template           = coalesce(p_template, c.template),
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

    perform partkeeper.write_log(p_parent, 'configure', null,
        jsonb_build_object('before', to_jsonb(v_old), 'after', to_jsonb(v_new)));
    return to_jsonb(v_new);
end
$$;
