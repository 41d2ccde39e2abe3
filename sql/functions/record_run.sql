create or replace function partkeeper.record_run(p_parent regclass, p_result jsonb, p_inputs jsonb default null)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Keep p_result, a maintenance run's JSON result, as p_parent's latest run in partkeeper.last_run
 * (one row a table, replaced by every run, failed ones included): what status(), health() and the
 * metrics read to tell when maintenance last ran and how it ended. p_inputs is what a complete run
 * with nothing left to do saw (maintain_table): NULL otherwise, so the next run works everything out.
 */
begin
    insert into partkeeper.last_run as l (parent, finished_at, clock, status, result, inputs)
    values (p_parent, clock_timestamp(), coalesce((p_result ->> 'clock')::timestamptz, partkeeper.now()), p_result ->> 'status', p_result, p_inputs)
    on conflict (parent) do update
       set finished_at = excluded.finished_at, clock = excluded.clock, status = excluded.status, result = excluded.result,
           inputs = excluded.inputs;
end
$$;
