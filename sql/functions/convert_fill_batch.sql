create or replace function partkeeper.convert_fill_batch(p_table regclass, p_batch_size integer default 10000,
                                                         p_dry_run boolean default false)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * One batch of fill, the third step of an online conversion: copies the next p_batch_size rows of
 * the table (in primary key order, after the last key copied) into its twin, and records the last
 * key and the count in partkeeper.conversions in the same transaction, so a kill at any moment
 * loses nothing and the next batch starts where the last committed one ended. The rows read are
 * locked FOR SHARE until the batch commits: a concurrent UPDATE or DELETE of one of them waits for
 * the batch (or the batch for it), so the capture trigger's write of a row and the batch's copy
 * of it are ordered, and the newer version wins (ON CONFLICT DO NOTHING here, DO UPDATE there).
 * Row locks are waited for at most the table's lock_timeout (below deadlock_timeout by default,
 * so a writer is never the one a deadlock aborts); the batch is then undone and tried again, up to
 * lock_retries more times (PK005). Runs as the table's owner (query_as_owner).
 * The batch that reads fewer rows than p_batch_size ends fill (step "filled"); rows written later
 * reach the twin through capture. Call it in a transaction of its own per batch (CALL
 * partkeeper.convert_fill does); at step "filled" or later it does nothing.
 * p_dry_run: the batch's statement, nothing changed.
 * Returns {"table", "step", "read", "copied", "rows_copied", "rows_estimate", "done", "last_key", "statement"}.
 * Errors: PK001 batch size not positive; PK015 (conversion_state); PK005; PK007.
 */
declare
    v_state partkeeper.conversions;
    v_cfg partkeeper.config;
    v_cols text;
    v_keys text;
    v_desc text;
    v_after text;
    v_sql text;
    v_result jsonb;
    v_try integer := 0;
    v_done boolean;
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'batch size must be positive, got %', coalesce(p_batch_size::text, 'NULL')
            using errcode = 'PK001', hint = 'For example 10000.';
    end if;
    v_state := partkeeper.conversion_state(p_table, array['capturing', 'filled', 'verified', 'swapped']);
    if v_state.step <> 'capturing' then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'read', 0, 'copied', 0,
                                  'rows_copied', v_state.rows_copied, 'rows_estimate', v_state.rows_estimate,
                                  'done', true, 'last_key', to_jsonb(v_state.last_key));
    end if;
    v_cfg := partkeeper.config_for(v_state.parent);
    v_cols := partkeeper.copy_columns(v_state.twin);
    v_keys := (select string_agg(format('%I', k), ', ' order by n) from unnest(v_state.key_columns) with ordinality x(k, n));
    v_desc := (select string_agg(format('%I desc', k), ', ' order by n) from unnest(v_state.key_columns) with ordinality x(k, n));
    if v_state.last_key is not null then
        v_after := format(' where (%s) > (%s)', v_keys,
            (select string_agg(format('%L::%s', v, format_type(a.atttypid, a.atttypmod)), ', ' order by x.n)
               from unnest(v_state.key_columns, v_state.last_key) with ordinality x(k, v, n)
               join pg_attribute a on a.attrelid = v_state.parent and a.attname = x.k));
    end if;
    v_sql := format($q$with src as (select %1$s from %2$s%3$s order by %4$s limit %5$s for share),
 ins as (insert into %6$s (%1$s) overriding system value select %1$s from src on conflict do nothing returning 1)
select pg_catalog.jsonb_build_object('read', (select pg_catalog.count(*) from src), 'copied', (select pg_catalog.count(*) from ins),
  'last', (select pg_catalog.to_jsonb(array[%7$s]) from src order by %8$s limit 1))$q$,
        v_cols, v_state.parent, coalesce(v_after, ''), v_keys, p_batch_size, v_state.twin,
        (select string_agg(format('%I::text', k), ', ' order by n) from unnest(v_state.key_columns) with ordinality x(k, n)), v_desc);
    if p_dry_run then
        return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'dry_run', true, 'statement', v_sql);
    end if;
    loop
        v_try := v_try + 1;
        begin
            v_result := partkeeper.query_as_owner(v_state.parent, v_sql, true);
            exit;
        exception when lock_not_available or deadlock_detected then
            if v_try > v_cfg.lock_retries then
                raise exception 'fill of % could not lock rows within % after % tries', v_state.table_name, v_cfg.lock_timeout, v_try
                    using errcode = 'PK005', hint = 'Writers hold these rows for long: run fill again later (it resumes), or with a smaller batch size.';
            end if;
        end;
        perform pg_sleep(0.05 * v_try);
    end loop;
    v_done := (v_result ->> 'read')::bigint < p_batch_size;
    update partkeeper.conversions
       set last_key = case when jsonb_typeof(v_result -> 'last') = 'array'
                           then array(select jsonb_array_elements_text(v_result -> 'last')) else last_key end,
           rows_copied = rows_copied + (v_result ->> 'copied')::bigint,
           step = case when v_done then 'filled' else step end,
           updated_at = clock_timestamp()
     where table_name = v_state.table_name
    returning * into v_state;
    if v_done then
        perform partkeeper.write_log(v_state.parent, 'convert_fill', partkeeper.qualified_name(v_state.twin),
                                     jsonb_build_object('rows_copied', v_state.rows_copied));
    end if;
    return jsonb_build_object('table', v_state.table_name, 'step', v_state.step, 'read', (v_result ->> 'read')::bigint,
                              'copied', (v_result ->> 'copied')::bigint, 'rows_copied', v_state.rows_copied,
                              'rows_estimate', v_state.rows_estimate, 'done', v_done, 'last_key', to_jsonb(v_state.last_key));
end
$$;
