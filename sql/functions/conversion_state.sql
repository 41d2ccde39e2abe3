create or replace function partkeeper.conversion_state(p_table regclass, p_steps text[])
returns partkeeper.conversions
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The recorded conversion of p_table (the table being converted or its twin, whichever holds the
 * name at the moment), locked FOR UPDATE so that two runs of a step never interleave (the second waits for
 * the first's transaction, or batch). Errors: PK002 NULL; PK015 no conversion of that table is
 * recorded, or it is at a step not in p_steps (the hint names the next step to run); PK007 the
 * caller may not act as the table's owner.
 */
declare
    v_state partkeeper.conversions;
    v_next text;
begin
    if p_table is null then
        raise exception 'table NULL does not exist' using errcode = 'PK002', hint = 'Name the table being converted.';
    end if;
    select * into v_state from partkeeper.conversions c
     where c.parent = p_table or c.twin = p_table
     order by c.step = 'finished', c.updated_at desc limit 1
       for update;
    if not found then
        raise exception 'no conversion of % is under way', p_table
            using errcode = 'PK015', hint = 'Start one with partkeeper.convert_prepare(table, time_column) (or p_unpartition => true).';
    end if;
    if not partkeeper.may_maintain(v_state.parent) then
        raise exception 'role % does not own %', current_user, v_state.table_name
            using errcode = 'PK007', hint = 'Run the conversion as the table''s owner, a member of that role, or a superuser.';
    end if;
    if not (v_state.step = any (p_steps)) then
        v_next := case v_state.step when 'prepared' then 'convert_capture' when 'capturing' then 'convert_fill'
                                    when 'filled' then 'convert_verify' when 'verified' then 'convert_swap'
                                    when 'swapped' then 'convert_finish (or convert_undo)' else 'convert_prepare' end;
        raise exception 'the conversion of % is at step %', v_state.table_name, v_state.step
            using errcode = 'PK015', hint = format('The next step is partkeeper.%s(%L).', v_next, v_state.table_name);
    end if;
    return v_state;
end
$$;
