-- Nothing that creates, moves or drops is executable by PUBLIC. The installing role owns every
-- object and keeps all rights; other roles get what partkeeper.grant_maintenance() or
-- partkeeper.grant_monitoring() gives (README, "Roles"). Re-run on every install: functions created
-- since the last install start with PostgreSQL's default EXECUTE for PUBLIC.
revoke all on schema partkeeper from public;
revoke all on all tables in schema partkeeper from public;
revoke all on all sequences in schema partkeeper from public;
revoke execute on all functions in schema partkeeper from public;
revoke execute on all procedures in schema partkeeper from public;
revoke execute on function public.create_monthly_partition(text, date) from public;
revoke execute on function public.ensure_livechat_partitions() from public;
revoke execute on function public.maintain_livechat_partitions() from public;

-- Row-level security of partkeeper's state: every role with SELECT reads all of it; a role with
-- write rights (grant_maintenance) changes only the state of tables it may maintain (the owner, a
-- member of the owning role, a superuser), and writes no row that concerns no table (those are the
-- installing role's: it owns these tables and is not subject to it). The log is also stamped by
-- log_stamp (who, when, which table). A conversion concerns two tables of one owner, either of
-- which may have been dropped by hand: its row is the state of both.
do $rls$
declare
    v_table text;
    v_may text;
begin
    foreach v_table in array array['config', 'pending', 'last_run', 'interval_history', 'archives', 'log', 'conversions'] loop
        execute format('alter table partkeeper.%I enable row level security', v_table);
        if exists (select from pg_catalog.pg_policy p where p.polrelid = ('partkeeper.' || v_table)::regclass and p.polname = 'read_all') then
            execute format('drop policy read_all on partkeeper.%I', v_table);
        end if;
        execute format('create policy read_all on partkeeper.%I for select using (true)', v_table);
        if exists (select from pg_catalog.pg_policy p where p.polrelid = ('partkeeper.' || v_table)::regclass and p.polname = 'write_maintained') then
            execute format('drop policy write_maintained on partkeeper.%I', v_table);
        end if;
        v_may := case when v_table = 'conversions'
                      then '(partkeeper.may_maintain(parent::oid::regclass) or partkeeper.may_maintain(twin::oid::regclass))'
                      else 'partkeeper.may_maintain(parent::oid::regclass)' end;
        execute format('create policy write_maintained on partkeeper.%I for all using (%s) with check (parent is not null and %s)',
                       v_table, v_may, v_may);
    end loop;
end
$rls$;

-- Roles given rights with grant_maintenance() or grant_monitoring() keep them across upgrades:
-- both are granted again, so functions added since (which status(), health() or maintenance may
-- now call) are theirs too. Recognised by what each grants directly (not through membership):
-- EXECUTE on maintain_table() (every release granted it), or on status() without it.
do $regrant$
declare
    r record;
begin
    for r in
        select g.grantee::regrole as role,
               exists (select from pg_catalog.aclexplode((select p.proacl from pg_catalog.pg_proc p
                                                          where p.oid = 'partkeeper.maintain_table(regclass, boolean, integer)'::regprocedure)) m
                        where m.grantee = g.grantee and m.privilege_type = 'EXECUTE') as maintains
          from pg_catalog.aclexplode((select p.proacl from pg_catalog.pg_proc p where p.oid = 'partkeeper.status()'::regprocedure)) g
         where g.privilege_type = 'EXECUTE' and g.grantee <> 0
           and g.grantee <> (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'partkeeper')
         order by 1
    loop
        if r.maintains then
            perform partkeeper.grant_maintenance(r.role);
        else
            perform partkeeper.grant_monitoring(r.role);
        end if;
    end loop;
end
$regrant$;
