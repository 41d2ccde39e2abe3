create or replace function partkeeper.capture_ddl(p_source regclass, p_target regclass, p_function text,
                                                  p_source_name text default null, p_target_name text default null)
returns partkeeper.statement[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
/*
 * The statements that keep p_target in step with p_source from the moment they commit: a trigger
 * partkeeper_capture AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on p_source, and its function
 * p_function (a qualified, quoted name in p_source's schema). Every row a statement writes into
 * p_source is written into p_target in the same transaction:
 *   INSERT, UPDATE: upsert of the new row on p_target's primary key (ON CONFLICT DO UPDATE), so a
 *     row that a batch of fill copied first is overwritten with the newer version;
 *   DELETE, and an UPDATE that changes p_target's key: the row with the old key is deleted.
 * Used both ways: original -> twin while the twin is filled (convert_capture), and the converted
 * table -> the retired original after the swap, so that convert_undo loses no write.
 * When p_target no longer exists under its name (a twin or a retired table dropped by hand), the
 * function writes nothing and the application's statement goes on: a dropped copy must never stop
 * writes to the table. health() reports such a conversion; convert_undo (before the swap) or
 * convert_finish (after it) then removes the trigger.
 * The function is SECURITY DEFINER and owned by the table's owner (the statements run through
 * execute_as_owner): a writer with INSERT alone still has its rows carried, and nothing runs with
 * more rights than the owner's. EXECUTE is revoked from PUBLIC (PostgreSQL checks it only when the
 * trigger is created). Generated columns are left to p_target to compute; identity values are
 * carried (OVERRIDING SYSTEM VALUE). p_source_name, p_target_name: the qualified names to write in
 * the statements when they run after a rename (convert_swap); default the tables' current names.
 * Reads the catalog only; both tables must have the same columns.
 */
declare
    v_cols name[] := array(select c.name from partkeeper.copyable_columns(p_target) c);
    v_keys name[];
    v_rest name[];
    v_body text;
begin
    select array_agg(a.attname order by k.n) into v_keys
      from pg_constraint c
      cross join unnest(c.conkey) with ordinality k(attnum, n)
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
     where c.conrelid = p_target and c.contype = 'p';
    v_rest := array(select x from unnest(v_cols) x where x <> all (v_keys));
    v_body := format($body$
begin
    -- the target dropped by hand: the application's write goes on; the conversion's next step says so
    if pg_catalog.to_regclass(%8$L) is null then
        return null;
    end if;
    if tg_op = 'DELETE' or (tg_op = 'UPDATE' and (%1$s) is distinct from (%2$s)) then
        delete from %3$s where (%4$s) = (%1$s);
    end if;
    if tg_op <> 'DELETE' then
        insert into %3$s (%5$s) overriding system value values (%6$s)
            on conflict (%4$s) do %7$s;
    end if;
    return null;
end
$body$,
        (select string_agg(format('old.%I', k), ', ') from unnest(v_keys) k),
        (select string_agg(format('new.%I', k), ', ') from unnest(v_keys) k),
        coalesce(p_target_name, p_target::text),
        (select string_agg(format('%I', k), ', ') from unnest(v_keys) k),
        (select string_agg(format('%I', c), ', ') from unnest(v_cols) c),
        (select string_agg(format('new.%I', c), ', ') from unnest(v_cols) c),
        case when cardinality(v_rest) = 0 then 'nothing'
             else 'update set ' || (select string_agg(format('%I = excluded.%I', c, c), ', ') from unnest(v_rest) c) end,
        coalesce(p_target_name, p_target::text));
    return array[
        row(format('create or replace function %s() returns trigger language plpgsql security definer'
                   ' set search_path = pg_catalog, pg_temp as %L', p_function, v_body), false)::partkeeper.statement,
        row(format('revoke all on function %s() from public', p_function), false)::partkeeper.statement,
        row(format('drop trigger if exists partkeeper_capture on %s', coalesce(p_source_name, p_source::text)), false)::partkeeper.statement,
        row(format('create trigger partkeeper_capture after insert or update or delete on %s'
                   ' for each row execute function %s()', coalesce(p_source_name, p_source::text), p_function), false)::partkeeper.statement];
end
$$;
