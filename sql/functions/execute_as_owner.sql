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
 * runs in the owner's executor (owner_executor): with the owner's rights, under the owner's
 * search_path, and without a way for the owner's code to leave them; the statements themselves
 * name everything schema-qualified. A statement marked replica runs with session_replication_role
 * = replica, set by the caller (it takes superuser or, on PostgreSQL 15+, GRANT SET ON PARAMETER)
 * around that statement only: the owner's code cannot change it. lock_timeout = p_lock_timeout.
 * Both are SET LOCAL: on a Citus coordinator, with citus.propagate_set_commands = 'local' (set here
 * for the unit and restored after it), Citus sends them to the workers that the statements reach,
 * so a lock held on a worker is waited for no longer than on the coordinator (set_config would stay
 * on the coordinator). When a lock is not granted in time (or a
 * deadlock is detected) the unit is undone, the call pauses briefly so queued sessions get
 * through, and tries again, at most p_retries more times; then PK005 names the waiting statement.
 * A waiting statement makes every later query on its table queue behind it: the timeout is what
 * keeps a long reader from turning maintenance into an outage.
 * Returns the row count of each statement. Errors: PK002 dropped table; PK007 when the caller may
 * not act as the owner; any error of a statement, with the unit undone.
 * Statements must be built by the caller with format('%I'/'%L') or regclass; none come from users.
 */
declare
    v_owner regrole := (select c.relowner::regrole from pg_class c where c.oid = p_parent);
    v_executor text;
    v_lock text := current_setting('lock_timeout');
    v_srr text := current_setting('session_replication_role');
    -- NULL without Citus: nothing of it is touched then
    v_propagate text := current_setting('citus.propagate_set_commands', true);
    v_counts bigint[];
    v_count jsonb;
    v_statement partkeeper.statement;
    v_try integer := 0;
begin
    if v_owner is null then
        raise exception 'table with OID % does not exist', p_parent::oid
            using errcode = 'PK002', hint = 'It was dropped; unregister it with partkeeper.unregister_table().';
    end if;
    v_executor := partkeeper.owner_executor(v_owner);
    loop
        v_try := v_try + 1;
        begin
            if v_propagate is not null then
                set local citus.propagate_set_commands = 'local';
            end if;
            execute format('set local lock_timeout = %L', (extract(epoch from p_lock_timeout) * 1000)::bigint || 'ms');
            v_counts := '{}';
            foreach v_statement in array p_statements loop
                if v_statement.replica then
                    set local session_replication_role = replica;
                end if;
                execute format('select %s($1, false)', v_executor) into v_count using v_statement.sql;
                if v_statement.replica then
                    execute format('set local session_replication_role = %L', v_srr);
                end if;
                v_counts := v_counts || (v_count #>> '{}')::bigint;
            end loop;
            execute format('set local lock_timeout = %L', v_lock);
            if v_propagate is not null then
                execute format('set local citus.propagate_set_commands = %L', v_propagate);
            end if;
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
