-- Migration 1: configuration, action log and the record of rows waiting in DEFAULT partitions.
-- Immutable once released: later changes to these tables go in new numbered files.
do $migration$
begin
    if exists (select from partkeeper.schema_version where version = 1) then
        return;
    end if;

    -- One row per managed table. Defaults here are the defaults of every managed table;
    -- partkeeper.config_for() repeats them for unregistered tables (a test keeps the two equal).
    create table partkeeper.config (
        parent              regclass primary key,
        part_interval       text not null default 'month'
                            check (part_interval = 'month'),
        time_zone           text not null default 'UTC',
        premake             integer not null default 2
                            check (premake between 0 and 120),
        drain_window_back   interval not null default '1 year'
                            check (drain_window_back >= interval '0'),
        drain_window_ahead  interval not null default '1 year'
                            check (drain_window_ahead >= interval '0'),
        lock_timeout        interval not null default '500 milliseconds'
                            check (lock_timeout > interval '0' and lock_timeout <= interval '1 minute'),
        lock_retries        integer not null default 3
                            check (lock_retries between 0 and 100),
        max_create_per_run  integer not null default 24
                            check (max_create_per_run between 1 and 10000),
        enabled             boolean not null default true,
        registered_at       timestamptz not null default pg_catalog.clock_timestamp(),
        updated_at          timestamptz not null default pg_catalog.clock_timestamp()
    );

    -- Append-only: every action partkeeper takes, and every maintenance run's JSON result.
    create table partkeeper.log (
        id              bigint generated always as identity primary key,
        logged_at       timestamptz not null default pg_catalog.clock_timestamp(),
        clock           timestamptz not null,
        table_name      text,
        action          text not null,
        partition_name  text,
        detail          jsonb not null default '{}',
        run_by          name not null default session_user
    );
    create index log_table_time_idx on partkeeper.log (table_name, logged_at);

    -- Months that have rows waiting in a DEFAULT partition, written by the ensure_partition_exists
    -- trigger on first sight and cleared by maintenance once the month has its partition.
    -- month_start is '-infinity' for rows whose partition key is NULL.
    create table partkeeper.pending (
        parent       regclass not null,
        month_start  timestamptz not null,
        first_seen   timestamptz not null,
        primary key (parent, month_start)
    );

    -- The latest maintenance result of each table (one row a table, replaced by every run), for
    -- monitoring: when maintenance last ran and how it ended, even when it had nothing to do.
    create table partkeeper.last_run (
        parent       regclass primary key,
        finished_at  timestamptz not null,
        clock        timestamptz not null,
        status       text not null,
        result       jsonb not null
    );

    insert into partkeeper.schema_version (version, name) values (1, 'engine tables');
end
$migration$;
