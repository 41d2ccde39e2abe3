create or replace function partkeeper.conversion_state(p_table regclass, p_steps text[])
returns partkeeper.conversions
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The recorded conversion of p_table (conversion_of: the table being converted or its twin,
 * whichever holds the name at the moment), locked FOR UPDATE so that two runs of a step never
 * interleave (the second waits for the first's transaction, or batch).
 * Errors: PK002 NULL; PK015 no conversion of that table is recorded, or it is at a step not in
 * p_steps: the hint names the one call to run next (conversion_next), and after the swap the undo
 * call as the other way; PK007 the caller may act as the owner of neither of its tables (they
 * share one owner; either may have been dropped by hand since); PK002 before the swap, when the
 * twin was dropped by hand and the step goes forward (every step but undo, the one caller that
 * accepts both 'prepared' and 'swapped'): the hint names the undo, which ends the conversion.
 */
declare
    v_state partkeeper.conversions := partkeeper.conversion_of(p_table);
    v_next record;
begin
    if p_table is null then
        raise exception 'no table given' using errcode = 'PK002', hint = 'Name the table being converted.';
    end if;
    if v_state.table_name is not null then
        select * into v_state from partkeeper.conversions c where c.table_name = v_state.table_name for update;
    end if;
    if v_state.table_name is null then
        -- how to start one, in the direction the table allows
        v_state.table_name := partkeeper.qualified_name(p_table);
        v_state.direction := case when (select c.relkind from pg_class c where c.oid = p_table) = 'p' then 'unpartition' else 'partition' end;
        raise exception 'no conversion of % is under way', v_state.table_name
            using errcode = 'PK015', hint = format('Start one: %s', (partkeeper.conversion_next(v_state)).sql_call);
    end if;
    if not (partkeeper.may_maintain(v_state.parent) or partkeeper.may_maintain(v_state.twin)) then
        raise exception 'role % does not own %', current_user, v_state.table_name
            using errcode = 'PK007', hint = 'Run the conversion as the table''s owner, a member of that role, or a superuser.';
    end if;
    if v_state.step in ('prepared', 'capturing', 'filled', 'verified')
       and not ('prepared' = any (p_steps) and 'swapped' = any (p_steps))
       and not exists (select from pg_class c where c.oid = v_state.twin) then
        v_next := partkeeper.conversion_next(v_state);
        raise exception 'the twin of % was dropped at step %: the conversion cannot go on', v_state.table_name, v_state.step
            using errcode = 'PK002',
                  hint = format('End it with %s (%s), then start again if you wish. Writes to %s go on meanwhile.',
                                v_next.undo_call, v_next.undo_command, v_state.table_name);
    end if;
    if not (v_state.step = any (p_steps)) then
        if v_state.step = 'finished' then
            -- going back is a conversion the other way
            v_state.direction := case when v_state.direction = 'partition' then 'unpartition' else 'partition' end;
            v_state.step := null;
            raise exception 'the conversion of % is finished', v_state.table_name
                using errcode = 'PK015', hint = format('Nothing is left to run. To turn it back: %s', (partkeeper.conversion_next(v_state)).sql_call);
        end if;
        v_next := partkeeper.conversion_next(v_state);
        raise exception 'the conversion of % is at step %', v_state.table_name, v_state.step
            using errcode = 'PK015', hint = format('The next step is %s', v_next.sql_call)
                                            || case when v_state.step = 'swapped'
                                                    then format(' To go back instead: %s', v_next.undo_call) else '' end;
    end if;
    return v_state;
end
$$;
