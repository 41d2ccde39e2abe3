-- The live-chat table: adopted when it exists, created when it does not, then registered.
-- Adoption leaves existing partitions and rows untouched. A plain (non-partitioned) table stops the
-- install with PK003 and its hint; since install runs in one transaction, nothing is changed.
do $livechat$
declare
    v_table regclass := to_regclass('public.livechat_messages');
    v_result jsonb;
begin
    if v_table is null then
        create table public.livechat_messages (
            id          bigint generated always as identity,
            room_id     bigint not null,
            sender_id   bigint not null,
            body        text not null,
            created_at  timestamptz not null default now(),
            primary key (id, created_at)
        ) partition by range (created_at);
        -- "the latest messages of a room": equality on room, newest first
        create index livechat_messages_room_recent_idx on public.livechat_messages (room_id, created_at desc);
        v_table := 'public.livechat_messages'::regclass;
        raise notice 'partkeeper: created public.livechat_messages';
    elsif (select c.relkind from pg_catalog.pg_class c where c.oid = v_table) = 'r' then
        raise exception 'public.livechat_messages is a plain table; partkeeper manages partitioned tables'
            using errcode = 'PK003',
                  hint = 'Nothing was changed. To convert it: ALTER TABLE livechat_messages RENAME TO livechat_messages_plain; '
                         'run the install again (it creates the partitioned table); copy the rows with '
                         'INSERT INTO livechat_messages OVERRIDING SYSTEM VALUE SELECT * FROM livechat_messages_plain; '
                         'then SELECT maintain_livechat_partitions(); (README, "Converting a plain table").';
    end if;

    v_result := partkeeper.register_table(v_table);
    if jsonb_array_length(v_result -> 'misaligned') > 0 then
        raise warning 'partkeeper: partitions of % that are not whole % months: %',
            v_table, v_result #>> '{config,time_zone}', v_result -> 'misaligned';
    end if;
end
$livechat$;
