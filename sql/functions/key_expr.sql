create or replace function partkeeper.key_expr(p_column name, p_type regtype)
returns text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
/*
 * SQL text of the partition key column as a timestamptz, for use inside generated statements.
 * A timestamp or date key is wall time with no zone; partkeeper reads it as UTC, which is also the
 * only zone such tables accept (see configure). Must agree with key_value() and bound_literal().
 * The column name is always quoted with %I.
 */
select case p_type
    when 'timestamp with time zone'::regtype then format('%I', p_column)
    when 'timestamp without time zone'::regtype then format('(%I at time zone ''UTC'')', p_column)
    when 'date'::regtype then format('(%I::timestamp at time zone ''UTC'')', p_column)
end
$$;
