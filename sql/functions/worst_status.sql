create or replace function partkeeper.worst_status(p_statuses text[])
returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * The one rule that folds statuses into one, for runs, health checks and exit codes:
 * failed / error > warning / busy > ok / skipped / disabled / info. Returns 'failed' when any is
 * failed or error, 'warning' when any is warning or busy, else 'ok' (also for an empty list).
 * Callers that speak of checks read it through worst_check_status(), which says 'error' for 'failed'.
 */
select case
    when p_statuses && array['failed', 'error'] then 'failed'
    when p_statuses && array['warning', 'busy'] then 'warning'
    else 'ok' end
$$;
