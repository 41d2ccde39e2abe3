create or replace function partkeeper.now()
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * The clock every partkeeper function reads: the setting partkeeper.now when it is set and not
 * empty, pg_catalog.now() otherwise. This is how tests, CI and DBAs simulate dates:
 *   SET partkeeper.now = '2025-09-30 23:59:59+00';       -- this session
 *   ALTER DATABASE app SET partkeeper.now = '...';       -- new sessions, pg_cron jobs
 * A literal without an offset is read as UTC, whatever the session's TimeZone.
 * A value that is not a timestamptz raises PK001 (nothing reads a half-valid clock).
 */
declare
    v_setting text := nullif(current_setting('partkeeper.now', true), '');
begin
    if v_setting is null then
        return pg_catalog.now();
    end if;
    return v_setting::timestamptz;
exception
    when invalid_datetime_format or datetime_field_overflow or invalid_parameter_value then
        raise exception 'partkeeper.now is not a valid timestamptz: %', quote_literal(v_setting)
            using errcode = 'PK001',
                  hint = 'SET partkeeper.now = ''2025-09-01 00:00:00+00'', or RESET partkeeper.now to use the real clock.';
end
$$;
