// 4. Locking impact: insert latency while maintenance creates and retires partitions, with and
// without a long-running reader on the table, against the same load with no maintenance.
import { isMaintenanceRun, maintenanceResultSchema, parseContract, type MaintenanceRun } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import {
  connect,
  dropDatabase,
  fmt,
  freshDatabase,
  handPartitions,
  livechatShape,
  median,
  monthStart,
  monthSuffix,
  percentile,
  pgbench,
  rotation,
  section,
  sleep,
  type Ctx,
  type PgbenchResult,
  type Section,
} from './lib.ts';
import { latencyChart, type Panel } from './svg.ts';

type Scenario = 'none' | 'maintenance' | 'reader';
const LABEL: Record<Scenario, string> = {
  none: 'no maintenance',
  maintenance: 'maintenance creating and retiring',
  reader: 'maintenance + a long-running reader',
};
const LOCK_TIMEOUT_MS = 200;
const RETRIES = 3;

interface Event {
  at: number;
  kind: 'create' | 'retire';
  ok: boolean;
  ms: number;
}

const now = () => performance.timeOrigin + performance.now();

/** partkeeper retires partitions itself (retention) in this tree: partkeeper.config has a retention column. */
async function hasRetention(db: Db): Promise<boolean> {
  const r = await db.one<{ ok: boolean }>(
    `select exists (select from pg_attribute where attrelid = 'partkeeper.config'::regclass and attname = 'retention' and not attisdropped) as ok`,
  );
  return r.ok;
}

/**
 * A fresh table with `old` months before this one, this month and the next two, and DEFAULT, under
 * partkeeper; with retention, `old` months of it, so that each month the clock moves on retires one.
 */
/** lk's maintenance result, checked against its schema; a run that did not go through its steps ends the benchmark. */
function lkRun(raw: unknown): MaintenanceRun {
  const r = parseContract(maintenanceResultSchema, raw, `partkeeper.maintain_table('lk')`);
  if (!isMaintenanceRun(r)) throw new Error(`maintenance of lk did not run its steps: ${JSON.stringify(r)}`);
  return r;
}

async function setUp(db: Db, old: number, retention: boolean): Promise<void> {
  await db.exec(`drop table if exists lk cascade`);
  await db.exec(livechatShape('lk') + handPartitions('lk', -old, 2, false));
  await db.query(`select partkeeper.register_table('lk')`);
  await db.query(`select partkeeper.configure('lk', p_premake => 2, p_lock_timeout => $1::interval, p_lock_retries => $2)`, [
    `${LOCK_TIMEOUT_MS} milliseconds`,
    RETRIES,
  ]);
  if (retention) await db.query(`select partkeeper.configure('lk', p_retention => $1::interval)`, [`${old} months`]);
  const r = lkRun((await db.one<{ r: unknown }>(`select partkeeper.maintain_table('lk') as r`)).r);
  if (r.created.length || r.retired.length) throw new Error(`set-up: the first run changed partitions: ${JSON.stringify(r)}`);
  await db.exec('vacuum analyze lk');
}

/**
 * Every `everyMs`: move the simulated clock one month on and run partkeeper's maintenance, which
 * creates the new month + 2 and, with retention, retires the oldest partition in the same call.
 * Without retention in partkeeper, the benchmark retires the oldest partition itself: DETACH under
 * the same lock_timeout, then DROP of the detached table.
 */
