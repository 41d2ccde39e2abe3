create or replace function partkeeper.add_partition(p_parent regclass, p_lower timestamptz, p_upper timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
set datestyle = 'ISO, YMD'
as $$
/*
 * Make p_parent's partition for [p_lower, p_upper) exist, named <parent><suffix> after the period
 * of p_lower (table_period: _YYYY_MM for months; partition_name shortens long parents), moving the
 * rows of that range out of the DEFAULT partition into it. Returns {"partition", "lower", "upper",
 * "created", "rows_moved", "method"}: method is "attach" (nothing to move), "guarded attach" (the
 * same with a large DEFAULT partition) or "move". Every statement runs as the table's owner
 * (execute_as_owner: the owner's rights and search_path, lock_timeout with retries, PK005), as one
 * unit: on any error nothing is left behind and the rows stay where they were.
 *
 * Nothing to move (premake, gaps): the table is created standalone, empty, and ATTACHed, so
 * PostgreSQL has nothing of it to validate nor, with the guard below, of the DEFAULT partition.
 *   SHARE on the parent for the ATTACH: writers wait a few milliseconds, readers never. It closes
 *     the race in which an insert routed to the DEFAULT by the old partition set commits a row of
 *     this range after the check (ATTACH would fail, or the insert would with 23514).
 *   A DEFAULT partition over 1 MB is first given a NOT VALID CHECK that excludes the range, which is
 *     then validated: that scan holds only the DEFAULT partition (inserts of rows without a
 *     partition and readers of the DEFAULT wait for it), and lets ATTACH skip scanning it, so the
 *     SHARE lock lasts milliseconds however many rows are parked there. The SHARE lock is then asked
 *     for only when no session waits for the DEFAULT partition, with a lock_timeout below
 *     deadlock_timeout, so a writer queued there is never chosen as a deadlock victim: partkeeper
 *     gives up first and retries.
 * Locks: every lock the ATTACH takes is asked for up front, in one burst before any work
 *   (ddl_locks: p_parent, the DEFAULT partition, then the tables foreign keys link to p_parent in
 *   SHARE ROW EXCLUSIVE), each wait under lock_timeout capped so that all of them end before
 *   deadlock_timeout. An application transaction that holds one of those tables and waits for
 *   p_parent (a room's counter, then a message) thus never becomes the deadlock victim of
 *   maintenance: partkeeper's own wait ends first, it lets go of everything and retries.
 * Rows waiting in the DEFAULT partition (a move): ACCESS EXCLUSIVE on the parent (and the DEFAULT
 *   partition) for the whole move, taken before what would observe it is looked up,
 *   so a reader either ran before it or plans after it and sees the new partition: no statement
 *   sees a moved row missing or twice (readers and writers wait for the move; the move never waits
 *   longer than lock_timeout for them). The move is made invisible (move_observers): enabled user
 *   triggers of the DEFAULT partition are disabled for the move and restored with their modes
 *   (origin, always, replica); when a foreign key references the table the DELETE runs with
 *   session_replication_role = replica, so no ON DELETE action and no check fires (PK009 when the
 *   caller may not set it: the rows wait, nothing changes); in a publication the rows are
 *   inserted after ATTACH, into the partition, so subscribers receive the INSERT after the DELETE.
 *   The new table gets its rows, then its NOT VALID CHECKs, then is attached (indexes built once).
 * On a Citus coordinator the new table of a move is distributed co-located with p_parent before any
 * row goes in (distribute_like); an empty one is distributed by its ATTACH. Lock timeouts reach the
 * workers (execute_as_owner).
 *
 * Idempotent: an existing partition with exactly these bounds is returned with "created": false.
 * PK012 (transient) when a row of the range reached the DEFAULT partition during the ATTACH.
 * PK006 when another partition overlaps the range or the name belongs to another relation; PK009
 * when session_replication_role is needed and may not be set; PK010 when a rewrite rule ON DELETE
 * sits on the DEFAULT partition (the rows wait in the DEFAULT partition in both cases).
 * The caller holds the table's advisory lock (lock_table_runs) and validates the bounds.
 */
declare
    v_info record := partkeeper.table_info(p_parent);
    v_cfg partkeeper.config := partkeeper.config_for(p_parent);
    v_name name := partkeeper.partition_name(p_parent, (partkeeper.table_period(p_parent, p_lower)).suffix);
    v_target text;
    v_existing record;
    v_lower text := partkeeper.bound_literal(p_lower, v_info.control_type);
    v_upper text := partkeeper.bound_literal(p_upper, v_info.control_type);
    v_in_range text;
    v_columns text;
    v_ddl record;
    v_observers record;
    v_statements partkeeper.statement[];
    v_counts bigint[];
    v_moved bigint := 0;
    v_moved_at integer;
    v_method text;
    v_timeout interval;
    v_locks partkeeper.statement[];
    v_attach text;
    v_hold text;
    r record;
begin
    select b.partition, b.lower, b.upper into v_existing
      from partkeeper.partition_bounds(p_parent) b
     where not b.is_default and b.lower < p_upper and b.upper > p_lower
     limit 1;
    if found then
        if v_existing.lower = p_lower and v_existing.upper = p_upper then
            return jsonb_build_object('partition', partkeeper.qualified_name(v_existing.partition), 'lower', p_lower,
                                      'upper', p_upper, 'created', false, 'rows_moved', 0, 'method', null);
        end if;
        raise exception 'range [%, %) of % overlaps partition % [%, %)',
                        p_lower, p_upper, partkeeper.qualified_name(p_parent), partkeeper.qualified_name(v_existing.partition),
                        v_existing.lower, v_existing.upper
            using errcode = 'PK006',
                  hint = 'That partition has other bounds (often made in a session with another TimeZone). '
                         'Move its rows and re-create it on period boundaries, or leave this range to it.';
    end if;

    v_target := format('%I.%I', v_info.schema_name, v_name);
    -- by the catalog, not by name: the caller may have no USAGE on the table's schema (maintenance
    -- acts as the owner; only the owner's statements need it)
    if exists (select from pg_class c where c.relnamespace = (select relnamespace from pg_class where oid = p_parent) and c.relname = v_name) then
        raise exception 'relation % already exists and is not a partition of %', v_target, partkeeper.qualified_name(p_parent)
            using errcode = 'PK006', hint = 'Rename or drop that relation, then run again.';
    end if;

    v_in_range := format('%1$I operator(pg_catalog.>=) %2$s::%4$s and %1$I operator(pg_catalog.<) %3$s::%4$s',
                         v_info.control_column, v_lower, v_upper, v_info.control_type);
    v_columns := partkeeper.copy_columns(p_parent);
    v_attach := format('alter table %s attach partition %s for values from (%s) to (%s)', p_parent, v_target, v_lower, v_upper);

    -- does the DEFAULT partition hold rows of the range? (read as the owner, like everything else)
    if v_info.default_partition is not null and coalesce(partkeeper.local_size(v_info.default_partition) > 0, true) then
        v_counts := partkeeper.execute_as_owner(p_parent, array[(format('select from only %s where %s limit 1',
                        v_info.default_partition, v_in_range), false)::partkeeper.statement], v_cfg.lock_timeout, v_cfg.lock_retries);
    end if;

    v_statements := '{}';
    v_ddl := partkeeper.partition_ddl(p_parent, v_target, coalesce(v_counts[1], 0) > 0);
    v_locks := partkeeper.ddl_locks(p_parent, case when coalesce(v_counts[1], 0) = 0 then 'attach' else 'move' end);
    -- Every lock the ATTACH needs is asked for up front (ddl_locks), each wait under a timeout so
    -- short that all of them end before deadlock_timeout: should an application session close a
    -- cycle with partkeeper, partkeeper's wait ends first and it retries, instead of the deadlock
    -- check cancelling the session that has waited longest.
    v_timeout := least(v_cfg.lock_timeout, current_setting('deadlock_timeout')::interval * 0.8 / cardinality(v_locks));
    if coalesce(v_counts[1], 0) = 0 then
        if v_info.default_partition is not null and partkeeper.local_size(v_info.default_partition) > 1048576 then
            v_method := 'guarded attach';
            v_statements := array[
                (format('alter table %s add constraint partkeeper_guard check (not (%s)) not valid', v_info.default_partition, v_in_range), false),
                (format('alter table %s validate constraint partkeeper_guard', v_info.default_partition), false)]::partkeeper.statement[];
        else
            v_method := 'attach';
        end if;
        -- an empty table needs no CHECK for ATTACH to skip validating it: there is nothing to scan.
        -- The table is made before the SHARE lock is taken (nobody else sees it before the commit),
        -- so writers wait only from the lock to the commit.
        v_statements := v_statements
            || array(select (s, false)::partkeeper.statement from unnest(v_ddl.create_statements || v_ddl.after_load) s);
        if v_method = 'guarded attach' then
            -- the DEFAULT partition is held since the guard was added: a session already queued for it
            -- may hold a table the locks below need, and has waited longer than partkeeper would
            v_statements := v_statements || (format($do$do $w$ begin
                    if exists (select from pg_catalog.pg_locks l where l.relation = %s and not l.granted) then
                        raise exception 'sessions wait for the DEFAULT partition' using errcode = '55P03';
                    end if; end $w$ $do$, v_info.default_partition::oid), false)::partkeeper.statement;
        end if;
        v_statements := v_statements
            || v_locks
            || (v_attach, false)::partkeeper.statement;
        if v_method = 'guarded attach' then
            v_statements := v_statements || (format('alter table %s drop constraint partkeeper_guard', v_info.default_partition), false)::partkeeper.statement;
        end if;
    else
        v_method := 'move';
        -- the locks first, then what would observe the move: once they are held, no trigger, foreign
        -- key or publication can be added to the table or its DEFAULT partition until the move commits
        perform partkeeper.execute_as_owner(p_parent, v_locks, v_timeout, v_cfg.lock_retries);
        v_observers := partkeeper.move_observers(p_parent);
        if v_observers.delete_rules then
            raise exception 'the DEFAULT partition % has a rewrite rule ON DELETE; rows of [%, %) cannot be moved out of it',
                            partkeeper.qualified_name(v_info.default_partition), p_lower, p_upper
                using errcode = 'PK010', hint = format('Drop the rule (DROP RULE ... ON %s); the rows wait in the DEFAULT partition meanwhile.', v_info.default_partition);
        end if;
        if v_observers.referenced and not partkeeper.may_set_replica_role() then
            raise exception 'moving rows of [%, %) into a partition of % needs session_replication_role, which role % may not set',
                            p_lower, p_upper, partkeeper.qualified_name(p_parent), current_user
                using errcode = 'PK009',
                      detail = 'A foreign key references the table: without it, the move''s DELETE would fire its ON DELETE action.',
                      hint = format('GRANT SET ON PARAMETER session_replication_role TO %I; (PostgreSQL 15+), or run maintenance as a superuser. The rows wait in the DEFAULT partition meanwhile.', current_user);
        end if;
        v_statements := array(select (s, false)::partkeeper.statement from unnest(v_ddl.create_statements) s)
            || partkeeper.distribute_like(p_parent, v_target)
            || (format('alter table %s add constraint partkeeper_bounds check (%I is not null and %s)', v_target, v_info.control_column, v_in_range), false)::partkeeper.statement
            || array(select (format('alter table %s disable trigger %I', v_info.default_partition, t ->> 'name'), false)::partkeeper.statement
                       from jsonb_array_elements(v_observers.user_triggers) t);
        -- the copy and the DELETE are two statements, not one DELETE ... RETURNING feeding an INSERT:
        -- a data-modifying CTE keeps every returned row in a tuplestore, which spills to disk past
        -- work_mem (2.3x slower at 1M rows). Under the ACCESS EXCLUSIVE locks held since the start
        -- both statements see the same rows, so the copy's row count is the number moved.
        if not v_observers.published and not v_observers.referenced then
            v_statements := v_statements
                || (format('insert into %s (%s) select %s from only %s where %s', v_target, v_columns, v_columns, v_info.default_partition, v_in_range), false)::partkeeper.statement;
            v_moved_at := cardinality(v_statements);
            v_statements := v_statements
                || (format('delete from only %s where %s', v_info.default_partition, v_in_range), false)::partkeeper.statement;
            v_statements := v_statements
                || array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_load) s)
                || (v_attach, false)::partkeeper.statement;
        else
            -- the rows are copied first into an unlogged table of the owner's, in the table's schema
            -- (no WAL, never published, visible to no other session before it is dropped, in the same
            -- transaction), then the DELETE runs alone, with session_replication_role = replica when a
            -- foreign key references the table (no owner code but the disabled triggers and the
            -- silenced foreign-key actions runs in it)
            v_hold := format('%I.%I', v_info.schema_name, 'partkeeper_move_' || p_parent::oid);
            v_statements := v_statements
                || (format('create unlogged table %s as select %s from only %s where false', v_hold, v_columns, v_info.default_partition), false)::partkeeper.statement
                || (format('insert into %s (%s) select %s from only %s where %s', v_hold, v_columns, v_columns, v_info.default_partition, v_in_range), false)::partkeeper.statement;
            v_moved_at := cardinality(v_statements);
            v_statements := v_statements
                || (format('delete from only %s where %s', v_info.default_partition, v_in_range), v_observers.referenced)::partkeeper.statement;
            if v_observers.published then
                -- into the partition, where the publication sees it, with the parent's row triggers
                -- (cloned by ATTACH) disabled for it; OVERRIDING SYSTEM VALUE because PostgreSQL 17+
                -- gives an attached partition the parent's identity column, and the rows keep their ids
                v_statements := v_statements
                    || array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_load) s)
                    || (v_attach, false)::partkeeper.statement
                    || array(select (format('alter table %s disable trigger %I', v_target, t.tgname), false)::partkeeper.statement
                               from pg_trigger t where t.tgrelid = p_parent and t.tgenabled <> 'D' and t.tgtype::int & 1 = 1
                                and not t.tgisinternal)
                    || (format('insert into %s (%s) overriding system value select %s from %s', v_target, v_columns, v_columns, v_hold), false)::partkeeper.statement
                    || array(select (format('alter table %s enable %s trigger %I', v_target,
                                            case t.tgenabled when 'A' then 'always' when 'R' then 'replica' else '' end, t.tgname), false)::partkeeper.statement
                               from pg_trigger t where t.tgrelid = p_parent and t.tgenabled <> 'D' and t.tgtype::int & 1 = 1
                                and not t.tgisinternal);
            else
                v_statements := v_statements
                    || (format('insert into %s (%s) overriding system value select %s from %s', v_target, v_columns, v_columns, v_hold), false)::partkeeper.statement
                    || array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_load) s)
                    || (v_attach, false)::partkeeper.statement;
            end if;
            v_statements := v_statements || (format('drop table %s', v_hold), false)::partkeeper.statement;
        end if;
        v_statements := v_statements
            || (format('alter table %s drop constraint partkeeper_bounds', v_target), false)::partkeeper.statement
            || array(select (format('alter table %s enable %s trigger %I', v_info.default_partition,
                                    case t ->> 'mode' when 'A' then 'always' when 'R' then 'replica' else '' end, t ->> 'name'), false)::partkeeper.statement
                       from jsonb_array_elements(v_observers.user_triggers) t);
    end if;
    v_statements := v_statements || array(select (s, false)::partkeeper.statement from unnest(v_ddl.after_attach) s);

    begin
        v_counts := partkeeper.execute_as_owner(p_parent, v_statements, v_timeout, v_cfg.lock_retries);
    exception when check_violation then
        -- an insert of a row of this range committed into the DEFAULT partition between the check
        -- above and the lock (it was under way): the ATTACH found it. Nothing changed; the next run moves it.
        if v_method = 'move' then
            raise;
        end if;
        raise exception 'a row of [%, %) arrived in the DEFAULT partition of % while its partition was being made', p_lower, p_upper, partkeeper.qualified_name(p_parent)
            using errcode = 'PK012', hint = 'Nothing was changed; the next maintenance run moves it into the partition.';
    end;
    if v_moved_at is not null then
        v_moved := v_counts[v_moved_at];
    end if;

    perform partkeeper.write_log(p_parent, 'create_partition', v_target,
        jsonb_build_object('lower', p_lower, 'upper', p_upper, 'rows_moved', v_moved, 'method', v_method));
    return jsonb_build_object('partition', v_target, 'lower', p_lower, 'upper', p_upper,
                              'created', true, 'rows_moved', v_moved, 'method', v_method);
end
$$;
