-- Migration 3: maintenance with the table owner's rights, steps that fail alone, and what retention
-- retired. Immutable once released.
--  * config.table_name: the table's schema-qualified name when it was last seen, so a registered
--    table that was dropped is still reported by name;
--  * config.retired_before: the end of the newest range retention retired; nothing below it is
--    made again (gap healing, the drain window and premake stop there);
--  * config.template: a table whose per-partition settings (storage parameters, persistence,
--    replica identity) new partitions copy; NULL: the newest partition's;
--  * log.parent: the table's OID, for the row-level security of the log;
--  * last_run.inputs: what the last complete run saw, so an unchanged table is settled cheaply;
--  * type statement: a statement maintenance runs as a table's owner (execute_as_owner);
--  * the per-row trigger ensure_partition_exists of DEFAULT partitions is gone: maintenance finds
--    waiting rows by reading the DEFAULT partition (README, "How the guarantee works").
do $migration$
declare
    r record;
begin
    if exists (select from partkeeper.schema_version where version = 3) then
        return;
    end if;

    alter table partkeeper.config
        add column table_name text,
        add column retired_before timestamptz,
        add column template regclass,
        -- a window of centuries makes every run plan that many periods; NOT VALID: an existing
        -- setting beyond it stays until it is changed
        add constraint config_drain_window_limit
            check (drain_window_back <= interval '100 years' and drain_window_ahead <= interval '100 years') not valid;
    update partkeeper.config c
       set table_name = (select format('%I.%I', n.nspname, k.relname)
                           from pg_catalog.pg_class k join pg_catalog.pg_namespace n on n.oid = k.relnamespace
                          where k.oid = c.parent);
    alter table partkeeper.log add column parent oid;
    -- what a complete run found (its period, the partition set, the next expiry): while none of it
    -- has changed, the next run has nothing to do and says so without working it out again
    alter table partkeeper.last_run add column inputs jsonb;

    -- one statement of a step, and whether it runs with session_replication_role = replica
    create type partkeeper.statement as (sql text, replica boolean);

    -- the trigger's SECURITY DEFINER function ran for every row of every DEFAULT partition
    for r in
        select t.tgrelid::regclass as rel
          from pg_catalog.pg_trigger t
         where t.tgname = 'ensure_partition_exists'
           and t.tgfoid = coalesce(to_regprocedure('partkeeper.ensure_partition_exists()'), 0)
    loop
        begin
            execute format('drop trigger ensure_partition_exists on %s', r.rel);
        exception when insufficient_privilege then
            raise warning 'partkeeper: could not drop the old trigger ensure_partition_exists on % (not its owner); its owner can: DROP TRIGGER ensure_partition_exists ON %;', r.rel, r.rel;
        end;
    end loop;
    if to_regprocedure('partkeeper.ensure_partition_exists()') is not null
       and not exists (select from pg_catalog.pg_trigger t where t.tgfoid = to_regprocedure('partkeeper.ensure_partition_exists()')) then
        drop function partkeeper.ensure_partition_exists();
    end if;
    -- functions whose signature or result changed (CREATE OR REPLACE cannot change those)
    for r in
        select p.oid::regprocedure as f, p.prokind
          from pg_catalog.pg_proc p
         where p.oid in (to_regprocedure('partkeeper.execute_with_retry(text[], interval, integer)'),
                         to_regprocedure('partkeeper.default_periods(regclass)'),
                         to_regprocedure('partkeeper.write_log(text, text, text, jsonb)'),
                         to_regprocedure('partkeeper.expired_partitions(regclass)'),
                         to_regprocedure('partkeeper.run_maintenance()'),
                         to_regprocedure('partkeeper.coverage(regclass, timestamptz)'),
                         to_regprocedure('partkeeper.configure(regclass, text, integer, interval, interval, interval, integer, integer, boolean, text, interval, text, name, boolean)'))
    loop
        execute format('drop %s %s', case when r.prokind = 'p' then 'procedure' else 'function' end, r.f);
    end loop;

    insert into partkeeper.schema_version (version, name) values (3, 'owner rights, steps, retired ranges');
end
$migration$;
