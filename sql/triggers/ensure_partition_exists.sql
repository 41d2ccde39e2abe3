create or replace function partkeeper.ensure_partition_exists()
returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
/*
 * BEFORE INSERT row trigger of a managed table's DEFAULT partition (created by ensure_default,
 * arguments: key column name, key type). PostgreSQL routes a row before any row trigger runs and
 * refuses DDL on a table its own statement is inserting into, so no trigger can create the missing
 * partition. What this one does is what PostgreSQL allows: the row is kept (always returned
 * unchanged, even if recording fails), and the first row of each period (month, week, ...) is
 * recorded in partkeeper.pending and signalled with NOTIFY partkeeper ({"table", "period"}) so maintenance, or
 * anything LISTENing, places it. Rows that found their own partition never reach this trigger.
 * SECURITY DEFINER so an insert-only role can record; it touches only partkeeper.pending.
 */
declare
    v_parent regclass;
    v_period timestamptz;
begin
    begin
        select i.inhparent into v_parent from pg_inherits i where i.inhrelid = TG_RELID;
        v_period := coalesce(
            (partkeeper.table_period(v_parent, partkeeper.key_value(to_jsonb(NEW) ->> TG_ARGV[0], TG_ARGV[1]::regtype))).lower,
            '-infinity');
        if not exists (select from partkeeper.pending p where p.parent = v_parent and p.period_start = v_period) then
            insert into partkeeper.pending (parent, period_start, first_seen)
            values (v_parent, v_period, partkeeper.now())
            on conflict do nothing;
            perform pg_notify('partkeeper', json_build_object('table', v_parent::text, 'period', v_period)::text);
        end if;
    exception when others then
        raise warning 'partkeeper: row kept in % but not recorded: %', TG_TABLE_NAME, sqlerrm;
    end;
    return NEW;
end
$$;
