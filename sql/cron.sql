-- The pg_cron schedule. When the pg_cron extension is installed in this database, partkeeper's
-- jobs are scheduled (or updated: re-running install never duplicates them, and keeps a schedule a
-- DBA changed with partkeeper.schedule_jobs). Without pg_cron here (PGlite, a managed database
-- without it, or an application database other than cron.database_name) install still succeeds
-- and a NOTICE says how to schedule from the pg_cron database.
do $cron$
declare
    -- names, schedule and command are partkeeper.job_definitions()', never written again here
    v_names text[] := array(select j.jobname from partkeeper.job_definitions() j);
begin
    if to_regclass('cron.job') is not null then
        perform partkeeper.schedule_jobs();
        raise notice 'partkeeper: pg_cron jobs % and % are scheduled in database %',
            array_to_string(v_names[1:cardinality(v_names) - 1], ', '), v_names[cardinality(v_names)], current_database();
    else
        -- the maintenance jobs run in this database, as the installing role (not as the superuser who
        -- pastes them); the history pruning runs in the pg_cron database itself, once for all
        raise notice '%', format(
            'partkeeper: pg_cron is not installed in database %s; no jobs scheduled (README, "Running maintenance with pg_cron"). '
            'As a superuser in the pg_cron database (cron.database_name = %s) run: %s',
            current_database(), partkeeper.cron_database(),
            (select string_agg(case when j.jobname = 'partkeeper-prune-history'
                                    then format('SELECT cron.schedule(%L, %L, %L);', j.jobname, j.schedule, j.command)
                                    else format('SELECT cron.schedule_in_database(%L, %L, %L, %L, %L);', j.jobname || '-' || current_database(),
                                                j.schedule, j.command, current_database(), current_user) end, ' ')
               from partkeeper.job_definitions() j));
    end if;
end
$cron$;
