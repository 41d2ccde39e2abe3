create or replace procedure partkeeper.convert_fill(p_table regclass, p_batch_size integer default 10000,
                                                    p_sleep interval default '0', p_max_batches integer default null,
                                                    inout p_result jsonb default null)
language plpgsql
as $$
/*
 * Fill, the third step of an online conversion, from psql: convert_fill_batch until every row is
 * copied (or p_max_batches batches), committing after each batch, pausing p_sleep between batches
 * (to leave I/O to the application), with a NOTICE of progress and an estimate of the time left
 * every 10 batches. Resumable: after a kill, CALL it again; it continues after the last committed
 * batch. p_result returns the last batch's result. Must be CALLed outside an explicit transaction
 * block (it commits). SECURITY INVOKER with no SET clause (PostgreSQL forbids both with transaction
 * control): everything it names is schema-qualified. Errors: those of convert_fill_batch.
 */
declare
    v_started timestamptz := pg_catalog.clock_timestamp();
    v_first bigint;
    v_batches integer := 0;
    v_rate numeric;
begin
    loop
        p_result := partkeeper.convert_fill_batch(p_table, p_batch_size);
        commit;
        v_batches := v_batches operator(pg_catalog.+) 1;
        v_first := coalesce(v_first, (p_result operator(pg_catalog.->>) 'rows_copied')::bigint
                                     operator(pg_catalog.-) (p_result operator(pg_catalog.->>) 'copied')::bigint);
        exit when (p_result operator(pg_catalog.->>) 'done')::boolean
               or (p_max_batches is not null and v_batches operator(pg_catalog.>=) p_max_batches);
        if v_batches operator(pg_catalog.%) 10 operator(pg_catalog.=) 0 then
            v_rate := ((p_result operator(pg_catalog.->>) 'rows_copied')::bigint operator(pg_catalog.-) v_first)::numeric
                      operator(pg_catalog./) greatest(extract(epoch from pg_catalog.clock_timestamp() operator(pg_catalog.-) v_started), 0.001);
            raise notice 'partkeeper: % rows of about % copied (% rows/s, about % s left)',
                p_result operator(pg_catalog.->>) 'rows_copied', p_result operator(pg_catalog.->>) 'rows_estimate', pg_catalog.round(v_rate),
                pg_catalog.round(greatest((p_result operator(pg_catalog.->>) 'rows_estimate')::bigint
                                          operator(pg_catalog.-) (p_result operator(pg_catalog.->>) 'rows_copied')::bigint, 0)
                                 operator(pg_catalog./) greatest(v_rate, 1));
        end if;
        if p_sleep operator(pg_catalog.>) interval '0' then
            perform pg_catalog.pg_sleep(extract(epoch from p_sleep));
        end if;
    end loop;
end
$$;
