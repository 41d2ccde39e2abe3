create or replace function partkeeper.busy_result(p_parent regclass, p_name text, p_clock timestamptz, p_error jsonb default null)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The result of a maintain_table() run that found another run holding p_parent (named p_name, at
 * the clock p_clock) and did nothing: {table, status "busy", complete false, clock, reason, error}
 * with error p_error (the lock_timeout a waiting run gave up on) left out when NULL, as are the
 * keys of p_error without a value. Logged as 'busy'; nothing else is recorded: the running one
 * records its own result. Not idempotent (one log row per call).
 */
declare
    v_result jsonb := jsonb_strip_nulls(jsonb_build_object('table', p_name, 'status', 'busy', 'complete', false, 'clock', p_clock,
                                        'reason', 'another maintenance run holds this table; this run did nothing', 'error', p_error));
begin
    perform partkeeper.write_log(p_parent, 'busy', null, v_result);
    return v_result;
end
$$;
