// A move under logical replication, and readers during a move: only a real server has a walsender,
// subscriptions and a second session. Subscribers end with exactly the publisher's rows; what the
// publication streams for a move is a DELETE followed by the INSERT, in one transaction.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Db } from '../src/db.ts';
import { livechatTableDdl } from '../harness/original.ts';
import { describeServer, freshDb, itServer, setClock, type TestDb } from '../harness/testing.ts';
import { defaultRows, fingerprint, maintain } from '../harness/support.ts';

const T = 'livechat_messages';

/** The messages of a pgoutput stream as [kind, relation]: B(egin), C(ommit), I(nsert), D(elete), U(pdate), T(runcate). */
function decode(messages: Buffer[]): [string, string][] {
  const names = new Map<number, string>();
  const out: [string, string][] = [];
  for (const m of messages) {
    const kind = String.fromCharCode(m[0]!);
    if (kind === 'R') {
      const oid = m.readUInt32BE(1);
      const nsEnd = m.indexOf(0, 5);
      const relEnd = m.indexOf(0, nsEnd + 1);
      names.set(oid, `${m.subarray(5, nsEnd).toString()}.${m.subarray(nsEnd + 1, relEnd).toString()}`);
    } else if (kind === 'I' || kind === 'D' || kind === 'U') {
      out.push([kind, names.get(m.readUInt32BE(1)) ?? '?']);
    } else if (kind === 'B' || kind === 'C' || kind === 'T') {
      out.push([kind, '']);
    }
  }
  return out;
}

async function slotChanges(db: Db, slot: string, publication: string): Promise<[string, string][]> {
  const rows = await db.query<{ hex: string }>(
    `select encode(data, 'hex') as hex from pg_logical_slot_get_binary_changes($1, null, null, 'proto_version', '1', 'publication_names', $2)`,
    [slot, publication],
  );
  return decode(rows.map((r) => Buffer.from(r.hex, 'hex')));
}

/** Waits until the subscription has applied everything the publisher wrote so far. */
async function caughtUp(pub: Db, slot: string): Promise<void> {
  const { lsn } = await pub.one<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  for (let i = 0; i < 600; i++) {
    const { done } = await pub.one<{ done: boolean }>(
      `select coalesce(confirmed_flush_lsn >= $2::pg_lsn, false) as done from pg_replication_slots where slot_name = $1`,
      [slot, lsn],
    );
    if (done) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`subscription on slot ${slot} did not catch up`);
}

/** Waits until every table of the subscriptions in `sub` finished its initial copy (state 'r'):
 * before that, the apply worker leaves the table's changes to its table-sync worker. */
async function synced(sub: Db): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { ready } = await sub.one<{ ready: boolean }>(
      `select coalesce(bool_and(srsubstate = 'r'), true) as ready from pg_subscription_rel`,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('subscription tables did not finish their initial copy');
}

