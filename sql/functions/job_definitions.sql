create or replace function partkeeper.job_definitions(p_frequent text default null, p_keep_history interval default null)
returns table (jobname text, schedule text, command text)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The pg_cron jobs partkeeper schedules, as (jobname, schedule, command): the one definition that
 * schedule_jobs() schedules, install's NOTICE (sql/cron.sql) names and the month-boundary simulator plays.
 *   partkeeper-frequent       p_frequent (NULL: every 5 minutes; cron syntax in UTC as pg_cron reads it)
 *   partkeeper-monthly        '0 2 1 * *' (02:00 UTC on the 1st, the original schedule)
 *   partkeeper-prune-history  '30 3 * * *': deletes cron.job_run_details rows of partkeeper-* jobs older
 *                             than p_keep_history (NULL: 7 days)
 * Takes no lock and reads nothing; raises no error.
 */
select j.jobname, j.schedule, j.command
  from (values
    (1, 'partkeeper-frequent', coalesce(p_frequent, '*/5 * * * *'), 'CALL partkeeper.run_maintenance()'),
    (2, 'partkeeper-monthly', '0 2 1 * *', 'CALL partkeeper.run_maintenance()'),
    (3, 'partkeeper-prune-history', '30 3 * * *', format(
        'DELETE FROM cron.job_run_details WHERE jobid IN (SELECT jobid FROM cron.job WHERE jobname LIKE ''partkeeper-%%'') AND end_time < now() - interval %L',
        coalesce(p_keep_history, interval '7 days')))) as j(n, jobname, schedule, command)
 order by j.n
$$;
