create or replace function partkeeper.schedule_jobs(p_frequent text default null, p_keep_history interval default null)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Schedule partkeeper's pg_cron jobs in this database (which must be cron.database_name, where
 * the pg_cron extension lives), under stable names, so calling it again updates and never
 * duplicates (cron.schedule replaces a job of the same name and user):
 * the jobs partkeeper.job_definitions() defines: partkeeper-frequent (p_frequent, default every
 * 5 minutes) and partkeeper-monthly both CALL partkeeper.run_maintenance(), which keeps the premake
 * horizon and drains DEFAULT partitions (a run with nothing to do takes no lock on any table; it
 * commits after each table, so locks stay short); partkeeper-prune-history deletes
 * cron.job_run_details rows of partkeeper-* jobs older than p_keep_history (default 7 days), a table
 * that grows forever otherwise.
 * NULL arguments keep what an existing job has (a re-install never undoes a DBA's choice).
 * Jobs run as the calling role. Returns the jobs as partkeeper.cron_jobs() shows them.
 * Errors: PK001 when pg_cron is not installed in this database or an argument is invalid.
 * For an application database other than cron.database_name, see README "Running maintenance with pg_cron".
 */
declare
    v_frequent text;
    v_job record;
    v_prune text;
begin
    if to_regclass('cron.job') is null then
        raise exception 'pg_cron is not installed in database %', current_database()
            using errcode = 'PK001',
                  hint = format('pg_cron lives in the database named by cron.database_name (%s). Run this there, or use cron.schedule_in_database (README).',
                                partkeeper.cron_database());
    end if;
    if p_keep_history is not null and p_keep_history < interval '1 hour' then
        raise exception 'keep_history must be at least one hour, got %', p_keep_history
            using errcode = 'PK001', hint = 'For example: SELECT partkeeper.schedule_jobs(p_keep_history => ''7 days'');';
    end if;

    execute 'select schedule from cron.job where jobname = $1 and username = current_user' into v_frequent using 'partkeeper-frequent';
    if p_keep_history is null then
        execute 'select command from cron.job where jobname = $1 and username = current_user' into v_prune using 'partkeeper-prune-history';
    end if;

    for v_job in select * from partkeeper.job_definitions(coalesce(p_frequent, v_frequent), p_keep_history) loop
        if v_job.jobname = 'partkeeper-prune-history' then
            v_job.command := coalesce(v_prune, v_job.command);
            v_prune := v_job.command;
        elsif v_job.jobname = 'partkeeper-frequent' then
            v_frequent := v_job.schedule;
        end if;
        begin
            execute 'select cron.schedule($1, $2, $3)' using v_job.jobname, v_job.schedule, v_job.command;
        exception when others then
            raise exception 'invalid schedule %: %', quote_literal(v_job.schedule), sqlerrm
                using errcode = 'PK001', hint = 'Use cron syntax in GMT with a period of at least a minute, for example ''*/5 * * * *''.';
        end;
    end loop;
    perform partkeeper.write_log(null, 'schedule_jobs', null, jsonb_build_object('frequent', v_frequent, 'prune', v_prune));
    return partkeeper.cron_jobs();
end
$$;
