create or replace function partkeeper.cron_jobs()
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * partkeeper's pg_cron jobs in this database with their latest run, as a JSON array of
 * {jobname, schedule, command, database, active, last_status, last_start, last_end, last_message,
 *  recent_failures (failed runs among the last 10)}; NULL when pg_cron is not installed in this
 * database (it lives only in the database named by cron.database_name). Read-only.
 */
declare
    v_jobs jsonb;
begin
    if to_regclass('cron.job') is null then
        return null;
    end if;
    execute $q$
        select coalesce(jsonb_agg(jsonb_build_object(
                   'jobname', j.jobname, 'schedule', j.schedule, 'command', j.command, 'database', j.database,
                   'active', j.active, 'last_status', r.status, 'last_start', r.start_time, 'last_end', r.end_time,
                   'last_message', r.return_message,
                   'recent_failures', (select count(*) from (select d.status from cron.job_run_details d
                                                              where d.jobid = j.jobid order by d.runid desc limit 10) x
                                        where x.status = 'failed')) order by j.jobname), '[]')
          from cron.job j
          left join lateral (select d.status, d.start_time, d.end_time, d.return_message
                               from cron.job_run_details d where d.jobid = j.jobid
                              order by d.runid desc limit 1) r on true
         where j.jobname like 'partkeeper-%'
    $q$ into v_jobs;
    return v_jobs;
end
$$;
