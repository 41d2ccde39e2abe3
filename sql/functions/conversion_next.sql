create or replace function partkeeper.conversion_next(p_state partkeeper.conversions, out step text, out sql_call text, out command text,
                                                      out undo_call text, out undo_command text)
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
/*
 * What comes after the recorded step of a conversion (p_state, a row of partkeeper.conversions;
 * its step NULL for one not started yet, with table_name, direction and, when known, time_column):
 *   step     the next step: prepare, capture, fill, verify, swap, finish; NULL once finished;
 *   sql_call the one SQL call that runs it ("SELECT partkeeper.convert_capture('public.events');",
 *            "CALL partkeeper.convert_fill(...);" for fill, which commits per batch);
 *   command  the command line that runs it and every step after it up to the swap
 *            ("partkeeper convert public.events"; after the swap with --finish);
 *   undo_call, undo_command  the SQL call and the command line that go back instead (NULL before
 *            prepare: there is nothing to undo).
 * The one place that orders the steps: the hints of conversion_state and convert_prepare,
 * health() and the command line all ask here. Before prepare the time column
 * is unknown unless given: the call then holds the placeholder <time column>.
 * Pure: reads nothing. A NULL table_name, or a finished conversion, gives NULLs.
 */
declare
    v_table text := p_state.table_name;
    v_column text := coalesce(p_state.time_column, '<time column>');
    v_words text[];
begin
    step := case p_state.step when 'prepared' then 'capture' when 'capturing' then 'fill' when 'filled' then 'verify'
                              when 'verified' then 'swap' when 'swapped' then 'finish' when 'finished' then null
                              else 'prepare' end;
    if v_table is null or step is null then
        step := null;
        return;
    end if;
    sql_call := case step
                    when 'prepare' then case when p_state.direction = 'unpartition'
                                             then format('SELECT partkeeper.convert_prepare(%L, p_unpartition => true);', v_table)
                                             else format('SELECT partkeeper.convert_prepare(%L, %L);', v_table, v_column) end
                    when 'fill' then format('CALL partkeeper.convert_fill(%L);', v_table)
                    else format('SELECT partkeeper.convert_%s(%L);', step, v_table) end;
    -- the table and the column as shell words: quoted unless only letters, digits, _ and .
    v_words := array(select case when w ~ '^[A-Za-z0-9_.]+$' then w else '''' || replace(w, '''', '''\''''') || '''' end
                       from unnest(array[v_table, v_column]) with ordinality x(w, n) order by n);
    command := format('partkeeper %s %s', case when p_state.direction = 'unpartition' then 'unpartition' else 'convert' end, v_words[1])
               || case when step = 'finish' then ' --finish'
                       when step = 'prepare' and p_state.direction is distinct from 'unpartition' then ' --column ' || v_words[2]
                       else '' end;
    if step <> 'prepare' then
        undo_call := format('SELECT partkeeper.convert_undo(%L);', v_table);
        undo_command := format('partkeeper %s %s --undo', case when p_state.direction = 'unpartition' then 'unpartition' else 'convert' end, v_words[1]);
    end if;
end
$$;
