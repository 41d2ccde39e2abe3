-- partkeeper: removal. Apply with, from the project root (or `partkeeper uninstall`):
--   psql -v ON_ERROR_STOP=1 -f sql/uninstall.sql
-- Removes what install made: partkeeper's pg_cron jobs of this database (those schedule_jobs() made),
-- the original interface's functions in public that are partkeeper's, and schema partkeeper with
-- every function, view, table of state (config, log, archives records...) and grant in it.
-- Keeps every table it managed, with its partitions (the DEFAULT ones included) and rows: they stay
-- ordinary partitioned tables, owned as before. One transaction: it completes or changes nothing.
-- Refuses with PK013 when an object outside partkeeper depends on it (a view on
-- partkeeper.partitions, say), naming them, since dropping the schema would drop those too; and
-- while an online conversion is under way: its capture trigger, in the table's schema, would go on
-- copying every write with nothing left to end it. Finish or undo each first.
-- Run it as the role that installed partkeeper (it owns the schema) or a superuser. Idempotent:
-- without partkeeper it only says so.
begin;
-- not while an install or another uninstall runs
do $$ begin perform pg_catalog.pg_advisory_xact_lock(1886088052, 0); end $$;

do $uninstall$
declare
    v_ns oid := pg_catalog.to_regnamespace('partkeeper');
    v_dependents text;
    v_tables text;
    v_conversions text;
    v_ends text;
    v_jobs integer := 0;
    v_messages text := pg_catalog.current_setting('client_min_messages');
    r record;
begin
    if v_ns is null then
        raise notice 'partkeeper: not installed in database %; nothing to remove', pg_catalog.current_database();
        return;
    end if;

    -- what lives outside the schema and would go with it: views, functions, defaults, constraints,
    -- triggers of other schemas that use partkeeper's objects
    select pg_catalog.string_agg(distinct pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
      into v_dependents
      from pg_catalog.pg_depend d
     where d.deptype = 'n'
       and (d.refclassid, d.refobjid) in (
             select 'pg_catalog.pg_class'::regclass, c.oid from pg_catalog.pg_class c where c.relnamespace = v_ns
             union all
             select 'pg_catalog.pg_proc'::regclass, p.oid from pg_catalog.pg_proc p where p.pronamespace = v_ns
             union all
             select 'pg_catalog.pg_type'::regclass, t.oid from pg_catalog.pg_type t where t.typnamespace = v_ns)
       and coalesce(
             case d.classid
               when 'pg_catalog.pg_class'::regclass then (select c.relnamespace from pg_catalog.pg_class c where c.oid = d.objid)
               when 'pg_catalog.pg_proc'::regclass then (select p.pronamespace from pg_catalog.pg_proc p where p.oid = d.objid)
               when 'pg_catalog.pg_type'::regclass then (select t.typnamespace from pg_catalog.pg_type t where t.oid = d.objid)
               when 'pg_catalog.pg_rewrite'::regclass then (select c.relnamespace from pg_catalog.pg_rewrite w
                                                            join pg_catalog.pg_class c on c.oid = w.ev_class where w.oid = d.objid)
               when 'pg_catalog.pg_trigger'::regclass then (select c.relnamespace from pg_catalog.pg_trigger g
                                                            join pg_catalog.pg_class c on c.oid = g.tgrelid where g.oid = d.objid)
               when 'pg_catalog.pg_attrdef'::regclass then (select c.relnamespace from pg_catalog.pg_attrdef a
                                                            join pg_catalog.pg_class c on c.oid = a.adrelid where a.oid = d.objid)
               when 'pg_catalog.pg_constraint'::regclass then (select c.relnamespace from pg_catalog.pg_constraint k
                                                               join pg_catalog.pg_class c on c.oid = k.conrelid where k.oid = d.objid)
               when 'pg_catalog.pg_policy'::regclass then (select c.relnamespace from pg_catalog.pg_policy o
                                                           join pg_catalog.pg_class c on c.oid = o.polrelid where o.oid = d.objid)
             end, 0) <> v_ns;
    if v_dependents is not null then
        raise exception 'partkeeper cannot be removed: objects outside schema partkeeper depend on it: %', v_dependents
            using errcode = 'PK013',
                  hint = 'Nothing was changed. Drop or change those objects first (they would be dropped with the schema), then run the uninstall again.';
    end if;

    -- a conversion's trigger and its function live in the table's schema and outlive partkeeper's
    if pg_catalog.to_regclass('partkeeper.conversions') is not null then
        select pg_catalog.string_agg(pg_catalog.format('%s (step %s)', c.table_name, c.step), ', ' order by c.table_name),
               pg_catalog.string_agg(pg_catalog.format('partkeeper %s %s --finish (or --undo)',
                                                       case when c.direction = 'unpartition' then 'unpartition' else 'convert' end, c.table_name),
                                     '; ' order by c.table_name)
          into v_conversions, v_ends
          from partkeeper.conversions c where c.step <> 'finished';
    end if;
    if v_conversions is not null then
        raise exception 'partkeeper cannot be removed: online conversions are under way: %', v_conversions
            using errcode = 'PK013',
                  hint = pg_catalog.format('Nothing was changed. Their triggers copy every write until partkeeper ends them: '
                                           'finish each (it runs the steps left, then finish) or undo it, then run the uninstall again: %s.', v_ends);
    end if;

    select pg_catalog.string_agg(c.table_name, ', ' order by c.table_name) into v_tables from partkeeper.config c;

    if pg_catalog.to_regclass('cron.job') is not null then
        v_jobs := partkeeper.unschedule_jobs();
    end if;

    for r in
        select p.oid::regprocedure as func
          from pg_catalog.pg_proc p
         where p.pronamespace = 'public'::regnamespace
           and p.proname in ('create_monthly_partition', 'ensure_livechat_partitions', 'maintain_livechat_partitions')
           and coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') like 'partkeeper:%'
    loop
        execute pg_catalog.format('drop function %s', r.func);
    end loop;

    -- its objects, listed one by one in a NOTICE otherwise, are what this script is about
    perform pg_catalog.set_config('client_min_messages', 'warning', true);
    drop schema partkeeper cascade;
    perform pg_catalog.set_config('client_min_messages', v_messages, true);

    raise notice '%', pg_catalog.format(
        'partkeeper: removed from database %s (schema partkeeper, its functions and state, the public wrappers, %s pg_cron job(s)). '
        'Kept, with every partition and row: %s. Jobs scheduled for this database from another one stay there: '
        'in the pg_cron database run SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE ''partkeeper-%%'' AND database = %L;',
        pg_catalog.current_database(), v_jobs, coalesce(v_tables, 'no managed table'), pg_catalog.current_database());
end
$uninstall$;
commit;
