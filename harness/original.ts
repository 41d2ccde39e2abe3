// The original design's table, as DBAs have it before partkeeper: the shape partkeeper adopts.
// Used by the simulator's default scenario and by the tests; the product's own definition of the
// table (created when none exists) is sql/tables/livechat_messages.sql.

/** Its partitions: whole UTC months 2025-04 .. 2025-08, made by the original scripts. */
export const ORIGINAL_MONTHS = ['2025-04', '2025-05', '2025-06', '2025-07', '2025-08'];

export const ORIGINAL_TABLE_DDL = `create table livechat_messages (
    id bigint generated always as identity,
    room_id bigint not null,
    sender_id bigint not null,
    body text not null,
    created_at timestamptz not null default now(),
    primary key (id, created_at)
) partition by range (created_at)`;

export const ORIGINAL_INDEX_DDL = 'create index livechat_messages_room_created_idx on livechat_messages (room_id, created_at desc)';

/** CREATE TABLE ... PARTITION OF for each original month, as the original scripts made them. */
export function originalPartitionsDdl(): string[] {
  return ORIGINAL_MONTHS.map((month, i) => {
    const next = ORIGINAL_MONTHS[i + 1] ?? '2025-09';
    return `create table livechat_messages_${month.replace('-', '_')} partition of livechat_messages for values from ('${month}-01 00:00+00') to ('${next}-01 00:00+00')`;
  });
}
