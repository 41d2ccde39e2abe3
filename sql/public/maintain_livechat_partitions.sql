create or replace function public.maintain_livechat_partitions()
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
/*
 * The original interface for external schedulers: SELECT maintain_livechat_partitions();
 * One maintenance run of public.livechat_messages (partkeeper.maintain_table): returns its JSON
 * status for monitoring; "busy" when another run is in progress. Never waits for a lock longer
 * than the table's lock_timeout. Errors: PK002 when the table does not exist, PK004 unregistered.
 */
declare
    v_table regclass := pg_catalog.to_regclass('public.livechat_messages');
begin
    if v_table is null then
        raise exception 'table public.livechat_messages does not exist'
            using errcode = 'PK002', hint = 'Run sql/install.sql, which creates or adopts it.';
    end if;
    return partkeeper.maintain_table(v_table);
end
$$;

comment on function public.maintain_livechat_partitions() is 'partkeeper: one maintenance run of livechat_messages; returns JSON status';
