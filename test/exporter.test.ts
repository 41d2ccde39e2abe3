// The monitoring kit: the counters partkeeper.metrics() keeps (monotonic across log pruning), the
// metrics of src/metrics.ts served by `partkeeper exporter` (every enum state, partkeeper_up 0 while
// the database is away), and the same text from `partkeeper status --prometheus`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter } from '../src/commands/exporter.ts';
import { metricsSchema, parseContract, type Metrics } from '../src/contracts.ts';
import { PartkeeperMetrics, readSnapshot } from '../src/metrics.ts';
import { freshDb, itServer, repoRoot, setClock, type Db } from '../harness/testing.ts';
import { maintain, maintainAll, maintainResult, withRoles } from '../harness/support.ts';

const T = 'public.livechat_messages';

async function metrics(db: Db): Promise<Metrics> {
  return parseContract(metricsSchema, (await db.one<{ m: unknown }>('select partkeeper.metrics() as m')).m, 'partkeeper.metrics()');
}
const counters = async (db: Db) => {
  const t = (await metrics(db)).tables.find((x) => x.table === T);
  if (!t) throw new Error(`partkeeper.metrics() has no ${T}`);
  return t;
};

/** Samples of the text exposition format: "name{labels}" -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('partkeeper.metrics()', () => {
  it('counts partitions created, rows moved, retirements, bytes freed and every run, and pruning the log lowers none', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-10 00:00:00+00');
    expect(await counters(db)).toEqual({
      table: T,
      partitions_created: 0,
      partitions_retired: 0,
      rows_moved: 0,
      bytes_freed: 0,
      runs: { ok: 0, warning: 0, failed: 0, busy: 0 },
      run_seconds: 0,
    });
    // rows of December wait in the DEFAULT partition until the run that makes December's partition
    await db.query(
      `insert into livechat_messages (room_id, sender_id, body, created_at) select 1, 1, 'x', d from generate_series(timestamptz '2025-12-01', '2025-12-05', interval '1 day') d`,
    );
    const first = await maintain(db);
    const made = first.created.length;
    expect(made).toBeGreaterThanOrEqual(4); // December, and January with premake 2
    expect(first.rows_moved).toBe(5);
    const settled = await maintain(db); // nothing to do: still a run
    expect(settled.created).toEqual([]);
    let c = await counters(db);
    expect(c).toMatchObject({ partitions_created: made, rows_moved: 5, runs: { ok: 2, warning: 0, failed: 0, busy: 0 } });
    expect(c.run_seconds).toBeGreaterThan(0);
    expect(c.run_seconds).toBeCloseTo((first.duration_ms + settled.duration_ms) / 1000, 3);

    await db.query(`select partkeeper.configure('livechat_messages', p_retention => '1 day')`);
    await setClock(db, '2026-02-02 00:00:00+00');
    const retiring = await maintain(db);
    expect(retiring.retired.length).toBeGreaterThanOrEqual(2); // December and January
    const freed = retiring.retired.reduce((n, r) => n + (r.bytes ?? 0), 0);
    expect(freed).toBeGreaterThan(0);
    const before = await counters(db);
    expect(before).toMatchObject({
      partitions_created: made + retiring.created.length,
      partitions_retired: retiring.retired.length,
      bytes_freed: freed,
      rows_moved: 5,
    });
    expect(before.runs.ok + before.runs.warning).toBe(3);

    // a DBA prunes the log: partly, then all of it; the counters stay where they were
    await db.exec(`delete from partkeeper.log where action = 'create_partition' and id % 2 = 0`);
    expect(await counters(db)).toEqual(before);
    await db.exec('truncate partkeeper.log');
    expect(await counters(db)).toEqual(before);
    // and go on counting from there
    await setClock(db, '2026-03-02 00:00:00+00');
    const next = await maintain(db);
    expect(next.created.length).toBeGreaterThan(0);
    c = await counters(db);
    expect(c.partitions_created).toBe(before.partitions_created + next.created.length);
    expect(c.partitions_retired).toBe(before.partitions_retired + next.retired.length);
    expect(c.runs.ok + c.runs.warning).toBe(4);
  });

  it('counts a failed run, with the table it failed for', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await db.exec('create table gone (at date not null) partition by range (at)');
    await db.query(`select partkeeper.register_table('gone')`);
    await db.exec('drop table gone');
    expect((await maintainAll(db)).status).toBe('failed');
    const m = await metrics(db);
    expect(m.tables.find((t) => t.table === 'public.gone')).toMatchObject({ runs: { ok: 0, warning: 0, failed: 1, busy: 0 } });
    expect(m.health.checks).toContainEqual({ check: 'table_exists', table: 'public.gone', status: 'error' });
    expect(m.health.status).toBe('error');
  });

  itServer('counts a run turned away as busy, once the running one has committed', async () => {
    const db = await freshDb();
    const [a, b] = [await db.connect(), await db.connect()];
    await a.exec('begin');
    await maintain(a);
    expect((await maintainResult(b)).status).toBe('busy');
    await a.exec('commit');
    expect((await counters(db)).runs).toEqual({ ok: 1, warning: 0, failed: 0, busy: 1 });
  });

  it('folds health to one verdict per check and table', async () => {
    const db = await freshDb();
    await maintain(db);
    const m = await metrics(db);
    const keys = m.health.checks.map((c) => `${c.check}/${c.table}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(m.health.checks).toContainEqual({ check: 'horizon', table: T, status: 'ok' });
    expect(m.health.checks).toContainEqual({ check: 'time_zone', table: null, status: 'info' });
  });
});

describe('a monitoring role', () => {
  it('reads everything the exporter serves (grant_monitoring)', async () => {
    const db = await freshDb();
    await maintain(db);
    await withRoles(db, ['mon'], async ({ mon }) => {
      await db.query('select partkeeper.grant_monitoring($1)', [mon]);
      await db.exec(`set role ${mon}`);
      const snap = await readSnapshot(db);
      await db.exec('reset role');
      expect(snap.metrics.tables).toEqual([
        expect.objectContaining({ table: T, partitions_created: 3, runs: expect.objectContaining({ ok: 1 }) }),
      ]);
      expect(snap.status.tables).toEqual([expect.objectContaining({ table: T, partition_count: 3 })]);
    });
  });
});

describe('partkeeper exporter', () => {
  it('serves every metric with every enum state; partkeeper_up 0 while the database cannot be reached, and 1 again after', async () => {
    const db = await freshDb();
    await maintain(db);
    let down = true;
    const log: string[] = [];
    const exporter = await startExporter({
      open: async () => {
        if (down) throw new Error('connection refused');
        return db;
      },
      host: '127.0.0.1',
      port: 0,
      log: (line) => log.push(line),
    });
    try {
      // no database: the exporter answers, with up 0 alone (no stale or made-up values)
      for (let i = 0; i < 2; i++) {
        const r = await fetch(exporter.url);
        expect(r.status).toBe(200);
        expect(samples(await r.text())).toEqual(new Map([['partkeeper_up', 0]]));
      }
      expect(log).toEqual(['partkeeper exporter: partkeeper_up 0: connection refused']); // said once, not at every scrape

      down = false;
      const res = await fetch(exporter.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const s = samples(await res.text());
      expect(log.at(-1)).toBe('partkeeper exporter: the database answers again');
      expect(s.get('partkeeper_up')).toBe(1);
      expect(s.get(`partkeeper_partitions{table="${T}"}`)).toBe(3);
      for (const [state, v] of Object.entries({ never: 0, ok: 1, warning: 0, failed: 0 }))
        expect(s.get(`partkeeper_last_run_state{table="${T}",state="${state}"}`)).toBe(v);
      for (const status of ['ok', 'warning', 'failed', 'busy'])
        expect(s.get(`partkeeper_runs_total{table="${T}",status="${status}"}`)).toBe(status === 'ok' ? 1 : 0);
      expect(s.get(`partkeeper_partitions_created_total{table="${T}"}`)).toBe(3);
      for (const state of ['ok', 'info', 'warning', 'error'])
        expect(s.get(`partkeeper_health_check_state{check="horizon",table="${T}",state="${state}"}`)).toBe(state === 'ok' ? 1 : 0);
      expect(s.get('partkeeper_health_check_state{check="time_zone",table="",state="info"}')).toBe(1);
      for (const state of ['ok', 'warning', 'error']) expect(s.has(`partkeeper_health_state{state="${state}"}`)).toBe(true);
      expect((await fetch(exporter.url.replace('/metrics', '/nothing'))).status).toBe(404);
    } finally {
      // closes the connection it opened: here the test's own, dropped with the database anyway
      await exporter.close().catch(() => {});
    }
  });

  it('as a command: says where it serves, answers partkeeper_up 0 for a database it cannot reach, ends on SIGTERM with 0', async () => {
    // port 1 on the loopback: nothing listens there, the connection is refused at once
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin/partkeeper.mjs'),
        'exporter',
        '--listen',
        '127.0.0.1:0',
        '--database-url',
        'postgres://x@127.0.0.1:1/x',
        '--timeout',
        '5',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "serving" line within 20 s: ${stderr}`)), 20_000);
        child.stderr.on('data', () => {
          const m = /serving (http:\S+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const r = await fetch(url);
      expect(r.status).toBe(200);
      expect(samples(await r.text())).toEqual(new Map([['partkeeper_up', 0]]));
      expect(stderr).toMatch(/partkeeper exporter: partkeeper_up 0: /);
      const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('a table that never ran is in state never, with no failure', () => {
    const m = new PartkeeperMetrics();
    m.fill({
      status: {
        version: '0',
        clock: '2026-01-01T00:00:00+00:00',
        simulated_clock: null,
        tables: [{ table: 'public.t', exists: false, enabled: true, last_run: null }],
        cron_jobs: [
          {
            jobname: 'partkeeper-monthly',
            schedule: '0 2 1 * *',
            command: 'CALL partkeeper.run_maintenance()',
            database: 'postgres',
            active: true,
            last_status: null,
            last_start: null,
            last_end: null,
            last_message: null,
            recent_failures: 0,
          },
        ],
      },
      metrics: { tables: [], health: { status: 'ok', checks: [] } },
    });
    return m.text().then((text) => {
      const s = samples(text);
      expect(s.get('partkeeper_last_run_state{table="public.t",state="never"}')).toBe(1);
      expect(s.get('partkeeper_last_run_state{table="public.t",state="failed"}')).toBe(0);
      expect(s.get('partkeeper_cron_job_last_run_state{jobname="partkeeper-monthly",state="never"}')).toBe(1);
      expect(s.get('partkeeper_cron_job_last_run_state{jobname="partkeeper-monthly",state="failed"}')).toBe(0);
      expect(s.get('partkeeper_cron_job_recent_failures{jobname="partkeeper-monthly"}')).toBe(0);
      // job and instance are the labels Prometheus gives a target: a metric's own would be renamed exported_job
      expect(text).not.toMatch(/[{,](job|instance)="/);
    });
  });
});
