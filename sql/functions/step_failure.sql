create or replace function partkeeper.step_failure(p_sqlstate text, p_message text, p_hint text, p_detail text, p_fields jsonb,
                                                   p_hints jsonb default '{}', p_hints_first boolean default false,
                                                   out code text, out lock_timeout boolean, out failed boolean, out warning jsonb)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
/*
 * What maintain_table() reports of a step that PostgreSQL or partkeeper refused, from what the
 * handler caught (GET STACKED DIAGNOSTICS): the warning code (error_code), whether it was a lock not
 * obtained (the run stops the steps that need locks), whether it fails the run (severity 'error'),
 * and the warning {code, sqlstate, message, hint} || p_fields (the step, period or partition it
 * concerns). p_message is the whole message, the step's words before PostgreSQL's.
 * hint: PostgreSQL's (empty counts as none) or partkeeper's own for the code (p_hints, code -> text),
 * partkeeper's first when p_hints_first (where PostgreSQL's would mislead, as DROP ... CASCADE does).
 * One shape: hint is null when there is none; detail (PostgreSQL's; NULL or '' for none) is there
 * only when there is one. Raises nothing; NULL p_fields adds nothing.
 */
select e.code, e.code = 'lock_timeout', e.severity = 'error',
       jsonb_build_object('code', e.code, 'sqlstate', p_sqlstate, 'message', p_message,
                          'hint', case when p_hints_first then coalesce(p_hints ->> e.code, nullif(p_hint, ''))
                                       else coalesce(nullif(p_hint, ''), p_hints ->> e.code) end)
       || coalesce(p_fields, '{}')
       || case when nullif(p_detail, '') is null then '{}'::jsonb else jsonb_build_object('detail', p_detail) end
  from partkeeper.error_code(p_sqlstate) e
$$;