/** A subscription of `sub` to `pub`'s publication, on a slot made first (both databases live on one server). */
async function subscribe(pub: TestDb, sub: TestDb, publication: string): Promise<{ slot: string; drop: () => Promise<void> }> {
  const slot = `pk_${randomBytes(4).toString('hex')}`;
  await pub.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  await sub.exec(
    `create subscription ${slot} connection '${pub.url}' publication ${publication} with (create_slot = false, slot_name = '${slot}')`,
  );
  await synced(sub);
  return {
    slot,
    drop: async () => {
      await sub.exec(`alter subscription ${slot} disable`);
      await sub.exec(`alter subscription ${slot} set (slot_name = none)`);
      await sub.exec(`drop subscription ${slot}`);
      for (let i = 0; i < 100; i++) {
        const { active } = await pub.one<{ active: boolean }>(
          `select coalesce(bool_or(active), false) as active from pg_replication_slots where slot_name = $1`,
          [slot],
        );
        if (!active) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await pub.query('select pg_drop_replication_slot($1)', [slot]);
    },
  };
}

async function insertWaiting(db: Db, n = 3): Promise<void> {
  await db.exec(`insert into ${T} (room_id, sender_id, body, created_at)
                 select g, 1, 'waiting ' || g, timestamptz '2026-10-05 12:00+00' + g * interval '1 hour' from generate_series(1, ${n}) g`);
}

const rowsOf = (db: Db, table = T) => db.query(`select id::text, room_id::int, body, created_at::text from ${table} order by id`);

describeServer('logical replication and readers during a move (PostgreSQL server)', () => {
  itServer(
    'every kind of publication streams the move as a DELETE followed by the INSERT, in one transaction',
    async () => {
      const db = await freshDb();
      await setClock(db, '2027-01-10 00:00:00+00');
      await db.exec(
        `create schema chat; create table chat.events (id int, at timestamptz not null, primary key (id, at)) partition by range (at)`,
      );
      await db.query(`select partkeeper.register_table('chat.events')`);
      // FOR TABLES IN SCHEMA came with PostgreSQL 15: before it, a schema's tables are published by name
      const { v } = await db.one<{ v: number }>(`select current_setting('server_version_num')::int as v`);
      const bySchema = v >= 150000 ? 'for tables in schema chat' : 'for table chat.events';
      const cases: { publication: string; table: string; create: string; expected: [string, string][] }[] = [
        {
          publication: 'p_root',
          table: T,
          create: `for table ${T} with (publish_via_partition_root = true)`,
          expected: [
            ['B', ''],
            ['D', `public.${T}`],
            ['I', `public.${T}`],
            ['C', ''],
          ],
        },
        {
          publication: 'p_leaf',
          table: T,
          create: `for table ${T}`,
          expected: [
            ['B', ''],
            ['D', `public.${T}_default`],
            ['I', `public.${T}_2026_10`],
            ['C', ''],
          ],
        },
        {
          publication: 'p_schema',
          table: 'chat.events',
          create: `${bySchema} with (publish_via_partition_root = true)`,
          expected: [
            ['B', ''],
            ['D', 'chat.events'],
            ['I', 'chat.events'],
            ['C', ''],
          ],
        },
        {
          publication: 'p_all',
          table: T,
          create: 'for all tables',
          expected: [
            ['B', ''],
            ['D', `public.${T}_default`],
            ['I', `public.${T}_2026_10`],
            ['C', ''],
          ],
        },
      ];
      for (const c of cases) {
        await db.exec(`create publication ${c.publication} ${c.create}`);
        if (c.table === T) await insertWaiting(db, 1);
        else await db.exec(`insert into chat.events values (1, '2026-10-05 12:00+00')`);
        const slot = `pk_${randomBytes(4).toString('hex')}`;
        await db.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
        try {
          const run = await maintain(db, c.table);
          expect(run.rows_moved).toBe(1);
          // the run's own bookkeeping rows are published too by FOR ALL TABLES: look at the table only
          const changes = (await slotChanges(db, slot, c.publication)).filter(
            ([k, rel]) => k === 'B' || k === 'C' || rel.startsWith(c.table === T ? `public.${T}` : 'chat.'),
          );
          const firstDelete = changes.findIndex(([k]) => k === 'D');
          expect(changes.slice(firstDelete - 1, firstDelete + 3), c.publication).toEqual(c.expected);
        } finally {
          await db.query('select pg_drop_replication_slot($1)', [slot]);
          await db.exec(`drop publication ${c.publication}`);
          await db.exec(`truncate ${c.table}`);
          await db.exec(`drop table if exists ${c.table === T ? `${T}_2026_10` : 'chat.events_2026_10'}`);
        }
      }
    },
    60_000,
  );

  itServer(
    "a subscriber of publish_via_partition_root = true ends with exactly the publisher's rows",
    async () => {
      const pub = await freshDb();
      const sub = await freshDb();
      await setClock(pub, '2027-01-10 00:00:00+00');
      await maintain(pub);
      await pub.exec(`create publication p for table ${T} with (publish_via_partition_root = true)`);
      const s = await subscribe(pub, sub, 'p');
      try {
        await insertWaiting(pub, 20);
        await caughtUp(pub, s.slot);
        expect(await rowsOf(sub)).toEqual(await rowsOf(pub));
        const run = await maintain(pub);
        expect(run.rows_moved).toBe(20);
        await insertWaiting(pub, 1); // and a row after the move, into the new partition
        await caughtUp(pub, s.slot);
        expect(await rowsOf(sub)).toHaveLength(21);
        expect(await rowsOf(sub)).toEqual(await rowsOf(pub));
      } finally {
        await s.drop();
      }
    },
    60_000,
  );

  itServer(
    'a subscriber of the partitions themselves (publish_via_partition_root = false) keeps every row once it refreshes, as for any new partition',
    async () => {
      const pub = await freshDb();
      const sub = await freshDb({ bundle: false });
      await setClock(pub, '2027-01-10 00:00:00+00');
      await maintain(pub);
      // the subscriber holds one plain table per published partition, as such subscribers do
      const leaves = await pub.query<{ t: string }>(
        `select inhrelid::regclass::text as t from pg_inherits where inhparent = '${T}'::regclass`,
      );
      for (const { t } of leaves) await sub.exec(livechatTableDdl(t, { partitioned: false, identity: false, constraints: false }));
      await pub.exec(`create publication p for table ${T}`);
      const s = await subscribe(pub, sub, 'p');
      try {
        await insertWaiting(pub, 5);
        await caughtUp(pub, s.slot);
        expect(await rowsOf(sub, `${T}_default`)).toHaveLength(5);
        expect((await maintain(pub)).rows_moved).toBe(5);
        // the new partition: the subscriber gets a table for it and refreshes the subscription,
        // which copies it (PostgreSQL's rule for every partition made after the subscription)
        const made = await pub.query<{ t: string }>(
          `select inhrelid::regclass::text as t from pg_inherits where inhparent = '${T}'::regclass`,
        );
        for (const { t } of made.filter((m) => !leaves.some((l) => l.t === m.t))) {
          await sub.exec(livechatTableDdl(t, { partitioned: false, identity: false, constraints: false }));
        }
        await sub.exec(`alter subscription ${s.slot} refresh publication`);
        await synced(sub);
        await caughtUp(pub, s.slot);
        const union = await sub.query(`select id::text, room_id::int, body, created_at::text from (
          select * from ${T}_default union all select * from ${T}_2026_10) u order by id`);
        expect(await rowsOf(sub, `${T}_default`)).toEqual([]);
        expect(union).toEqual(await rowsOf(pub));
      } finally {
        await s.drop();
      }
    },
    60_000,
  );

  itServer(
    'readers of the table during a move count the moved rows, before or after it, never without them',
    async () => {
      const db = await freshDb();
      await setClock(db, '2027-01-10 00:00:00+00');
      await maintain(db);
      const n = 200_000;
      await db.exec(`insert into ${T} (room_id, sender_id, body, created_at)
                   select 1, 1, 'x', '2026-10-05'::timestamptz + g * interval '1 second' from generate_series(1, ${n}) g;
                   insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'january', '2027-01-05'); analyze ${T}`);
      const before = await fingerprint(db);
      const maint = await db.connect();
      await setClock(maint, '2027-01-10 00:00:00+00');
      const readers = await Promise.all(Array.from({ length: 6 }, () => db.connect()));
      const move = maintain(maint);
      const counts: number[] = [];
      let done = false;
      void move.finally(() => (done = true));
      const reading = readers.map(async (r) => {
        while (!done) counts.push((await r.one<{ n: number }>(`select count(*)::int as n from ${T} where room_id = 1`)).n);
      });
      const run = await move;
      await Promise.all(reading);
      expect(run).toMatchObject({ status: 'ok', rows_moved: n });
      expect(counts.length).toBeGreaterThan(0);
      expect(new Set(counts)).toEqual(new Set([n + 1]));
      expect(await fingerprint(db)).toEqual(before);
      expect(await defaultRows(db)).toBe(0);
    },
    120_000,
  );
});
