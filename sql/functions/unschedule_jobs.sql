create or replace function partkeeper.unschedule_jobs()
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Remove partkeeper's pg_cron jobs (partkeeper-*) of the calling role from this database's
 * pg_cron. Returns how many were removed; 0 when there were none or pg_cron is not installed here.
 * Maintenance itself stays callable; schedule_jobs() brings the jobs back.
 */
declare
    v_count integer := 0;
    v_name text;
begin
    if to_regclass('cron.job') is null then
        return 0;
    end if;
    for v_name in execute 'select jobname from cron.job where jobname like ''partkeeper-%'' and username = current_user' loop
        execute 'select cron.unschedule($1)' using v_name;
        v_count := v_count + 1;
    end loop;
    if v_count > 0 then
        perform partkeeper.write_log(null, 'unschedule_jobs', null, jsonb_build_object('removed', v_count));
    end if;
    return v_count;
end
$$;
