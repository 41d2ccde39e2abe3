-- The schema and the migration ledger. Runs on every install, before the numbered migrations that
-- consult the ledger, and creates only what is missing.
do $bootstrap$
begin
    if to_regnamespace('partkeeper') is null then
        create schema partkeeper;
        comment on schema partkeeper is 'partkeeper: automated time partitioning (engine, configuration, log)';
    end if;
    if to_regclass('partkeeper.schema_version') is null then
        create table partkeeper.schema_version (
            version     integer primary key,
            name        text not null,
            applied_at  timestamptz not null default pg_catalog.clock_timestamp(),
            applied_by  name not null default session_user
        );
    end if;
end
$bootstrap$;
