create or replace function partkeeper.execute_with_retry(p_statements text[], p_lock_timeout interval, p_retries integer)
returns bigint[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set lock_timeout = '500ms'
as $$
/*
 * Run p_statements in order as one unit (a subtransaction) with lock_timeout = p_lock_timeout;
 * when a lock is not granted in time (or a deadlock is detected) undo the unit, pause briefly so
 * queued sessions get through, and try again, at most p_retries more times. A statement waiting
 * for a lock makes every later query on that table queue behind it: the timeout is what keeps a
 * long-running reader from turning maintenance into an outage.
 * Returns the row count of each statement. After the last try raises PK005 naming the statement
 * that waited. The SET clause above confines the lock_timeout changes to this call.
 * Statements must be built by the caller with format('%I'/'%L') or regclass; none come from users.
 */
declare
    v_counts bigint[];
    v_count bigint;
    v_statement text;
    v_try integer := 0;
begin
    loop
        v_try := v_try + 1;
        begin
            perform set_config('lock_timeout', (extract(epoch from p_lock_timeout) * 1000)::bigint || 'ms', true);
            v_counts := '{}';
            foreach v_statement in array p_statements loop
                execute v_statement;
                get diagnostics v_count = row_count;
                v_counts := v_counts || v_count;
            end loop;
            return v_counts;
        exception
            when lock_not_available or deadlock_detected then
                if v_try > p_retries then
                    raise exception 'could not obtain a lock within % after % tries', p_lock_timeout, v_try
                        using errcode = 'PK005',
                              detail = 'Waiting statement: ' || v_statement,
                              hint = 'A long transaction holds the table (see pg_stat_activity and pg_locks). '
                                     'Nothing was changed; the next maintenance run tries again.';
                end if;
        end;
        perform pg_sleep(0.05 * v_try);
    end loop;
end
$$;
