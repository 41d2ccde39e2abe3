// partkeeper on a Citus coordinator, for a table distributed by room_id: install with psql,
// premake, rows waiting in the distributed DEFAULT partition, the move into a partition that is
// distributed and co-located first, retention, archive and restore, sizes summed over shards, lock
// waits bounded on the workers, writers racing maintenance, and nothing of partkeeper on the workers.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../../src/bundle.ts';
import { DbError, type Db } from '../../src/db.ts';
import { openPostgres } from '../../src/postgres.ts';
import { setClock } from '../../harness/clock.ts';
import { citusDb, coordinatorAdmin, describeCitus, onWorkers, type CitusDb } from '../../harness/citus.ts';
import { livechatTableDdl } from '../../harness/original.ts';
import { random } from '../../harness/simulate/index.ts';
import { healthSchema, parseContract, type Status } from '../../src/contracts.ts';
import { cli, codes, health, maintain, partitions, status } from '../../harness/support.ts';

const run = promisify(execFile);
const PSQL = '/usr/lib/postgresql/15/bin/psql';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The DBA's table: distributed by room_id, so the primary key includes room_id. */
const TABLE_DDL = `
  ${livechatTableDdl('public.livechat_messages', { primaryKey: 'room_id, id, created_at' })};
  create index livechat_messages_room_recent_idx on public.livechat_messages (room_id, created_at desc);
  select create_distributed_table('public.livechat_messages', 'room_id');`;

