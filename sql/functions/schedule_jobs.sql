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
 *   partkeeper-frequent       p_frequent (default: every 5 minutes): CALL partkeeper.run_maintenance();
 *                             keeps the premake horizon and drains DEFAULT partitions; a run with
 *                             nothing to do takes no lock on any table.
 *   partkeeper-monthly        '0 2 1 * *' (02:00 UTC on the 1st, the original schedule): the same call.
 *                             (run_maintenance commits after each table, so locks stay short)
 *   partkeeper-prune-history  '30 3 * * *': deletes cron.job_run_details rows of partkeeper-* jobs
 *                             older than p_keep_history (default 7 days); the table grows forever otherwise.
 * NULL arguments keep what an existing job has (a re-install never undoes a DBA's choice).
 * Jobs run as the calling role. Returns the jobs as partkeeper.cron_jobs() shows them.
 * Errors: PK001 when pg_cron is not installed in this database or an argument is invalid.
 * For an application database other than cron.database_name, see README "Running maintenance with pg_cron".
 */
declare
    v_frequent text;
    v_keep interval;
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
    v_frequent := coalesce(p_frequent, v_frequent, '*/5 * * * *');
    if p_keep_history is null then
        execute 'select command from cron.job where jobname = $1 and username = current_user' into v_prune using 'partkeeper-prune-history';
    end if;
    v_keep := coalesce(p_keep_history, interval '7 days');
    v_prune := coalesce(v_prune, format(
        'DELETE FROM cron.job_run_details WHERE jobid IN (SELECT jobid FROM cron.job WHERE jobname LIKE ''partkeeper-%%'') AND end_time < now() - interval %L',
        v_keep));

    begin
        execute 'select cron.schedule($1, $2, $3)' using 'partkeeper-frequent', v_frequent, 'CALL partkeeper.run_maintenance()';
    exception when others then
        raise exception 'invalid schedule %: %', quote_literal(v_frequent), sqlerrm
            using errcode = 'PK001', hint = 'Use cron syntax in GMT with a period of at least a minute, for example ''*/5 * * * *''.';
    end;
    execute 'select cron.schedule($1, $2, $3)' using 'partkeeper-monthly', '0 2 1 * *', 'CALL partkeeper.run_maintenance()';
    execute 'select cron.schedule($1, $2, $3)' using 'partkeeper-prune-history', '30 3 * * *', v_prune;
    perform partkeeper.write_log(null, 'schedule_jobs', null, jsonb_build_object('frequent', v_frequent, 'prune', v_prune));
    return partkeeper.cron_jobs();
end
$$;
