create or replace function partkeeper.unschedule_jobs()
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Remove the pg_cron jobs schedule_jobs() made: those of the calling role named as in
 * job_definitions() (partkeeper-frequent, partkeeper-monthly, partkeeper-prune-history) that run in
 * this database. Jobs a DBA scheduled by hand for other databases (partkeeper-frequent-app with
 * cron.schedule_in_database, README) are left alone. Returns how many were removed; 0 when there
 * were none or pg_cron is not installed here. Maintenance itself stays callable; schedule_jobs()
 * brings the jobs back.
 */
declare
    v_count integer := 0;
    v_name text;
begin
    if to_regclass('cron.job') is null then
        return 0;
    end if;
    for v_name in execute 'select j.jobname from cron.job j where j.username = current_user and j.database = current_database()
                             and j.jobname in (select d.jobname from partkeeper.job_definitions() d)'
    loop
        execute 'select cron.unschedule($1)' using v_name;
        v_count := v_count + 1;
    end loop;
    if v_count > 0 then
        perform partkeeper.write_log(null, 'unschedule_jobs', null, jsonb_build_object('removed', v_count));
    end if;
    return v_count;
end
$$;