async function maintain(db: Db, until: number, everyMs: number, old: number, retention: boolean): Promise<Event[]> {
  const events: Event[] = [];
  let month = 0;
  let oldest = -old;
  await db.exec(`set lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
  while (now() + everyMs < until) {
    const cycle = now();
    month++;
    await db.query(`select set_config('partkeeper.now', $1, false)`, [monthStart(month).replace(' 00:00:00', ' 00:05:00')]);
    let t = now();
    const raw = (await db.one<{ r: unknown }>(`select partkeeper.maintain_table('lk') as r`)).r;
    const ms = now() - t;
    const r = lkRun(raw);
    events.push({ at: t, kind: 'create', ok: r.created.length === 1, ms });
    if (retention) {
      events.push({ at: t, kind: 'retire', ok: r.retired.length === 1, ms });
    } else {
      t = now();
      try {
        await db.exec(`alter table lk detach partition lk_${monthSuffix(oldest)}`);
        events.push({ at: t, kind: 'retire', ok: true, ms: now() - t });
        await db.exec(`drop table lk_${monthSuffix(oldest)}`);
        oldest++;
      } catch (e) {
        if ((e as { code?: string }).code !== '55P03') throw e;
        events.push({ at: t, kind: 'retire', ok: false, ms: now() - t });
      }
    }
    const wait = everyMs - (now() - cycle);
    if (wait > 0) await sleep(wait);
  }
  return events;
}

interface Run {
  scenario: Scenario;
  round: number;
  tps: number;
  events: Event[];
  start: number;
  result: PgbenchResult;
}

async function runScenario(
  ctx: Ctx,
  url: string,
  database: string,
  scenario: Scenario,
  round: number,
  o: { seconds: number; rate: number; old: number; everyMs: number; retention: boolean },
): Promise<Run> {
  const db = await connect(url);
  const m = scenario === 'none' ? undefined : await connect(url);
  const reader = scenario === 'reader' ? await connect(url) : undefined;
  try {
    await setUp(db, o.old, o.retention);
    let readerDone: Promise<unknown> = Promise.resolve();
    if (reader) {
      // A report that reads the whole table and keeps its transaction open for the whole load (ACCESS SHARE on every partition).
      readerDone = reader.exec(`begin; select count(*) from lk; select pg_sleep(${o.seconds + 1}); commit`);
      await sleep(200);
    }
    const start = now();
    const load = pgbench(ctx, {
      database,
      tag: `locking_${scenario}_${round}`,
      clients: 4,
      seconds: o.seconds,
      rate: o.rate,
      log: true,
      mode: 'prepared',
      script: `\\set room random(1, 10000)
\\set sender random(1, 100000)
insert into lk (room_id, sender_id, body, created_at) values (:room, :sender, 'a chat message of ordinary length, sent by the benchmark', now());
`,
    });
    let events: Event[] = [];
    if (m) {
      await sleep(1000);
      events = await maintain(m, start + (o.seconds - 0.5) * 1000, o.everyMs, o.old, o.retention);
    }
    const result = await load;
    await readerDone;
    if (result.samples!.length === 0) throw new Error(`no inserts logged in ${scenario}`);
    if (result.failed) throw new Error(`${result.failed} inserts failed in ${scenario}`);
    return { scenario, round, start, result, events, tps: result.tps };
  } finally {
    await Promise.allSettled([db.close(), m?.close(), reader?.close()]);
  }
}

/** Latency percentiles over every insert of every round of a scenario. */
function pooled(runs: Run[]): { p50: number; p99: number; max: number; longestStatement: number; inserts: number } {
  const lat = runs.flatMap((r) => r.result.samples!.map((x) => x.ms)).sort((a, b) => a - b);
  const stmt = runs.flatMap((r) => r.result.samples!.map((x) => x.ms - x.lagMs));
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.at(-1)!, longestStatement: Math.max(...stmt), inserts: lat.length };
}

function panel(run: Run): Panel {
  const st = pooled([run]);
  // 100 ms buckets: the slowest insert of each bucket, and the median.
  const buckets = new Map<number, number[]>();
  for (const s of run.result.samples!) {
    const b = Math.floor((s.at - run.start) / 100);
    (buckets.get(b) ?? buckets.set(b, []).get(b)!).push(s.ms);
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const pts = (f: (xs: number[]) => number) => keys.map((k) => ({ t: k / 10 + 0.05, ms: f(buckets.get(k)!) }));
  return {
    title: `${LABEL[run.scenario]}: p50 ${fmt(st.p50, 2)} ms, p99 ${fmt(st.p99, 2)} ms, max ${fmt(st.max, 1)} ms`,
    series: [
      { label: 'max', color: '#d62728', points: pts((xs) => Math.max(...xs)) },
      { label: 'median', color: '#1f77b4', points: pts((xs) => median(xs)) },
    ],
    marks: run.events.map((e) => ({
      t: (e.at - run.start) / 1000,
      color: !e.ok ? '#7f7f7f' : e.kind === 'create' ? '#2ca02c' : '#ff7f0e',
      dashed: !e.ok,
      half: e.kind === 'create' ? ('top' as const) : ('bottom' as const),
    })),
    rules:
      run.scenario === 'reader'
        ? [{ ms: LOCK_TIMEOUT_MS + 50, label: `lock_timeout + 50 ms = ${LOCK_TIMEOUT_MS + 50} ms`, color: '#9467bd' }]
        : [],
  };
}

export async function locking(ctx: Ctx): Promise<Section> {
  const s = section('locking', '4. Locking impact on inserts');
  const seconds = ctx.smoke ? 3 : 10;
  const rounds = ctx.smoke ? 1 : 2;
  const rate = ctx.smoke ? 200 : 1000;
  const everyMs = 1000;
  const retries = RETRIES;
  const old = seconds + 6;
  const { db, url, name } = await freshDatabase(ctx, 'bench_locking');
  const retention = await hasRetention(db);
  await db.close();
  try {
    const scenarios: Scenario[] = ['none', 'maintenance', 'reader'];
    const runs: Run[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const sc of rotation(scenarios, round)) {
        const r = await runScenario(ctx, url, name, sc, round, { seconds, rate, old, everyMs, retention });
        runs.push(r);
        const st = pooled([r]);
        const n = (k: string, ok: boolean) => r.events.filter((e) => e.kind === k && e.ok === ok).length;
        ctx.log(
          `  locking ${sc} round ${round + 1}: p50 ${fmt(st.p50, 2)} p99 ${fmt(st.p99, 2)} max ${fmt(st.max, 1)} ms (longest statement ${fmt(st.longestStatement, 1)} ms); ` +
            `created ${n('create', true)} (${n('create', false)} gave up), retired ${n('retire', true)} (${n('retire', false)} gave up)`,
        );
      }
    }
    const by = (sc: Scenario) => runs.filter((r) => r.scenario === sc);
    const stats = Object.fromEntries(scenarios.map((sc) => [sc, pooled(by(sc))])) as Record<Scenario, ReturnType<typeof pooled>>;
    const count = (sc: Scenario, kind: string, ok: boolean) =>
      by(sc).reduce((n, r) => n + r.events.filter((e) => e.kind === kind && e.ok === ok).length, 0);
    const longest = (sc: Scenario, kind: string) =>
      Math.max(0, ...by(sc).flatMap((r) => r.events.filter((e) => e.kind === kind).map((e) => e.ms)));

    s.method.push(
      `A partkeeper-managed table of the \`livechat_messages\` shape with ${old} past months, this month and the next two as partitions plus DEFAULT, made afresh for each run; ` +
        `\`lock_timeout\` configured to ${LOCK_TIMEOUT_MS} ms (\`partkeeper.configure(p_lock_timeout => '${LOCK_TIMEOUT_MS} ms')\`, lock_retries ${retries}, the default). ` +
        `Load: pgbench, 4 clients, single-row inserts dated \`now()\`, at a fixed rate of ${rate} inserts/s (\`-R\`), ${seconds} s, every insert logged (\`-l\`). ` +
        "An insert's latency counts from the moment it was due, so the time it spent queued behind its client's earlier inserts counts too (what an application sees); " +
        "the longest single statement is that latency minus pgbench's schedule lag: how long one INSERT itself waited and ran.",
      `**no maintenance**: the load alone. **maintenance**: from 1 s into the load, once every ${everyMs} ms, a second session moves partkeeper's simulated clock one month on ` +
        "(`set_config('partkeeper.now', ...)`) and runs `partkeeper.maintain_table`, which creates one partition (the new month + 2) " +
        (retention
          ? `and, with retention configured to ${old} months (\`partkeeper.configure(p_retention => '${old} months')\`, mode drop), retires the oldest partition in the same call: ` +
            '`DROP TABLE` of it under lock_timeout, ACCESS EXCLUSIVE on the table (DETACH CONCURRENTLY, the non-blocking form, is refused when a DEFAULT partition exists). '
          : 'then the benchmark retires the oldest partition itself (this tree of partkeeper has no retention): ' +
            `\`ALTER TABLE ... DETACH PARTITION\` under \`lock_timeout = ${LOCK_TIMEOUT_MS}ms\` ` +
            '(ACCESS EXCLUSIVE on the table, as a detach without CONCURRENTLY takes; DETACH CONCURRENTLY is refused when a DEFAULT partition exists), then `DROP TABLE` of the detached partition. ') +
        '**maintenance + a long-running reader**: the same, while a third session holds a transaction that read the whole table (`SELECT count(*)`, then `pg_sleep`: ACCESS SHARE on every partition) for the whole load. ' +
        "partkeeper's ATTACH needs ACCESS EXCLUSIVE on the DEFAULT partition and retiring needs it on the table, so both wait for the reader until their lock_timeout and give up" +
        (retention ? '; partkeeper retries each, then reports it.' : '; partkeeper retries, then reports it.'),
      `${rounds} round(s), the three scenarios in rotated order. Percentiles are over every insert of every round of a scenario (${fmt(stats.none.inserts / rounds, 0)} inserts a run); counts are summed over rounds. ` +
        'The chart shows the last round: per 100 ms, the slowest and the median insert; marks in the upper half are creations (green: made; grey dashed: gave up on its lock_timeout), in the lower half retirements (orange: retired; grey dashed: gave up).',
    );
    s.tables.push({
      head: [
        'scenario',
        'p50 (ms)',
        'p99 (ms)',
        'max (ms)',
        'longest single INSERT statement (ms)',
        'inserts/s',
        'partitions created (gave up)',
        'partitions retired (gave up)',
        retention ? 'longest maintain_table call (ms)' : 'longest maintain_table / detach call (ms)',
      ],
      rows: scenarios.map((sc) => [
        LABEL[sc],
        fmt(stats[sc].p50, 2),
        fmt(stats[sc].p99, 2),
        fmt(stats[sc].max, 1),
        fmt(stats[sc].longestStatement, 1),
        fmt(median(by(sc).map((r) => r.tps)), 0),
        sc === 'none' ? '' : `${count(sc, 'create', true)} (${count(sc, 'create', false)})`,
        sc === 'none' ? '' : `${count(sc, 'retire', true)} (${count(sc, 'retire', false)})`,
        sc === 'none'
          ? ''
          : retention
            ? fmt(longest(sc, 'create'), 0)
            : `${fmt(longest(sc, 'create'), 0)} / ${fmt(longest(sc, 'retire'), 0)}`,
      ]),
    });
    const base99 = stats.none.p99;
    const m99 = stats.maintenance.p99;
    const worst = stats.reader.longestStatement;
    const bound = LOCK_TIMEOUT_MS + 50;
    s.targets.push({
      name: 'p99 insert latency during maintenance',
      goal: '≤ 1.5 × the p99 without maintenance',
      measured: `${fmt(m99 / base99, 2)} × (${fmt(m99, 2)} ms against ${fmt(base99, 2)} ms)`,
      met: m99 <= 1.5 * base99,
      ...(m99 > 1.5 * base99 && {
        note:
          `missed: ${fmt(m99 / base99, 2)} ×. Creating a partition holds SHARE on the table (writers wait) from its LOCK to the end of the maintain_table transaction, ` +
          (retention
            ? `and retiring one takes ACCESS EXCLUSIVE, also held to the end of that transaction; the longest maintain_table call here took ${fmt(longest('maintenance', 'create'), 0)} ms. `
            : `and the detach holds ACCESS EXCLUSIVE; the longest maintain_table call here took ${fmt(longest('maintenance', 'create'), 0)} ms and the longest detach ${fmt(longest('maintenance', 'retire'), 0)} ms. `) +
          `With one creation and one retirement every ${everyMs} ms, the inserts due during those windows are more than 1% of all inserts, so they set the p99. ` +
          'What would close it: commit right after each ATTACH and each retirement (their locks are now held through the rest of the run: the DEFAULT count, the pending bookkeeping, the log and last_run writes), ' +
          "and build the new partition's indexes before taking the SHARE lock (CREATE TABLE and its indexes while it is empty, then LOCK, move, ATTACH). " +
          'This benchmark runs a creation and a retirement every second to see them at all; on a real schedule a table gets one of each a month, so those windows are a few tens of milliseconds a month.',
      }),
    });
    s.targets.push({
      name: 'longest insert wait with a long-running reader',
      goal: `≤ lock_timeout + 50 ms (${bound} ms)`,
      measured: `${fmt(worst, 1)} ms, the longest single INSERT statement (counted from when it was due, including the queue behind its client's earlier inserts: ${fmt(stats.reader.max, 1)} ms)`,
      met: worst <= bound,
      ...(worst > bound && {
        note:
          `missed by ${fmt(worst - bound, 1)} ms. An insert waits behind a lock request that itself waits for the reader, for up to lock_timeout; ` +
          'the rest is the time the waiting statement had already held its SHARE lock before it began to wait (CREATE TABLE, the CHECK, the move out of DEFAULT). ' +
          "What would close it: do that work before the SHARE lock, and take the DEFAULT partition's ACCESS EXCLUSIVE lock right after it with NOWAIT (or before it), " +
          'so that a reader makes the attempt fail at once instead of after lock_timeout.',
      }),
    });
    s.notes.push(
      `With the long-running reader present, the median insert takes ${fmt(stats.reader.p50, 1)} ms and the p99 ${fmt(stats.reader.p99, 0)} ms: ` +
        `each maintain_table run makes 1 + ${retries} attempts to create, and each attempt holds SHARE on the table (writers wait) while it waits up to lock_timeout for the DEFAULT partition's lock, ` +
        `about ${fmt(LOCK_TIMEOUT_MS * (1 + retries), 0)} ms of held-up writers per run; ` +
        (retention
          ? `then as many attempts to retire, each an ACCESS EXCLUSIVE request queued behind the reader, which writers queue behind in turn (the longest run took ${fmt(longest('reader', 'create'), 0)} ms with its pauses). `
          : `the benchmark's detach holds them up for its own lock_timeout (the longest maintain_table run took ${fmt(longest('reader', 'create'), 0)} ms with its pauses). `) +
        'Run back to back as here, that holds inserts up most of the time; on a 5-minute schedule it is a few seconds in five minutes, and no insert waits longer than one lock_timeout at a time. ' +
        "Trying the DEFAULT partition's lock (and, to retire, the table's) with NOWAIT before waiting, and giving up on the run at the first lock the reader holds, would leave writers alone while a reader is in the way.",
    );
    const last = (sc: Scenario) => by(sc).at(-1)!;
    s.files = [
      {
        name: 'locking.svg',
        content: latencyChart(
          `Insert latency, ${rate} inserts/s, lock_timeout ${LOCK_TIMEOUT_MS} ms (last round)`,
          scenarios.map((sc) => panel(last(sc))),
          {
            seconds,
            legend: [
              { label: 'slowest insert per 100 ms', color: '#d62728' },
              { label: 'median insert per 100 ms', color: '#1f77b4' },
              { label: 'partition created (upper half)', color: '#2ca02c' },
              { label: 'partition retired (lower half)', color: '#ff7f0e' },
              { label: 'gave up on lock_timeout', color: '#7f7f7f', dashed: true },
            ],
          },
        ),
      },
    ];
    s.data = {
      seconds,
      rounds,
      rate,
      everyMs,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      retiredBy: retention ? 'partkeeper retention' : 'the benchmark (DETACH + DROP)',
      stats,
      runs: runs.map((r) => ({
        scenario: r.scenario,
        round: r.round,
        tps: r.tps,
        ...pooled([r]),
        events: r.events.map((e) => ({ ...e, at: (e.at - r.start) / 1000 })),
      })),
    };
    return s;
  } finally {
    await dropDatabase(ctx, name);
  }
}
