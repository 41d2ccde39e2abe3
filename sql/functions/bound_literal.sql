create or replace function partkeeper.bound_literal(p_at timestamptz, p_type regtype)
returns text
language plpgsql
stable
parallel safe
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * A quoted SQL literal of the key's type for the instant p_at, for partition bounds and the
 * predicates that move rows. TimeZone and DateStyle are pinned here, so the text is the same in
 * every session: '2025-09-01 00:00:00+00' (timestamptz), '2025-09-01 00:00:00' (timestamp, UTC wall
 * time; see key_expr), '2025-09-01' (date). The inverse of key_value().
 */
begin
    return (
    select quote_literal(case p_type
        when 'timestamp with time zone'::regtype then p_at::text
        when 'timestamp without time zone'::regtype then (p_at at time zone 'UTC')::text
        when 'date'::regtype then (p_at at time zone 'UTC')::date::text
    end));
end
$$;
