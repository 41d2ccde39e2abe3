create or replace function partkeeper.log_counts()
returns table (parent oid, partitions_created bigint, partitions_retired bigint, rows_moved bigint, bytes_freed bigint, runs_busy bigint)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * What the rows now in partkeeper.log count, per table (by OID; rows that concern no table count
 * nothing): partitions created (create_partition, however made: maintenance, create_partition(),
 * the original design's functions), rows they moved out of the DEFAULT partition, partitions
 * retired (drop or detach), bytes freed (retirements that dropped: the partition's size when it was
 * dropped; detach frees nothing), and busy runs (another run held the table). The one place these
 * are counted: partkeeper.metrics() adds partkeeper.log_totals to them, and fold_pruned_log() keeps
 * log_totals by the difference of this before and after rows are deleted. One scan of the log.
 * Read-only; a monitoring role reads every row (grant_monitoring).
 */
select l.parent,
       count(*) filter (where l.action = 'create_partition'),
       count(*) filter (where l.action = 'retire'),
       coalesce(sum((l.detail ->> 'rows_moved')::bigint) filter (where l.action = 'create_partition'), 0)::bigint,
       coalesce(sum((l.detail ->> 'bytes')::bigint) filter (where l.action = 'retire' and l.detail ->> 'mode' = 'drop'), 0)::bigint,
       count(*) filter (where l.action = 'busy')
  from partkeeper.log l
 where l.parent is not null and l.action in ('create_partition', 'retire', 'busy')
 group by l.parent
$$;
