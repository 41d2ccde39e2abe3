create or replace function partkeeper.grant_maintenance(p_role regrole)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Let p_role use partkeeper on the tables it may maintain: everything grant_monitoring gives, plus
 * EXECUTE on registration, configuration, maintenance and partition creation (partkeeper.* and the
 * public wrappers), INSERT, UPDATE, DELETE on partkeeper's state tables and INSERT on its log and
 * archive records, which row-level security confines to tables whose owning role p_role is a
 * member of (may_maintain).
 * It gives no right on any table: maintenance runs every statement as the table's owner, so
 * p_role maintains exactly the tables it owns or whose owning role it is a member of (GRANT owner
 * TO p_role), and a superuser maintains all. A role made NOINHERIT keeps no right of the owner's
 * outside partkeeper: it cannot read or change rows itself. Idempotent. Run it as the installing role.
 * Errors: PK001 NULL role.
 */
begin
    if p_role is null then
        raise exception 'no role given' using errcode = 'PK001', hint = 'Pass a role name, for example ''partkeeper_maintenance''.';
    end if;
    perform partkeeper.grant_monitoring(p_role);
    execute format('grant execute on all functions in schema partkeeper to %s', p_role);
    execute format('grant execute on procedure partkeeper.run_maintenance(regclass, boolean, jsonb),'
                   ' partkeeper.run_maintenance(text, boolean, jsonb) to %s', p_role);
    execute format('grant execute on procedure partkeeper.convert_fill(regclass, integer, interval, integer, jsonb) to %s', p_role);
    execute format('grant execute on function public.create_monthly_partition(text, date), public.ensure_livechat_partitions(),'
                   ' public.maintain_livechat_partitions() to %s', p_role);
    execute format('grant insert, update, delete on partkeeper.config, partkeeper.pending, partkeeper.last_run,'
                   ' partkeeper.interval_history, partkeeper.conversions to %s', p_role);
    -- the log and the archive records are append-only
    execute format('grant insert on partkeeper.log, partkeeper.archives to %s', p_role);
    execute format('grant usage on all sequences in schema partkeeper to %s', p_role);
end
$$;
