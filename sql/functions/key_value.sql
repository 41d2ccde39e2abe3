create or replace function partkeeper.key_value(p_text text, p_type regtype)
returns timestamptz
language sql
stable
parallel safe
as $$
/*
 * A partition key value, given as text of the key's type, as the timestamptz partkeeper computes
 * with. Reads timestamp and date values as UTC wall time (must agree with key_expr()); MINVALUE and
 * MAXVALUE (as pg_get_expr prints them in bounds) become -infinity and infinity. NULL in, NULL out.
 * No SET clause, so PostgreSQL inlines it: it runs once per bound of every partition on every
 * maintenance run. None is needed: timestamptz text carries its offset and the other two are read
 * as UTC explicitly. STABLE, as the timestamptz input it calls: PostgreSQL inlines an IMMUTABLE SQL
 * function only when its body is immutable too, and otherwise calls it row by row.
 */
select case
    when p_text = 'MINVALUE' then '-infinity'::timestamptz
    when p_text = 'MAXVALUE' then 'infinity'::timestamptz
    when p_type = 'timestamp with time zone'::regtype then p_text::timestamptz
    when p_type = 'timestamp without time zone'::regtype then p_text::timestamp at time zone 'UTC'
    when p_type = 'date'::regtype then p_text::date::timestamp at time zone 'UTC'
end
$$;
