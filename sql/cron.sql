-- The pg_cron schedule. When the pg_cron extension is installed in this database, partkeeper's
-- jobs are scheduled (or updated: re-running install never duplicates them, and keeps a schedule a
-- DBA changed with partkeeper.schedule_jobs). Without pg_cron here (PGlite, a managed database
-- without it, or an application database other than cron.database_name) install still succeeds
-- and a NOTICE says how to schedule from the pg_cron database.
do $cron$
begin
    if to_regclass('cron.job') is not null then
        perform partkeeper.schedule_jobs();
        raise notice 'partkeeper: pg_cron jobs partkeeper-frequent, partkeeper-monthly and partkeeper-prune-history are scheduled in database %', current_database();
    else
        raise notice '%', format(
            'partkeeper: pg_cron is not installed in database %s; no jobs scheduled. From the pg_cron database '
            '(cron.database_name = %s) run: SELECT cron.schedule_in_database(%L, ''*/5 * * * *'', '
            '''CALL partkeeper.run_maintenance()'', %L); (README, "Running maintenance with pg_cron")',
            current_database(), partkeeper.cron_database(),
            'partkeeper-frequent-' || current_database(), current_database());
    end if;
end
$cron$;
