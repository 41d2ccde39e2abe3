create or replace function partkeeper.grant_maintenance(p_role regrole)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Let p_role run maintenance and create partitions of registered tables, and read partkeeper's
 * state, without owning any table: USAGE on schema partkeeper, EXECUTE on the maintenance entry
 * points (SECURITY DEFINER) and the public wrappers, SELECT on config, log, pending and last_run.
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
    execute format('grant select on partkeeper.config, partkeeper.log, partkeeper.pending, partkeeper.last_run to %s', p_role);
end
$$;
