create or replace function partkeeper.convert_verify(p_table regclass)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Fourth step of an online conversion: compares the table and its twin month by month (the month
 * of the time column, UTC for timestamptz): row count and a checksum of the rows (the sum of a
 * 64-bit hash of each row's text). Both sides are read by one statement, so with one snapshot:
 * writers may keep writing (capture commits each write to both tables at once), and the two sides
 * are compared as of the same moment. Reads every row of both tables (ACCESS SHARE), as the owner.
 * When they agree, the step becomes "verified" (swap requires it); when not, the step stays and
 * the differing months are returned. Can be run again at any time before the swap.
 * Returns {"table", "step", "equal", "periods", "rows", "twin_rows", "mismatched": [{"period",
 * "rows", "twin_rows", "checksum_equal"}]}. Errors: PK015 fill not finished (conversion_state), PK007.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_state(p_table, array['filled', 'verified']);
    v_type regtype := (select a.atttypid::regtype from pg_attribute a where a.attrelid = v_state.parent and a.attname = v_state.time_column);
    v_period text;
    v_result jsonb;
    v_equal boolean;
begin
    v_period := case when v_type = 'timestamp with time zone'::regtype
                     then format('pg_catalog.date_trunc(''month'', t.%I, ''UTC'')::text', v_state.time_column)
                     else format('pg_catalog.date_trunc(''month'', t.%I::timestamp)::text', v_state.time_column) end;
    v_result := partkeeper.query_as_owner(v_state.parent, format($q$
with s as (select coalesce(%1$s, 'none') as p, pg_catalog.count(*) as n, pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)::numeric) as h
             from %2$s t group by 1),
     w as (select coalesce(%1$s, 'none') as p, pg_catalog.count(*) as n, pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)::numeric) as h
             from %3$s t group by 1)
select pg_catalog.jsonb_build_object(
  'periods', pg_catalog.count(*), 'rows', coalesce(pg_catalog.sum(s.n), 0), 'twin_rows', coalesce(pg_catalog.sum(w.n), 0),
  'mismatched', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('period', coalesce(s.p, w.p), 'rows', coalesce(s.n, 0),
                   'twin_rows', coalesce(w.n, 0), 'checksum_equal', s.h is not distinct from w.h) order by coalesce(s.p, w.p))
                 filter (where s.n is distinct from w.n or s.h is distinct from w.h), '[]'))
  from s full join w on s.p = w.p$q$, v_period, v_state.parent, v_state.twin), true);
    v_equal := jsonb_array_length(v_result -> 'mismatched') = 0;
    update partkeeper.conversions
       set step = case when v_equal then 'verified' else 'filled' end, verified = v_result, updated_at = clock_timestamp()
     where table_name = v_state.table_name;
    perform partkeeper.write_log(v_state.parent, 'convert_verify', partkeeper.qualified_name(v_state.twin), v_result);
    return jsonb_build_object('table', v_state.table_name, 'step', case when v_equal then 'verified' else 'filled' end,
                              'equal', v_equal) || v_result;
end
$$;
