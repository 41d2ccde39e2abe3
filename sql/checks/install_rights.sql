-- Before anything is made: the rights install needs, each refusal naming the right and the GRANT
-- that gives it (PK009, nothing changed). A superuser has them all. A table owner needs:
--   CREATE on the database, for schema partkeeper (first install only);
--   to be the owner of schema partkeeper, or a member of its owner, for an upgrade (functions are
--     replaced in place, which only their owner may do);
--   CREATE on schema public, when the original interface's functions (or the reference table) are
--     not there yet;
--   TEMP on the database (PostgreSQL grants it to PUBLIC by default): maintenance runs every
--     statement through a temporary function owned by the table's owner, and install makes the
--     current partitions at once.
--   USAGE on schema cron, where the pg_cron extension is installed in this database: install
--     schedules its jobs there, as the installing role.
-- Reading cron.database_name needs none of them: partkeeper.cron_database() does without it.
do $rights$
declare
    v_db text := pg_catalog.current_database();
    v_owner text;
begin
    if pg_catalog.to_regnamespace('partkeeper') is null then
        if not pg_catalog.has_database_privilege(v_db, 'CREATE') then
            raise exception 'role % may not create schema partkeeper: it lacks CREATE on database %', current_user, v_db
                using errcode = 'PK009',
                      hint = pg_catalog.format('As a superuser or the database owner: GRANT CREATE ON DATABASE %I TO %I; then install again.', v_db, current_user);
        end if;
    else
        select n.nspowner::regrole::text into v_owner from pg_catalog.pg_namespace n where n.nspname = 'partkeeper';
        if not pg_catalog.pg_has_role(current_user, (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'partkeeper'), 'USAGE') then
            raise exception 'role % may not upgrade partkeeper: schema partkeeper belongs to %', current_user, v_owner
                using errcode = 'PK009',
                      hint = pg_catalog.format('Install as %s (or a superuser), or: GRANT %s TO %I;', v_owner, v_owner, current_user);
        end if;
    end if;
    if not pg_catalog.has_schema_privilege('public', 'CREATE')
       and (pg_catalog.to_regprocedure('public.maintain_livechat_partitions()') is null
            or pg_catalog.to_regprocedure('public.ensure_livechat_partitions()') is null
            or pg_catalog.to_regprocedure('public.create_monthly_partition(text, date)') is null
            or (pg_catalog.to_regclass('public.livechat_messages') is null
                and lower(coalesce(nullif(pg_catalog.current_setting('partkeeper.create_reference_table', true), ''), 'on'))
                    not in ('off', 'false', '0', 'no'))) then
        raise exception 'role % may not create the original interface''s functions in schema public: it lacks CREATE on schema public', current_user
            using errcode = 'PK009',
                  hint = pg_catalog.format('As the owner of schema public or a superuser: GRANT CREATE ON SCHEMA public TO %I; then install again.', current_user);
    end if;
    -- (pg_cron's extension lives in pg_catalog; its objects are in the schema cron it makes)
    if exists (select from pg_catalog.pg_extension e where e.extname = 'pg_cron')
       and pg_catalog.to_regnamespace('cron') is not null
       and not pg_catalog.has_schema_privilege('cron', 'USAGE') then
        raise exception 'role % may not schedule partkeeper''s pg_cron jobs in database %: it lacks USAGE on schema cron', current_user, v_db
            using errcode = 'PK009',
                  hint = pg_catalog.format('As a superuser: GRANT USAGE ON SCHEMA cron TO %I; then install again (the jobs run as %I).', current_user, current_user);
    end if;
    if not pg_catalog.has_database_privilege(v_db, 'TEMP') then
        raise exception 'role % lacks TEMP on database %, which maintenance needs for its per-session executor', current_user, v_db
            using errcode = 'PK009',
                  hint = pg_catalog.format('GRANT TEMP ON DATABASE %I TO %I; (PostgreSQL grants it to PUBLIC by default)', v_db, current_user);
    end if;
end
$rights$;
