create or replace function partkeeper.grant_maintenance(p_role regrole)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Let p_role run maintenance and create partitions of registered tables, and read partkeeper's
 * state, without owning any table: USAGE on schema partkeeper, EXECUTE on the maintenance entry
 * points (SECURITY DEFINER), the public wrappers, status() and health(), and SELECT on config, log,
 * pending, last_run and the partitions view: enough for maintenance and for monitoring.
 * It cannot register tables or change settings. Idempotent. Run it as the installing role.
 */
begin
    if p_role is null then
        raise exception 'no role given' using errcode = 'PK001', hint = 'Pass a role name, for example ''partkeeper_maintenance''.';
    end if;
    execute format('grant usage on schema partkeeper to %s', p_role);
    execute format('grant execute on function partkeeper.maintain_table(regclass, boolean, integer), partkeeper.maintain_all(),'
                   ' partkeeper.create_partition(regclass, date), partkeeper.now(), partkeeper.version(),'
                   ' public.create_monthly_partition(text, date), public.ensure_livechat_partitions(),'
                   ' public.maintain_livechat_partitions() to %s', p_role);
    execute format('grant execute on function partkeeper.status(), partkeeper.health(bigint, bigint, bigint, interval, integer),'
                   ' partkeeper.partition_bounds(regclass) to %s', p_role);
    execute format('grant execute on procedure partkeeper.run_maintenance() to %s', p_role);
    execute format('grant select on partkeeper.config, partkeeper.log, partkeeper.pending, partkeeper.last_run, partkeeper.partitions to %s', p_role);
end
$$;
