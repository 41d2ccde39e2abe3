create or replace function partkeeper.ensure_livechat_partitions()
returns regclass[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * What the original interface's ensure_livechat_partitions() does (public/ensure_livechat_partitions.sql
 * turns the result into names in the caller's search_path).
 * Makes sure the partitions of public.livechat_messages for the current month (partkeeper.now())
 * and the next `premake` months (2 by default) exist, running maintenance for the table and
 * waiting up to lock_timeout for a run already in progress. Returns the names of the partitions
 * that cover that span, oldest first.
 * Errors: PK002 when the table does not exist, PK004 when it is not registered, 25006 on a
 * standby (read_only_sql_transaction, as PostgreSQL's own refusals there), PK005 when a run
 * in progress did not finish in time, PK007 when the caller may not maintain the table (its
 * owner, a member of the owning role, or a superuser may), PK008 when the months could not all be
 * made (the hint carries maintenance's warnings with their codes).
 */
declare
    v_table regclass := pg_catalog.to_regclass('public.livechat_messages');
    v_result jsonb;
begin
    if v_table is null then
        raise exception 'table public.livechat_messages does not exist'
            using errcode = 'PK002', hint = 'Run sql/install.sql, which creates or adopts it.';
    end if;
    v_result := partkeeper.maintain_table(v_table, true);
    if v_result ? 'error' then
        -- the table could not be maintained at all: its own error, with its SQLSTATE
        raise exception '%', v_result #>> '{error,message}'
            using errcode = v_result #>> '{error,sqlstate}', hint = coalesce(v_result #>> '{error,hint}', '');
    end if;
    if v_result ->> 'status' = 'skipped' then
        raise exception 'partitions cannot be made on a standby'
            using errcode = '25006', hint = 'Run it on the primary; the standby receives its partitions by replication.';
    end if;
    if v_result ->> 'horizon' is null or (v_result ->> 'horizon')::timestamptz < (v_result ->> 'horizon_target')::timestamptz then
        raise exception 'partitions of % up to % could not all be made', v_table, v_result ->> 'horizon_target'
            using errcode = 'PK008',
                  hint = coalesce((select pg_catalog.string_agg(pg_catalog.format('[%s] %s', w ->> 'code', w ->> 'message'), '; ')
                                     from pg_catalog.jsonb_array_elements(v_result -> 'warnings') w), 'See partkeeper.last_run.');
    end if;
    -- names as the caller's search_path prints them ('livechat_messages_2025_09'): that path is
    -- pinned here, so the names are qualified and the caller's own cast below makes them short
    return array(
        select b.partition
          from partkeeper.partition_bounds(v_table) b
         where not b.is_default
           and b.upper > (partkeeper.table_period(v_table, (v_result ->> 'clock')::timestamptz)).lower
           and b.lower < (v_result ->> 'horizon_target')::timestamptz
         order by b.lower);
end
$$;
