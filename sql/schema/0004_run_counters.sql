-- Migration 4: cumulative counters for monitoring that do not depend on partkeeper.log being kept.
-- Immutable once released.
--  * last_run.runs_ok, runs_warning, runs_failed, run_seconds: every recorded maintenance run of the
--    table (a settled run that changed nothing too), counted on the row each run writes anyway
--    (partkeeper.count_run), so counting adds no row and no lock;
--  * log_totals: what rows deleted from partkeeper.log had counted (partkeeper.fold_pruned_log), so
--    that pruning the log never makes a counter of partkeeper.metrics() go down.
do $migration$
begin
    if exists (select from partkeeper.schema_version where version = 4) then
        return;
    end if;

    alter table partkeeper.last_run
        add column runs_ok bigint not null default 0,
        add column runs_warning bigint not null default 0,
        add column runs_failed bigint not null default 0,
        add column run_seconds double precision not null default 0;

    -- one row a table (log rows that concern no table count nothing); never deleted, only added to
    create table partkeeper.log_totals (
        parent              oid primary key,
        partitions_created  bigint not null default 0,
        partitions_retired  bigint not null default 0,
        rows_moved          bigint not null default 0,
        bytes_freed         bigint not null default 0,
        runs_busy           bigint not null default 0
    );

    insert into partkeeper.schema_version (version, name) values (4, 'run counters');
end
$migration$;
