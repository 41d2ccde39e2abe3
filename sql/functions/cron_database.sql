create or replace function partkeeper.cron_database()
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The database pg_cron keeps its jobs in (cron.database_name), as text for messages: 'not loaded'
 * when pg_cron is not preloaded, and 'unknown (reading cron.database_name takes superuser or
 * pg_read_all_settings)' when the current role may not read it, so that an install by a table
 * owner never fails on it.
 */
begin
    return coalesce(current_setting('cron.database_name', true), 'not loaded');
exception when insufficient_privilege then
    return 'unknown (reading cron.database_name takes superuser or pg_read_all_settings)';
end
$$;
