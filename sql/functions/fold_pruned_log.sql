create or replace function partkeeper.fold_pruned_log()
returns trigger
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Statement triggers of partkeeper.log (triggers/fold_pruned_log.sql): pruning the log never makes
 * a counter of partkeeper.metrics() go down. Before a DELETE or TRUNCATE it adds what the log counts
 * now (log_counts) to partkeeper.log_totals; after a DELETE it takes away what the log still counts.
 * So log_totals gains exactly what the deleted rows counted, without a second copy of the counting
 * rules; a row that another session adds meanwhile is taken away here and counted by the log
 * itself, so it is counted once. Two prunes wait for each other (SHARE ROW EXCLUSIVE on
 * log_totals); inserts into the log never wait. Runs with the pruning role's rights: it needs
 * INSERT and UPDATE on log_totals (the installing role has them). Returns NULL.
 */
declare
    v_sign integer := case when TG_WHEN = 'BEFORE' then 1 else -1 end;
begin
    if TG_WHEN = 'BEFORE' then
        lock table partkeeper.log_totals in share row exclusive mode;
    end if;
    insert into partkeeper.log_totals as t (parent, partitions_created, partitions_retired, rows_moved, bytes_freed, runs_busy)
    select c.parent, v_sign * c.partitions_created, v_sign * c.partitions_retired, v_sign * c.rows_moved,
           v_sign * c.bytes_freed, v_sign * c.runs_busy
      from partkeeper.log_counts() c
    on conflict (parent) do update
       set partitions_created = t.partitions_created + excluded.partitions_created,
           partitions_retired = t.partitions_retired + excluded.partitions_retired,
           rows_moved = t.rows_moved + excluded.rows_moved,
           bytes_freed = t.bytes_freed + excluded.bytes_freed,
           runs_busy = t.runs_busy + excluded.runs_busy;
    return null;
end
$$;
