create or replace function partkeeper.count_run()
returns trigger
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * BEFORE INSERT OR UPDATE row trigger of partkeeper.last_run (triggers/count_run.sql): every write
 * of a table's last run is one maintenance run (record_run, and maintain_table's settled run that
 * changed nothing), so it adds one to runs_ok, runs_warning or runs_failed by the run's status, and
 * the run's duration_ms to run_seconds. The counters ride on the row the run writes anyway: no other
 * row is touched and no lock is taken. An INSERT ... ON CONFLICT DO UPDATE fires both the INSERT
 * trigger (on the proposed row, which is discarded) and the UPDATE one: counted once. A status
 * other than the three, and a NULL or missing duration, add nothing. Returns the row to write.
 * partkeeper.metrics() reads these counters; busy runs are not recorded here but in the log.
 */
begin
    NEW.runs_ok := NEW.runs_ok + (NEW.status = 'ok')::integer;
    NEW.runs_warning := NEW.runs_warning + (NEW.status = 'warning')::integer;
    NEW.runs_failed := NEW.runs_failed + (NEW.status = 'failed')::integer;
    NEW.run_seconds := NEW.run_seconds + coalesce((NEW.result ->> 'duration_ms')::double precision / 1000, 0);
    return NEW;
end
$$;
