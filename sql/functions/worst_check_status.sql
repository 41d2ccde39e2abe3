create or replace function partkeeper.worst_check_status(p_statuses text[])
returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * worst_status() in the words of checks (health(), metrics(), `partkeeper doctor`): 'error' when any
 * status is error or failed, 'warning' when any is warning or busy, else 'ok' (info counts as ok;
 * an empty list or NULL is 'ok'). The one place where a failed fold becomes a check's "error":
 * health()'s overall status, metrics()' verdict per check, doctor's status and exit code.
 */
select case w when 'failed' then 'error' else w end
  from partkeeper.worst_status(p_statuses) w
$$;
