-- Migration 2: retention settings, the record of verified archives, and partition intervals other
-- than a month. Immutable once released.
do $migration$
begin
    if exists (select from partkeeper.schema_version where version = 2) then
        return;
    end if;

    alter table partkeeper.config
        drop constraint config_part_interval_check,
        add constraint config_part_interval_check check (part_interval in ('day', 'week', 'month', 'quarter', 'year')),
        -- where the current interval starts: partitions before it keep the interval(s) they were made with
        add column interval_since timestamptz,
        -- partitions wholly older than now - retention expire; NULL keeps everything
        add column retention interval check (retention > interval '0'),
        add column retention_mode text not null default 'drop' check (retention_mode in ('drop', 'detach')),
        -- detached partitions move here (NULL: they stay in the table's schema)
        add column retention_schema name,
        add column require_archive boolean not null default false;

    -- pending holds periods now, not only months
    alter table partkeeper.pending rename column month_start to period_start;

    -- Intervals a table had before its current one, for the partitions made then:
    -- part_interval applied to partitions before `until` (and after the previous entry's until).
    create table partkeeper.interval_history (
        parent         regclass not null,
        until          timestamptz not null,
        part_interval  text not null,
        primary key (parent, until)
    );

    -- One row per archive file written and verified by `partkeeper archive`.
    create table partkeeper.archives (
        id                  bigint generated always as identity primary key,
        parent              regclass,
        table_name          text not null,
        partition_name      text not null,
        lower               timestamptz not null,
        upper               timestamptz not null,
        location            text not null,
        format              text not null,
        rows                bigint not null check (rows >= 0),
        bytes               bigint not null check (bytes >= 0),
        checksum            text not null,
        partkeeper_version  text not null,
        verified_at         timestamptz not null default pg_catalog.clock_timestamp(),
        recorded_by         name not null default session_user
    );
    create index archives_parent_bounds_idx on partkeeper.archives (parent, lower, upper);

    -- configure() gains interval and retention parameters: the old signature must go, or named
    -- calls would match both
    drop function if exists partkeeper.configure(regclass, text, integer, interval, interval, interval, integer, integer, boolean);

    insert into partkeeper.schema_version (version, name) values (2, 'retention, archives, intervals');
end
$migration$;
