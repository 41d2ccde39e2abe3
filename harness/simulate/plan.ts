// A scenario turned into steps, before anything touches a database: when maintenance runs, which
// rows arrive, where the clock jumps. Deterministic for a seed, so a run can be replayed exactly.
import {
  addDuration,
  describeDuration,
  parseInstant,
  shortInstant,
  utcMonthStart,
  US_PER_HOUR,
  type Duration,
  type Micros,
} from '../instant.ts';
import type { LedgerRow } from '../invariants.ts';
import { Cron } from './cron.ts';
import { ScenarioError, type Job, type Scenario } from './scenario.ts';

export type PlannedOp =
  | { kind: 'insert'; session: number; rows: LedgerRow[] }
  | { kind: 'maintain'; job: string }
  | { kind: 'create'; month: string; zone: string }
  | { kind: 'hold' | 'release' | 'kill' };

export interface PlannedStep {
  /** Simulated wall time. */
  at: Micros;
  /** What partkeeper.now() reads (wall time plus any clock jump). */
  clock: Micros;
  label: string;
  ops: PlannedOp[];
}

export interface Plan {
  start: Micros;
  end: Micros;
  steps: PlannedStep[];
  /** Events for the timeline, at their wall time. */
  events: { at: Micros; text: string }[];
  rows: number;
  nextId: number;
  /** Events at or after the end (a shorter run than the scenario's): not played. */
  leftOut: number;
}

/** mulberry32: small, fast and good enough to spread messages; the seed makes runs repeatable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const negate = (d: Duration): Duration => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, -(v as number)]));
const minBig = (a: Micros, b: Micros) => (a < b ? a : b);

/**
 * Builds the steps of a scenario. `edges` are instants worth probing 1 µs either side (month and
 * period boundaries, computed by the SQL); rows ids start at `firstId`; `jobList` are the pg_cron jobs
 * that run maintenance.
 */
