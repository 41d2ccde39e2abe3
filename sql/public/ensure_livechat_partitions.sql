create or replace function public.ensure_livechat_partitions()
returns text[]
language sql
volatile
as $$
/*
 * The original interface: SELECT ensure_livechat_partitions();
 * Makes sure the partitions of public.livechat_messages for the current month (partkeeper.now())
 * and the next `premake` months (2 by default) exist (partkeeper.ensure_livechat_partitions) and
 * returns their names as the caller's search_path prints them ('livechat_messages_2025_09'),
 * oldest first. SECURITY INVOKER with the caller's search_path for those names only; every function
 * it calls is named with its schema. Errors: see partkeeper.ensure_livechat_partitions.
 */
select coalesce(pg_catalog.array_agg(p::pg_catalog.text order by n), '{}') from pg_catalog.unnest(partkeeper.ensure_livechat_partitions()) with ordinality u(p, n)
$$;

comment on function public.ensure_livechat_partitions() is 'partkeeper: make sure the current and the next premake months of livechat_messages have partitions';