/** A database on the cluster with the DBA's distributed table, then partkeeper installed with psql on the coordinator. */
async function installed(): Promise<CitusDb> {
  const db = await citusDb();
  await db.exec(TABLE_DDL);
  await run(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url, '-f', path.join(repoRoot, 'sql/install.sql')], {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
  return db;
}

/** Citus's view of a relation: distributed by which column, co-located with what, in how many shards. */
async function distribution(db: Db, rel: string): Promise<{ column: string | null; colocation: number; shards: number } | null> {
  const rows = await db.query<{ column: string | null; colocation: number; shards: number }>(
    `select column_to_column_name(p.logicalrelid, p.partkey) as column, p.colocationid as colocation,
            (select count(*)::int from pg_dist_shard s where s.logicalrelid = p.logicalrelid) as shards
       from pg_dist_partition p where p.logicalrelid = $1::regclass`,
    [rel],
  );
  return rows[0] ?? null;
}

/** Rows of `rel` as the cluster sees them (its shards), and what the coordinator's own relation holds. */
async function rowsIn(db: Db, rel: string): Promise<{ rows: number; local_bytes: number }> {
  return db.one(`select (select count(*)::int from only ${rel}) as rows, pg_relation_size($1::regclass)::int as local_bytes`, [rel]);
}

async function insertAt(db: Db, dates: string[], room = 1): Promise<void> {
  await db.query(
    `insert into livechat_messages (room_id, sender_id, body, created_at)
     select $2::bigint + n % 5, 1, 'message ' || n, d from unnest($1::timestamptz[]) with ordinality as u(d, n)`,
    [dates, room],
  );
}

/** The status of the one table registered, which exists. */
function tableStatus(s: Status) {
  const t = s.tables[0];
  if (!t?.exists) throw new Error(`expected one existing table in ${JSON.stringify(s.tables)}`);
  return t;
}

const monthDays = (month: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${month}-${String((i % 27) + 1).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:00:00+00`);

describeCitus('partkeeper on a Citus coordinator (table distributed by room_id)', () => {
  it('installs with psql, premakes distributed co-located partitions, and keeps partkeeper off the workers', async () => {
    const db = await installed();
    const parent = await distribution(db, 'livechat_messages');
    expect(parent?.column).toBe('room_id');
    // the DEFAULT partition made at install is distributed beside the parent's shards
    expect(await distribution(db, 'livechat_messages_default')).toEqual(parent);
    // no trigger anywhere on the table (Citus refuses them on distributed tables)
    expect(
      await db.query(`select tgname from pg_trigger where tgrelid = 'livechat_messages_default'::regclass and not tgisinternal`),
    ).toEqual([]);

    await setClock(db, '2025-09-15 00:00:00+00');
    const run = await maintain(db);
    expect(run.status, JSON.stringify(run.warnings)).toBe('ok');
    expect(run.created.map((c) => c.partition)).toEqual([
      'public.livechat_messages_2025_09',
      'public.livechat_messages_2025_10',
      'public.livechat_messages_2025_11',
    ]);
    for (const c of run.created) expect(await distribution(db, c.partition)).toEqual(parent);
    // a second run has nothing to do
    expect((await maintain(db)).created).toEqual([]);

    // nothing of partkeeper on the workers: no schema, no function, no executor
    for (const objects of await onWorkers(db, (w) =>
      w.one<{ schemas: number; functions: number }>(
        `select (select count(*)::int from pg_namespace where nspname = 'partkeeper') as schemas,
                (select count(*)::int from pg_proc where proname like 'partkeeper%') as functions`,
      ),
    )) {
      expect(objects).toEqual({ schemas: 0, functions: 0 });
    }
  });

  it('finds rows waiting in the distributed DEFAULT partition and moves them into a partition distributed first', async () => {
    const db = await installed();
    await setClock(db, '2025-09-15 00:00:00+00');
    await maintain(db);
    const parent = await distribution(db, 'livechat_messages');
    // months without a partition: the rows wait in the DEFAULT partition's shards
    await insertAt(db, [...monthDays('2026-03', 40), ...monthDays('2025-05', 25)]);
    expect((await rowsIn(db, 'livechat_messages_default')).rows).toBe(65);
    const before = await db.one<{ n: number; sum: string }>(
      `select count(*)::int as n, md5(string_agg(t::text, ',' order by id)) as sum from livechat_messages t`,
    );

    const s = await status(db);
    expect(tableStatus(s).default_rows).toBe(65);
    const run = await maintain(db);
    expect(run.status, JSON.stringify(run.warnings)).toBe('ok');
    // the two months with rows first, then the gap between May and September (empty partitions)
    expect(run.created.map((c) => [c.partition, c.rows_moved, c.method])).toEqual([
      ['public.livechat_messages_2025_05', 25, 'move'],
      ['public.livechat_messages_2026_03', 40, 'move'],
      ['public.livechat_messages_2025_06', 0, 'attach'],
      ['public.livechat_messages_2025_07', 0, 'attach'],
      ['public.livechat_messages_2025_08', 0, 'attach'],
    ]);
    for (const [rel, n] of [
      ['livechat_messages_2025_05', 25],
      ['livechat_messages_2026_03', 40],
    ] as const) {
      expect(await distribution(db, rel)).toEqual(parent);
      // in the shards, none left behind in the coordinator's relation
      expect(await rowsIn(db, rel)).toEqual({ rows: n, local_bytes: 0 });
    }
    expect((await rowsIn(db, 'livechat_messages_default')).rows).toBe(0);
    expect(await db.one(`select count(*)::int as n, md5(string_agg(t::text, ',' order by id)) as sum from livechat_messages t`)).toEqual(
      before,
    );
    // every row in the partition whose bounds hold it
    for (const p of await partitions(db)) {
      if (p.is_default) continue;
      const { n } = await db.one<{ n: number }>(
        `select count(*)::int as n from only ${p.partition} where not (created_at >= $1::timestamptz and created_at < $2::timestamptz)`,
        [`${p.lower}+00`, `${p.upper}+00`],
      );
      expect(n, p.partition).toBe(0);
    }
    // the next run is settled: the DEFAULT partition's shards are empty
    const again = await maintain(db);
    expect([again.status, again.created, again.default_rows]).toEqual(['ok', [], 0]);
  });

  it('a move fires no ON DELETE CASCADE of a co-located table that references the rows, on the workers either', async () => {
    const db = await installed();
    await db.exec(`
      create table public.reads (room_id bigint not null, msg_id bigint not null, created_at timestamptz not null, reader int not null,
        primary key (room_id, msg_id, created_at, reader),
        foreign key (room_id, msg_id, created_at) references public.livechat_messages (room_id, id, created_at) on delete cascade);
      select create_distributed_table('public.reads', 'room_id', colocate_with => 'livechat_messages');`);
    await setClock(db, '2025-09-15 00:00:00+00');
    await maintain(db);
    await insertAt(db, monthDays('2026-03', 20));
    await db.exec(`insert into reads select room_id, id, created_at, 7 from livechat_messages`);
    const run = await maintain(db);
    expect(run.status, JSON.stringify(run.warnings)).toBe('ok');
    expect(run.created.map((c) => [c.partition, c.rows_moved])).toEqual([['public.livechat_messages_2026_03', 20]]);
    // session_replication_role = replica reached the shards' DELETE: every referencing row is still there
    expect(await db.one(`select count(*)::int as n from reads`)).toEqual({ n: 20 });
    expect(
      await db.one(`select count(*)::int as n from reads r join livechat_messages m on m.id = r.msg_id and m.room_id = r.room_id`),
    ).toEqual({
      n: 20,
    });
  });

  it('status and health report sizes and row estimates summed over the shards', async () => {
    const db = await installed();
    await setClock(db, '2025-09-15 00:00:00+00');
    await maintain(db);
    await insertAt(db, monthDays('2025-09', 2000));
    await db.exec('analyze livechat_messages');
    const s = await status(db);
    const sept = tableStatus(s).partitions.find((p) => p.partition === 'public.livechat_messages_2025_09')!;
    const { bytes } = await db.one<{ bytes: number }>(
      `select citus_total_relation_size('livechat_messages_2025_09')::bigint::int as bytes`,
    );
    expect(sept.bytes).toBe(bytes);
    expect(sept.bytes).toBeGreaterThan(
      (await db.one<{ b: number }>(`select pg_total_relation_size('livechat_messages_2025_09')::int as b`)).b,
    );
    expect(sept.rows_estimate).toBe(2000);
    const h = await health(db);
    const check = (name: string) => h.checks.find((c) => c.check === name && c.table === 'public.livechat_messages');
    expect(check('default_partition')?.status).toBe('ok');
    expect(check('horizon')?.status).toBe('ok');
    expect(check('default_rows')?.status).toBe('ok');
    expect(check('pruning')?.status).toBe('ok');
    // a partition over the size limit is found by its shards' bytes: the limit is what an empty one takes
    const empty = tableStatus(s).partitions.find((p) => p.partition === 'public.livechat_messages_2025_10')!;
    expect(empty.bytes).toBeLessThan(sept.bytes);
    const small = parseContract(
      healthSchema,
      (await db.one<{ h: unknown }>(`select partkeeper.health(p_max_partition_bytes => $1) as h`, [empty.bytes])).h,
      'partkeeper.health(p_max_partition_bytes)',
    );
    expect(small.checks.filter((c) => c.check === 'partition_size').map((c) => c.message.split(' ')[0])).toEqual([
      'public.livechat_messages_2025_09',
    ]);
  });

  it('retention drops expired partitions with their shards', async () => {
    const db = await installed();
    await setClock(db, '2025-06-15 00:00:00+00');
    await maintain(db);
    await insertAt(db, monthDays('2025-06', 30));
    await setClock(db, '2025-10-15 00:00:00+00');
    await maintain(db);
    await db.query(`select partkeeper.configure('livechat_messages', p_retention => '2 months')`);
    const shardsBefore = await db.one<{ n: number }>(
      `select count(*)::int as n from pg_dist_shard where logicalrelid = 'livechat_messages_2025_06'::regclass`,
    );
    expect(shardsBefore.n).toBeGreaterThan(0);
    const run = await maintain(db);
    expect(run.status, JSON.stringify(run.warnings)).toBe('ok');
    expect(run.retired.map((r) => r.partition)).toEqual(['public.livechat_messages_2025_06', 'public.livechat_messages_2025_07']);
    // measured over the shards (DROP TABLE does not keep Citus from measuring shards later in the transaction)
    expect(run.retired.map((r) => (r.bytes ?? 0) > 0)).toEqual([true, true]);
    expect(await db.query(`select to_regclass('livechat_messages_2025_06') as r`)).toEqual([{ r: null }]);
    // the shards are gone from the workers too
    const left = await onWorkers(db, (w) =>
      w.one<{ n: number }>(`select count(*)::int as n from pg_class where relname like 'livechat\\_messages\\_2025\\_06%'`),
    );
    expect(left).toEqual([{ n: 0 }, { n: 0 }]);
    expect((await db.one<{ n: number }>('select count(*)::int as n from livechat_messages')).n).toBe(0);
  });

  it('archive and restore a distributed partition through the command line', async () => {
    const db = await installed();
    await setClock(db, '2025-06-15 00:00:00+00');
    await maintain(db);
    await insertAt(db, monthDays('2025-06', 300));
    const june = `select count(*)::int as n, md5(string_agg(t::text, ',' order by id)) as sum from livechat_messages t where created_at < '2025-07-01'`;
    const before = await db.one(june);
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-citus-archive-'));
    dirs.push(dir);
    const a = await cli('archive', 'livechat_messages_2025_06', '--dir', dir, '--database-url', db.url);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/300 rows/);
    await db.exec('drop table livechat_messages_2025_06');
    expect((await db.one<{ n: number }>(june)).n).toBe(0);
    const r = await cli('restore', path.join(dir, 'livechat_messages_2025_06.manifest.json'), '--database-url', db.url);
    expect(r.code, r.stderr).toBe(0);
    expect(await db.one(june)).toEqual(before);
    expect(await distribution(db, 'livechat_messages_2025_06')).toEqual(await distribution(db, 'livechat_messages'));
    expect(await rowsIn(db, 'livechat_messages_2025_06')).toEqual({ rows: 300, local_bytes: 0 });
  });

  it('a lock held on a worker delays maintenance by lock_timeout, not longer, and inserts keep flowing', async () => {
    const db = await installed();
    await db.query(`select partkeeper.configure('livechat_messages', p_lock_timeout => '200ms', p_lock_retries => 1)`);
    await setClock(db, '2025-09-15 00:00:00+00');
    await maintain(db);
    await insertAt(db, monthDays('2026-03', 10));
    // a session on a worker holds one shard of the DEFAULT partition, as a long transaction there would
    const shard = await db.one<{ name: string; port: number }>(
      `select shard_name::text as name, nodeport as port from citus_shards
        where table_name = 'livechat_messages_default'::regclass order by shardid limit 1`,
    );
    const workerUrl = db.workerUrls.find((u) => Number(new URL(u).port) === shard.port)!;
    const holder = await openPostgres(workerUrl);
    try {
      await holder.exec(`begin; set local citus.enable_manual_changes_to_shards = on; lock table ${shard.name} in access exclusive mode`);
      const started = Date.now();
      const run = await maintain(db);
      const took = Date.now() - started;
      expect(codes(run)).toContain('lock_timeout');
      expect(run.complete).toBe(false);
      // (1 + 1 retry) x 200 ms, pauses and the rest of the run; without the timeout on the worker it waits as long as the holder
      expect(took).toBeLessThan(3000);
      await holder.exec('rollback');
    } finally {
      await holder.close();
    }
    const after = await maintain(db);
    expect(after.status, JSON.stringify(after.warnings)).toBe('ok');
    expect(after.rows_moved).toBe(10);
  });

  it('register, configure and unregister another distributed table', async () => {
    const db = await installed();
    await db.exec(`
      create table public.events (tenant_id int not null, at date not null, payload text, primary key (tenant_id, at)) partition by range (at);
      select create_distributed_table('public.events', 'tenant_id', colocate_with => 'none');
      select partkeeper.register_table('public.events');
      select partkeeper.configure('public.events', p_premake => 1);`);
    await setClock(db, '2025-09-15 00:00:00+00');
    await db.exec(`insert into events values (1, '2025-01-10', 'a'), (2, '2025-09-01', 'b')`);
    const run = await maintain(db, 'public.events');
    expect(run.status, JSON.stringify(run.warnings)).toBe('ok');
    // the months with rows are moved into; premake and the gap from January are made empty
    expect(run.created.filter((c) => c.method === 'move').map((c) => [c.partition, c.rows_moved])).toEqual([
      ['public.events_2025_09', 1],
      ['public.events_2025_01', 1],
    ]);
    expect(run.created).toHaveLength(10);
    expect(await distribution(db, 'events_2025_01')).toEqual(await distribution(db, 'events'));
    expect(await db.query(`select tenant_id from events order by 1`)).toEqual([{ tenant_id: 1 }, { tenant_id: 2 }]);
    expect(
      (await db.one<{ r: { unregistered: boolean } }>(`select partkeeper.unregister_table('public.events') as r`)).r.unregistered,
    ).toBe(true);
  });

  it('pg_cron on the coordinator runs maintenance in the application database and records a failed table as a failed run', async () => {
    const db = await installed();
    const admin = await coordinatorAdmin();
    try {
      const [cron] = await admin.query<{ ok: boolean }>(`select to_regclass('cron.job') is not null as ok`);
      if (!cron?.ok)
        throw new Error('pg_cron is not installed on the coordinator (citus-up.sh preloads it when postgresql-15-cron is installed)');
      await db.exec(`
        create table public.gone (tenant_id int not null, at date not null) partition by range (at);
        select create_distributed_table('public.gone', 'tenant_id', colocate_with => 'none');
        select partkeeper.register_table('public.gone');
        drop table public.gone;`);
      await db.exec(`alter database ${db.name} set partkeeper.now = '2025-09-15 00:00:00+00'`);
      const { jobid } = await admin.one<{ jobid: number }>(
        `select cron.schedule_in_database($1, '* * * * *', 'CALL partkeeper.run_maintenance()', $2) as jobid`,
        [`partkeeper-${db.name}`, db.name],
      );
      let runs: { status: string; return_message: string }[] = [];
      for (let i = 0; i < 150 && !runs.some((r) => r.status === 'failed' || r.status === 'succeeded'); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        runs = await admin.query(`select status, return_message from cron.job_run_details where jobid = $1`, [jobid]);
      }
      expect(runs.map((r) => r.status)).toEqual(['failed']);
      expect(runs[0]!.return_message).toMatch(/maintenance failed for 1 of 2 table\(s\)/);
      // the table that exists was maintained by that run, and committed
      const last = await db.one<{ status: string; created: number }>(
        `select status, jsonb_array_length(result -> 'created') as created from partkeeper.last_run where parent = 'livechat_messages'::regclass`,
      );
      expect(last).toEqual({ status: 'ok', created: 3 });
      await admin.query('select cron.unschedule($1::bigint)', [jobid]);
    } finally {
      await admin.close();
    }
  });

  it('writers through the coordinator never fail and lose no row while maintenance creates and moves', async () => {
    const db = await installed();
    await db.query(`select partkeeper.configure('livechat_messages', p_max_create_per_run => 2,
                    p_drain_window_back => '4 years', p_drain_window_ahead => '4 years', p_lock_timeout => '500ms', p_lock_retries => 5)`);
    const writers = await Promise.all(Array.from({ length: 4 }, () => db.connect()));
    const maintainer = await db.connect();
    let stop = false;
    let inserted = 0;
    const failures: string[] = [];
    const rnd = random(20251129);
    const from = Date.parse('2024-01-01T00:00:00Z');
    const writing = writers.map(async (w, i) => {
      while (!stop) {
        const at = new Date(from + Math.floor(rnd() * 1095 * 86_400_000)).toISOString();
        try {
          await w.query(`insert into livechat_messages (room_id, sender_id, body, created_at) values ($1, $2, 'w', $3)`, [
            Math.floor(rnd() * 1000),
            i,
            at,
          ]);
          inserted++;
        } catch (e) {
          failures.push(e instanceof DbError ? `${e.code} ${e.message}` : String(e));
        }
      }
    });
    const statuses: Record<string, number> = {};
    const started = Date.now();
    // the clock sweeps 2024-01 .. 2026-12 while rows of every month arrive
    for (let m = 0; m < 36; m++) {
      await setClock(maintainer, `${2024 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-15 00:00:00+00`);
      const run = await maintain(maintainer);
      statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    }
    stop = true;
    await Promise.all(writing);
    const seconds = (Date.now() - started) / 1000;
    expect(failures).toEqual([]);
    // a last run at the end places whatever arrived after the loop's last run
    await setClock(db, '2026-12-15 00:00:00+00');
    for (let i = 0; i < 30; i++) {
      const run = await maintain(db);
      if (run.complete && run.created.length === 0) break;
    }
    const total = await db.one<{ n: number; waiting: number }>(
      `select (select count(*)::int from livechat_messages) as n, (select count(*)::int from only livechat_messages_default) as waiting`,
    );
    expect(total).toEqual({ n: inserted, waiting: 0 });
    const parent = await distribution(db, 'livechat_messages');
    let placed = 0;
    for (const p of await partitions(db)) {
      if (p.is_default) continue;
      expect(await distribution(db, p.partition), p.partition).toEqual(parent);
      const c = await db.one<{ n: number; outside: number; local_bytes: number }>(
        `select count(*)::int as n,
                count(*) filter (where not (created_at >= $1::timestamptz and created_at < $2::timestamptz))::int as outside,
                pg_relation_size($3::regclass)::int as local_bytes
           from only ${p.partition}`,
        [`${p.lower}+00`, `${p.upper}+00`, p.partition],
      );
      expect([c.outside, c.local_bytes], p.partition).toEqual([0, 0]);
      placed += c.n;
    }
    expect(placed).toBe(inserted);
    console.info(
      `citus load: ${inserted} inserts from ${writers.length} sessions through the coordinator in ${seconds.toFixed(1)} s, 0 failed, 0 lost; ` +
        `maintenance runs by status ${JSON.stringify(statuses)}`,
    );
  });
});
