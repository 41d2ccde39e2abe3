-- Replaces what the original design left in public, so that the documented names are partkeeper's:
--  * a trigger ensure_partition_exists on livechat_messages itself (cloned onto every partition, it
--    runs for every row and cannot create partitions anyway); partkeeper's own lives on the DEFAULT
--    partition only;
--  * functions named like the public interface that partkeeper did not create (recognised by
--    their comment): CREATE OR REPLACE cannot change their return types. A function another object
--    depends on is not dropped (no CASCADE): install then stops with PostgreSQL's dependency error.
do $adopt$
declare
    v_table regclass := to_regclass('public.livechat_messages');
    r record;
begin
    if v_table is not null then
        for r in
            select t.tgname, t.tgfoid::regprocedure as func
              from pg_catalog.pg_trigger t
             where t.tgrelid = v_table and t.tgname = 'ensure_partition_exists' and not t.tgisinternal
               and t.tgfoid <> coalesce(to_regprocedure('partkeeper.ensure_partition_exists()'), 0)
        loop
            execute format('drop trigger %I on %s', r.tgname, v_table);
            raise notice 'partkeeper: dropped the original trigger ensure_partition_exists on % (function %); the DEFAULT partition takes its place',
                v_table, r.func;
        end loop;
    end if;

    for r in
        select p.oid::regprocedure as func, p.oid::regprocedure::text as signature
          from pg_catalog.pg_proc p
         where p.pronamespace = 'public'::regnamespace
           and p.proname in ('create_monthly_partition', 'ensure_livechat_partitions',
                             'maintain_livechat_partitions', 'ensure_partition_exists')
           and coalesce(obj_description(p.oid, 'pg_proc'), '') not like 'partkeeper:%'
    loop
        execute format('drop function %s', r.func);
        raise notice 'partkeeper: replaced the original function %', r.signature;
    end loop;
end
$adopt$;
