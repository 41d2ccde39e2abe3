// The original design's table, as DBAs have it before partkeeper: the shape partkeeper adopts.
// Used by the simulator's default scenario and by the tests; the product's own definition of the
// table (created when none exists) is sql/tables/livechat_messages.sql.

/** Its partitions: whole UTC months 2025-04 .. 2025-08, made by the original scripts. */
export const ORIGINAL_MONTHS = ['2025-04', '2025-05', '2025-06', '2025-07', '2025-08'];

/**
 * The livechat_messages shape (sql/tables/livechat_messages.sql is the product's definition), as
 * CREATE TABLE for `table`: the one TypeScript copy of it, for the original design's table, the
 * tests' and the benchmarks' tables of that shape, and their plain variants. Defaults: partitioned
 * by range on created_at with primary key (id, created_at), as the original design has it; a plain
 * table's key is (id). `primaryKey` is the key's column list (`'room_id, id, created_at'`), null for none.
 */
export function livechatTableDdl(
  table: string,
  opts: { partitioned?: boolean; primaryKey?: string | null; identity?: boolean; constraints?: boolean } = {},
): string {
  const partitioned = opts.partitioned ?? true;
  const primaryKey = opts.primaryKey === undefined ? (partitioned ? 'id, created_at' : 'id') : opts.primaryKey;
  const constraints = opts.constraints ?? true;
  const notNull = constraints ? ' not null' : '';
  return `create table ${table} (
    id bigint${opts.identity === false ? '' : ' generated always as identity'},
    room_id bigint${notNull},
    sender_id bigint${notNull},
    body text${notNull},
    created_at timestamptz${notNull}${constraints ? ' default now()' : ''}${primaryKey ? `,\n    primary key (${primaryKey})` : ''}
)${partitioned ? ' partition by range (created_at)' : ''}`;
}

export const ORIGINAL_TABLE_DDL = livechatTableDdl('livechat_messages');

export const ORIGINAL_INDEX_DDL = 'create index livechat_messages_room_created_idx on livechat_messages (room_id, created_at desc)';

/** CREATE TABLE ... PARTITION OF for each original month, as the original scripts made them. */
export function originalPartitionsDdl(): string[] {
  return ORIGINAL_MONTHS.map((month, i) => {
    const next = ORIGINAL_MONTHS[i + 1] ?? '2025-09';
    return `create table livechat_messages_${month.replace('-', '_')} partition of livechat_messages for values from ('${month}-01 00:00+00') to ('${next}-01 00:00+00')`;
  });
}
