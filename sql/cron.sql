-- The pg_cron schedule. When the pg_cron extension is installed in this database, partkeeper's
-- jobs are scheduled (or updated: re-running install never duplicates them, and keeps a schedule a
-- DBA changed with partkeeper.schedule_jobs). Without pg_cron here (PGlite, a managed database
-- without it, or an application database other than cron.database_name) install still succeeds
-- and a NOTICE says how to schedule from the pg_cron database.
do $cron$
declare
    -- names, schedule and command are partkeeper.job_definitions()', never written again here
    v_names text[] := array(select j.jobname from partkeeper.job_definitions() j);
    v_frequent record;
begin
    if to_regclass('cron.job') is not null then
        perform partkeeper.schedule_jobs();
        raise notice 'partkeeper: pg_cron jobs % and % are scheduled in database %',
            array_to_string(v_names[1:cardinality(v_names) - 1], ', '), v_names[cardinality(v_names)], current_database();
    else
        select * into v_frequent from partkeeper.job_definitions() j where j.jobname = 'partkeeper-frequent';
        raise notice '%', format(
            'partkeeper: pg_cron is not installed in database %s; no jobs scheduled. From the pg_cron database '
            '(cron.database_name = %s) run: SELECT cron.schedule_in_database(%L, %L, %L, %L); (README, "Running maintenance with pg_cron")',
            current_database(), partkeeper.cron_database(),
            v_frequent.jobname || '-' || current_database(), v_frequent.schedule, v_frequent.command, current_database());
    end if;
end
$cron$;
