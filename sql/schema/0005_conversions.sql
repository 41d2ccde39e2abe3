-- Migration 5: the state of online conversions (convert_* functions): one row per table being
-- converted into a managed partitioned table or back into a plain one, so that every step can be
-- resumed after a kill and run again without repeating what is done. Immutable once released.
do $migration$
begin
    if exists (select from partkeeper.schema_version where version = 5) then
        return;
    end if;

    create table partkeeper.conversions (
        -- the table's schema-qualified name as the DBA names it: it stays the same across the swap
        table_name        text primary key,
        -- the table being converted (before the swap it holds the name; after it, the retired name)
        parent            regclass not null,
        twin              regclass not null,
        direction         text not null check (direction in ('partition', 'unpartition')),
        time_column       name not null,
        -- the source's primary key columns: fill copies in batches in this order
        key_columns       name[] not null,
        twin_name         name not null,
        retired_name      name not null,
        capture_function  text not null,
        step              text not null default 'prepared'
                          check (step in ('prepared', 'capturing', 'filled', 'verified', 'swapped', 'finished')),
        -- the last source key copied by fill, as text values in key_columns order
        last_key          text[],
        rows_copied       bigint not null default 0,
        rows_estimate     bigint not null default 0,
        verified          jsonb,
        started_at        timestamptz not null default pg_catalog.clock_timestamp(),
        updated_at        timestamptz not null default pg_catalog.clock_timestamp()
    );

    insert into partkeeper.schema_version (version, name) values (5, 'online conversions');
end
$migration$;
