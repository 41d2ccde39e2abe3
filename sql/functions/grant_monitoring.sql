create or replace function partkeeper.grant_monitoring(p_role regrole)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Let p_role watch partkeeper: USAGE on schema partkeeper, SELECT on its tables and the partitions
 * view, EXECUTE on status(), health(), metrics(), version(), now() and the read-only functions they
 * call, and on partition_bounds() for a table named as text (with resolve_table).
 * Nothing that changes a table or partkeeper's state. status() and health() then report every
 * registered table; the rows waiting in DEFAULT partitions of tables p_role may not maintain come
 * from the last maintenance run. Idempotent. Run it as the installing role. Errors: PK001 NULL role.
 */
begin
    if p_role is null then
        raise exception 'no role given' using errcode = 'PK001', hint = 'Pass a role name, for example ''partkeeper_monitoring''.';
    end if;
    execute format('grant usage on schema partkeeper to %s', p_role);
    execute format('grant select on all tables in schema partkeeper to %s', p_role);
    execute format('grant execute on function partkeeper.status(), partkeeper.health(bigint, bigint, bigint, interval, integer),'
                   ' partkeeper.version(), partkeeper.now(), partkeeper.partition_bounds(regclass), partkeeper.partition_bounds(text),'
                   ' partkeeper.resolve_table(text), partkeeper.qualified_name(regclass),'
                   ' partkeeper.may_maintain(regclass), partkeeper.table_info(regclass), partkeeper.config_for(regclass),'
                   ' partkeeper.table_period(regclass, timestamptz), partkeeper.period_bounds(timestamptz, text, text),'
                   ' partkeeper.horizon(regclass, timestamptz), partkeeper.horizon_target(regclass, timestamptz),'
                   ' partkeeper.coverage(regclass, timestamptz, timestamptz), partkeeper.drain_window(regclass, timestamptz),'
                   ' partkeeper.key_value(text, regtype), partkeeper.bound_literal(timestamptz, regtype), partkeeper.cron_jobs(), partkeeper.job_definitions(text, interval),'
                   ' partkeeper.worst_status(text[]), partkeeper.worst_check_status(text[]), partkeeper.next_expiry(regclass), partkeeper.retention_scope(regclass), partkeeper.log_counts(), partkeeper.metrics(),'
                   ' partkeeper.citus_table(regclass), partkeeper.relation_size(regclass), partkeeper.rows_estimate(regclass),'
                   ' partkeeper.conversion_next(partkeeper.conversions) to %s', p_role);
end
$$;
