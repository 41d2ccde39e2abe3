-- The live-chat table: adopted when it exists, created when it does not (unless switched off),
-- registered, and given its partitions for now and the premake periods.
--   partkeeper.create_reference_table (a setting: psql -c 'SET partkeeper.create_reference_table = off'
--     -f sql/install.sql, PGOPTIONS, `partkeeper apply --no-reference-table`, or once for every later
--     install ALTER DATABASE app SET partkeeper.create_reference_table = off): on (default) creates
--     public.livechat_messages when it is missing; off never creates it (an existing one is adopted).
--   partkeeper.premake_on_install: on (default) makes the partitions of the current period and the
--     premake ones here, so `doctor` passes right after install; off leaves them to the first
--     maintenance run (install then takes no lock on the table beyond registering it).
-- Adoption leaves existing partitions and rows untouched and says what it found in a NOTICE. A plain
-- (non-partitioned) table is left as it is, unregistered, with a WARNING whose hint says how to
-- convert it online (partkeeper convert). A partition that cannot be made here (a lock not granted, a
-- partition with other bounds in the way) is reported in a WARNING; maintenance makes it later.
do $livechat$
declare
    v_table regclass := to_regclass('public.livechat_messages');
    v_create text := lower(coalesce(nullif(current_setting('partkeeper.create_reference_table', true), ''), 'on'));
    v_premake text := lower(coalesce(nullif(current_setting('partkeeper.premake_on_install', true), ''), 'on'));
    v_created boolean := false;
    v_result jsonb;
    v_made text[] := '{}';
    v_partitions integer;
    r record;
begin
    if v_create not in ('on', 'off', 'true', 'false', '1', '0', 'yes', 'no') or v_premake not in ('on', 'off', 'true', 'false', '1', '0', 'yes', 'no') then
        raise exception 'partkeeper.create_reference_table and partkeeper.premake_on_install take on or off, got % and %', v_create, v_premake
            using errcode = 'PK001', hint = 'For example: SET partkeeper.create_reference_table = off; then run the install.';
    end if;
    if v_table is null then
        if not v_create::boolean then
            raise notice 'partkeeper: public.livechat_messages not created (partkeeper.create_reference_table is off); register tables with partkeeper.register_table()';
            return;
        end if;
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
        v_created := true;
        raise notice 'partkeeper: created public.livechat_messages';
    elsif (select c.relkind from pg_catalog.pg_class c where c.oid = v_table) = 'r' then
        -- installing around it lets the DBA convert it online with the functions this install brings
        raise warning 'partkeeper: public.livechat_messages is a plain table; it is left as it is and not managed'
            using hint = 'Convert it online into a managed partitioned table: partkeeper convert public.livechat_messages --column created_at '
                         '(or the partkeeper.convert_* steps in SQL; README, "Converting a plain table"). Its primary key must include created_at.';
        return;
    end if;

    v_result := partkeeper.register_table(v_table);
    if not v_created and (v_result ->> 'registered')::boolean then
        select count(*) into v_partitions from partkeeper.partition_bounds(v_table) b where not b.is_default;
        raise notice 'partkeeper: adopted % with its % partition(s), rows untouched; its DEFAULT partition is %',
            v_result ->> 'table', v_partitions, v_result ->> 'default_partition';
    end if;
    if jsonb_array_length(v_result -> 'misaligned') > 0 then
        raise warning 'partkeeper: partitions of % that are not whole % months: %',
            v_table, v_result #>> '{config,time_zone}', v_result -> 'misaligned';
    end if;

    if v_premake::boolean then
        for r in select p.lower, p.upper from partkeeper.periods_between(v_table, partkeeper.now(),
                                                                          partkeeper.horizon_target(v_table, partkeeper.now())) p
        loop
            begin
                v_result := partkeeper.add_partition(v_table, r.lower, r.upper);
                if (v_result ->> 'created')::boolean then
                    v_made := v_made || (v_result ->> 'partition');
                end if;
            exception when others then
                raise warning 'partkeeper: the partition of % for [%, %) was not made at install: % (%); maintenance makes it',
                    v_table, r.lower, r.upper, sqlerrm, sqlstate;
            end;
        end loop;
        if cardinality(v_made) > 0 then
            raise notice 'partkeeper: made the partitions of % for now and the premake periods: %', partkeeper.qualified_name(v_table), array_to_string(v_made, ', ');
        end if;
    end if;
end
$livechat$;
