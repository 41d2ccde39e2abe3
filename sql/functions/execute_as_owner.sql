create or replace function partkeeper.execute_as_owner(
    p_parent regclass, p_statements partkeeper.statement[], p_lock_timeout interval, p_retries integer)
returns bigint[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * Run p_statements in order, as one unit (a subtransaction), as the owner of p_parent: every
 * statement partkeeper runs on a managed table goes through here or query_as_owner. Each statement
 * executes (run_as):
 *  - as the table's owner (SET ROLE when the caller is a member of the owning role or a superuser),
 *    so the owner's code it evaluates (triggers, index expressions, generated columns, CHECKs,
 *    defaults, row-level security policies) never runs with more rights than the owner has;
 *  - under the owner's search_path, so that code resolves names as in the owner's own sessions;
 *    the statements themselves name everything schema-qualified;
 *  - with session_replication_role = replica when the statement asks for it;
 *  - with lock_timeout = p_lock_timeout (SET LOCAL, which Citus forwards to its workers).
 * The caller's settings are restored after each statement. When a lock is not granted in time (or
 * a deadlock is detected) the unit is undone, the call pauses briefly so queued sessions get
 * through, and tries again, at most p_retries more times; then PK005 names the waiting statement.
 * A waiting statement makes every later query on its table queue behind it: the timeout is what
 * keeps a long reader from turning maintenance into an outage.
 * Returns the row count of each statement. Errors: PK002 dropped table; PK007 when the caller may
 * not act as the owner; any error of a statement, with the unit undone.
 * Statements must be built by the caller with format('%I'/'%L') or regclass; none come from users.
 */
declare
    v_owner regrole := (select c.relowner::regrole from pg_class c where c.oid = p_parent);
    v_lock text := current_setting('lock_timeout');
    v_saved text[];
    v_counts bigint[];
    v_count bigint;
    v_statement partkeeper.statement;
    v_try integer := 0;
begin
    if v_owner is null then
        raise exception 'table with OID % does not exist', p_parent::oid
            using errcode = 'PK002', hint = 'It was dropped; unregister it with partkeeper.unregister_table().';
    end if;
    loop
        v_try := v_try + 1;
        begin
            execute format('set local lock_timeout = %L', (extract(epoch from p_lock_timeout) * 1000)::bigint || 'ms');
            v_counts := '{}';
            foreach v_statement in array p_statements loop
                v_saved := partkeeper.run_as(v_owner, v_statement.replica);
                execute v_statement.sql;
                get diagnostics v_count = row_count;
                -- back to the caller: role first, then what only the caller may set
                if pg_catalog.current_setting('role') is distinct from v_saved[1] then
                    perform pg_catalog.set_config('role', v_saved[1], true);
                end if;
                if pg_catalog.current_setting('session_replication_role') is distinct from v_saved[2] then
                    perform pg_catalog.set_config('session_replication_role', v_saved[2], true);
                end if;
                perform pg_catalog.set_config('search_path', v_saved[3], true);
                v_counts := v_counts || v_count;
            end loop;
            execute format('set local lock_timeout = %L', v_lock);
            return v_counts;
        exception
            when lock_not_available or deadlock_detected then
                if v_try > p_retries then
                    raise exception 'could not obtain a lock within % after % tries', p_lock_timeout, v_try
                        using errcode = 'PK005',
                              detail = 'Waiting statement: ' || v_statement.sql,
                              hint = 'A long transaction holds the table (see pg_stat_activity and pg_locks). '
                                     'Nothing was changed; the next maintenance run tries again.';
                end if;
        end;
        perform pg_sleep(0.05 * v_try);
    end loop;
end
$$;