export function plan(s: Scenario, jobList: readonly Job[], edges: readonly Micros[], firstId: number, serverEvents: boolean): Plan {
  const rnd = random(s.seed);
  const start = parseInstant(s.start);
  const end = addDuration(start, { months: s.months });
  const tick = BigInt(Math.round(s.maintenance.tickHours * 3_600e6));
  const jobs = jobList.map((j) => ({ name: j.name, cron: new Cron(j.schedule) }));
  const steps: PlannedStep[] = [];
  const timeline: { at: Micros; text: string }[] = [];
  const outages: [Micros, Micros][] = [];
  // the clock minus wall time: what clock jumps change
  let offset = 0n;
  let nextId = firstId;
  let rows = 0;

  const pickSession = () => Math.floor(rnd() * s.sessions.length);
  const row = (at: Micros): LedgerRow => {
    rows++;
    return { id: nextId++, at };
  };
  const spanBack = (at: Micros, d: Duration) => at - addDuration(at, negate(d));
  const spanAhead = (at: Micros, d: Duration) => addDuration(at, d) - at;

  /** Messages stamped in the clock range (c0, c1]: the rate, month-end bursts, skewed clients, edges. */
  const messages = (c0: Micros, c1: Micros): LedgerRow[] => {
    const out: LedgerRow[] = [];
    const { perHour, monthEnd, skew: sk } = s.messages;
    const burst = BigInt(Math.round(monthEnd.hours * 3_600e6));
    for (let h = c0 - (((c0 % US_PER_HOUR) + US_PER_HOUR) % US_PER_HOUR); h < c1; h += US_PER_HOUR) {
      const lo = h > c0 ? h : c0;
      const hi = minBig(h + US_PER_HOUR, c1);
      if (hi <= lo) continue;
      const mid = (lo + hi) / 2n;
      const next = utcMonthStart(mid, 1);
      const prev = utcMonthStart(mid);
      const nearEnd = mid - prev <= burst || next - mid <= burst;
      const expected = perHour * (Number(hi - lo) / 3.6e9) * (nearEnd ? monthEnd.factor : 1);
      const n = Math.floor(expected) + (rnd() < expected - Math.floor(expected) ? 1 : 0);
      for (let i = 0; i < n; i++) {
        let at = lo + 1n + BigInt(Math.floor(rnd() * Number(hi - lo - 1n)));
        if (sk.share > 0 && rnd() < sk.share) {
          at =
            rnd() < 0.5
              ? at - BigInt(Math.floor(rnd() * Number(spanBack(at, sk.late))))
              : at + BigInt(Math.floor(rnd() * Number(spanAhead(at, sk.early))));
        }
        out.push(row(at));
      }
    }
    if (s.messages.edges) {
      for (const e of edges) if (e > c0 && e <= c1) out.push(row(e - 1n), row(e), row(e + 1n));
    }
    return out;
  };

  const inOutage = (t: Micros) => outages.some(([a, b]) => t >= a && t < b);

  /** Wall time (w0, w1] at the current clock offset: messages, and each job where cron fires it. */
  const segment = (w0: Micros, w1: Micros) => {
    const points = new Map<Micros, string[]>();
    const add = (t: Micros, job?: string) => points.set(t, [...(points.get(t) ?? []), ...(job ? [job] : [])]);
    for (const job of jobs) {
      const fires = job.cron.fires(w0 + offset, w1 + offset, 2);
      // a job that fires once here runs at its exact time; one that fires more often (every 5
      // minutes) runs once, at the end of the segment, standing for all its runs in it
      if (fires.length === 1) add(fires[0]! - offset, job.name);
      else if (fires.length > 1) add(w1, job.name);
    }
    add(w1);
    let prev = w0;
    for (const t of [...points.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const ops: PlannedOp[] = [];
      const msgs = messages(prev + offset, t + offset);
      if (msgs.length) ops.push({ kind: 'insert', session: pickSession(), rows: msgs });
      const due = points.get(t)!;
      if (!inOutage(t)) for (const job of due) ops.push({ kind: 'maintain', job });
      if (ops.length) steps.push({ at: t, clock: t + offset, label: due.length ? due.join(' + ') : 'messages', ops });
      prev = t;
    }
  };

  type Timed = { at: Micros; order: number; apply: () => void };
  const timed: Timed[] = [];
  s.events.forEach((e, order) => {
    const at = parseInstant(e.at);
    if (at < start) throw new ScenarioError(`event ${e.type} at ${e.at} is before the scenario's start (${s.start})`);
    const note = e.note ? ` (${e.note})` : '';
    const needsServer = () => {
      if (!serverEvents) throw new ScenarioError(`event ${e.type} at ${e.at} needs several sessions: run it on a server (--database-url)`);
    };
    switch (e.type) {
      case 'outage': {
        const until = addDuration(at, e.for);
        outages.push([at, until]);
        timed.push({ at, order, apply: () => timeline.push({ at, text: `maintenance down until ${shortInstant(until)}${note}` }) });
        break;
      }
      case 'clockJump':
        timed.push({
          at,
          order,
          apply: () => {
            const clock = at + offset;
            offset += addDuration(clock, e.by) - clock;
            timeline.push({ at, text: `clock jumps ${describeDuration(e.by)} to ${shortInstant(at + offset)}${note}` });
          },
        });
        break;
      case 'createPartition':
        timed.push({
          at,
          order,
          apply: () => {
            const clock = at + offset;
            const month = e.month ?? new Date(Number(utcMonthStart(clock, e.monthsAhead ?? 0) / 1000n)).toISOString().slice(0, 10);
            const zone = e.session ?? 'UTC';
            steps.push({ at, clock, label: `DBA: create_monthly_partition ${month}`, ops: [{ kind: 'create', month, zone }] });
            timeline.push({ at, text: `DBA creates ${month} (${zone})${note}` });
          },
        });
        break;
      case 'late':
      case 'early':
        timed.push({
          at,
          order,
          apply: () => {
            const clock = at + offset;
            const stamped = e.type === 'late' ? addDuration(clock, negate(e.by)) : addDuration(clock, e.by);
            const batch = Array.from({ length: e.count ?? 1 }, () => row(stamped - BigInt(Math.floor(rnd() * 3.6e9))));
            const session = e.session ? s.sessions.indexOf(e.session) : pickSession();
            if (session < 0) throw new ScenarioError(`event ${e.type} at ${e.at}: session ${e.session} is not one of sessions`);
            steps.push({ at, clock, label: `${e.count ?? 1} ${e.type} message(s)`, ops: [{ kind: 'insert', session, rows: batch }] });
            timeline.push({
              at,
              text: `${e.count ?? 1} message(s) ${describeDuration(e.by).slice(1)} ${e.type === 'late' ? 'late' : 'early'}${note}`,
            });
          },
        });
        break;
      case 'longReader': {
        needsServer();
        const until = addDuration(at, e.for);
        timed.push({
          at,
          order,
          apply: () => {
            steps.push({ at, clock: at + offset, label: 'a long report opens', ops: [{ kind: 'hold' }] });
            timeline.push({ at, text: `long reader until ${shortInstant(until)}${note}` });
          },
        });
        timed.push({
          at: until,
          order,
          apply: () => steps.push({ at: until, clock: until + offset, label: 'the long report ends', ops: [{ kind: 'release' }] }),
        });
        break;
      }
      case 'killMaintenance':
        needsServer();
        timed.push({
          at,
          order,
          apply: () => {
            steps.push({ at, clock: at + offset, label: 'maintenance killed mid-move', ops: [{ kind: 'kill' }] });
            timeline.push({ at, text: `a maintenance run is to be terminated mid-move${note}` });
          },
        });
        break;
    }
  });
  timed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));

  let cursor = start;
  let next = 0;
  while (cursor < end) {
    const t = minBig(cursor + tick - ((cursor - start) % tick), end);
    while (next < timed.length && timed[next]!.at <= t) {
      const e = timed[next++]!;
      if (e.at > cursor) {
        segment(cursor, e.at);
        cursor = e.at;
      }
      e.apply();
    }
    if (t > cursor) segment(cursor, t);
    cursor = t;
  }
  const leftOut = timed.length - next;
  if (leftOut) timeline.push({ at: end - 1n, text: `${leftOut} later event(s) not played (the run ends ${shortInstant(end)})` });
  return { start, end, steps, events: timeline, rows, nextId, leftOut };
}
