// Random sequences for the property tests: inserts stamped at the edges where partition scripts
// break (month boundaries to the microsecond in many zones, DST changes, leap days, year ends, far
// past and future), clock moves, maintenance runs, a DBA's create_monthly_partition and session time
// zones. Each sequence plays on a table of its own; the invariants are checked after every action,
// and once more after maintenance has caught up.
import fc from 'fast-check';
import type { MaintenanceResult } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { addDuration, formatInstant, parseInstant, utcMonthStart, type Duration, type Micros } from './instant.ts';
import { livechatTableDdl } from './original.ts';
import { describeViolations, INVARIANTS, Ledger, maintainSql, type Violation } from './invariants.ts';
import { createSql, insertSql, replay, reproScript, type Entry } from './simulate/index.ts';

export const SESSION_ZONES = [
  'UTC',
  'America/Los_Angeles',
  'America/New_York',
  'America/St_Johns',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
] as const;
const TABLE_ZONES = ['UTC', 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'] as const;

/** Instants worth hitting exactly: DST changes (EU, US Pacific, Lord Howe's half hour), leap days, year ends, far dates. */
const ANCHORS = [
  '2025-03-30 01:00:00+00',
  '2025-10-26 01:00:00+00',
  '2026-03-29 01:00:00+00',
  '2026-10-25 01:00:00+00',
  '2025-03-09 10:00:00+00',
  '2025-11-02 09:00:00+00',
  '2025-04-05 15:00:00+00',
  '2025-10-04 15:30:00+00',
  '2024-02-29 00:00:00+00',
  '2024-02-29 23:59:59.999999+00',
  '2028-02-29 12:00:00+00',
  '2100-02-28 23:59:59.999999+00',
  '2025-12-31 23:59:59.999999+00',
  '2026-01-01 00:00:00+00',
  '1999-12-31 23:59:59.999999+00',
  '1000-01-01 00:00:00+00',
  '1970-01-01 00:00:00+00',
  '2999-12-31 23:59:59.999999+00',
  '9999-12-31 23:59:59.999999+00',
];

export type Stamp =
  /** Microseconds from the clock. */
  | { near: number }
  /** Local midnight starting the month `months` after the clock's UTC month, in `zone`, moved by `delta` µs. */
  | { edge: { zone: string; months: number; delta: number } }
  | { anchor: string; delta: number };

export type Action =
  | { kind: 'insert'; stamps: Stamp[] }
  | { kind: 'clock'; to: Stamp }
  | { kind: 'jump'; by: Duration }
  | { kind: 'maintain' }
  | { kind: 'create'; months: number }
  | { kind: 'zone'; zone: string };

export interface Config {
  zone: string;
  premake: number;
  maxCreate: number;
  back: string;
  ahead: string;
}

export interface Sequence {
  config: Config;
  start: Micros;
  actions: Action[];
}

const DELTAS = [0, 1, -1, 1_000_000, -1_000_000, 3_600_000_000, -3_600_000_000];
const US_PER_DAY = 86_400_000_000;

const stampArb: fc.Arbitrary<Stamp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ near: fc.integer({ min: -3 * US_PER_DAY, max: 3 * US_PER_DAY }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      edge: fc.record({
        zone: fc.constantFrom(...SESSION_ZONES),
        months: fc.integer({ min: -15, max: 15 }),
        delta: fc.constantFrom(...DELTAS),
      }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ anchor: fc.constantFrom(...ANCHORS), delta: fc.constantFrom(...DELTAS) }) },
);

const jumpArb: fc.Arbitrary<Duration> = fc.oneof(
  fc.constantFrom<Duration>({ micros: 1 }, { micros: -1 }, { hours: 1 }, { hours: -2 }, { days: 1 }, { days: -3 }),
  fc.integer({ min: -14, max: 14 }).map((months) => ({ months })),
  fc.integer({ min: -2, max: 2 }).map((years) => ({ years })),
);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), stamps: fc.array(stampArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('clock' as const), to: stampArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('jump' as const), by: jumpArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('maintain' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), months: fc.integer({ min: -14, max: 14 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('zone' as const), zone: fc.constantFrom(...SESSION_ZONES) }) },
);

export const sequenceArb: fc.Arbitrary<Sequence> = fc.record({
  config: fc.record({
    zone: fc.constantFrom(...TABLE_ZONES),
    premake: fc.integer({ min: 0, max: 3 }),
    maxCreate: fc.constantFrom(3, 24),
    back: fc.constantFrom('1 year', '3 months', '45 days', '2 years'),
    ahead: fc.constantFrom('1 year', '3 months', '45 days', '2 years'),
  }),
  // 2024 .. 2027
  start: fc.bigInt({ min: parseInstant('2024-01-01T00:00:00Z'), max: parseInstant('2027-12-31T23:59:59Z') }),
  actions: fc.array(actionArb, { minLength: 3, maxLength: 30, size: 'large' }),
});

/** The clock stays within these years so that catching up stays within a few dozen partitions. */
const CLOCK_FLOOR = parseInstant('2022-01-01T00:00:00Z');
const CLOCK_CEILING = parseInstant('2030-12-31T00:00:00Z');
const clamp = (us: Micros) => (us < CLOCK_FLOOR ? CLOCK_FLOOR : us > CLOCK_CEILING ? CLOCK_CEILING : us);

/** Counters across runs, for the test's report. */
export interface Tally {
  sequences: number;
  actions: number;
  inserts: number;
  rows: number;
  maintenanceRuns: number;
  creates: number;
  checks: number;
}
export const newTally = (): Tally => ({ sequences: 0, actions: 0, inserts: 0, rows: 0, maintenanceRuns: 0, creates: 0, checks: 0 });

export interface Outcome {
  table: string;
  violations: Violation[];
  journal: Entry[];
  caughtUp: boolean;
  setup: string[];
  run?: MaintenanceResult;
}

export class SequenceFailed extends Error {
  override name = 'SequenceFailed';
  constructor(readonly outcome: Outcome) {
    super(describeViolations(outcome.violations));
  }
}

let tables = 0;

async function resolve(db: Db, s: Stamp, clock: Micros): Promise<Micros> {
  if ('near' in s) return clock + BigInt(s.near);
  if ('anchor' in s) return parseInstant(s.anchor) + BigInt(s.delta);
  const month = new Date(Number(utcMonthStart(clock, s.edge.months) / 1000n));
  // PostgreSQL's own zone rules turn "local midnight on the 1st" into an instant; partkeeper's are not involved
  const { us } = await db.one<{ us: string }>(
    `select ((extract(epoch from (make_timestamp($1, $2, 1, 0, 0, 0) at time zone $3)) * 1000000)::bigint)::text as us`,
    [month.getUTCFullYear(), month.getUTCMonth() + 1, s.edge.zone],
  );
  return BigInt(us) + BigInt(s.edge.delta);
}

/** Plays one sequence on a fresh table of `db`; throws SequenceFailed with the journal on a violation. */
export async function play(db: Db, seq: Sequence, tally: Tally): Promise<Outcome> {
  const table = `pk_prop_${process.pid}_${++tables}`;
  const setup = [
    livechatTableDdl(table),
    `select partkeeper.register_table('${table}')`,
    `select partkeeper.configure('${table}', p_time_zone => '${seq.config.zone}', p_premake => ${seq.config.premake}, ` +
      `p_max_create_per_run => ${seq.config.maxCreate}, p_drain_window_back => '${seq.config.back}', p_drain_window_ahead => '${seq.config.ahead}')`,
  ];
  for (const sql of setup) await db.exec(sql);
  const ledger = new Ledger();
  const journal: Entry[] = [];
  tally.sequences++;
  try {
    let clock = clamp(seq.start);
    let zone = 'UTC';
    async function* entries(): AsyncGenerator<Entry> {
      for (const a of seq.actions) {
        tally.actions++;
        const at = { step: journal.length, clock, zone, role: null };
        switch (a.kind) {
          case 'insert': {
            const rows = [];
            for (const s of a.stamps) rows.push({ id: ledger.allocate(), at: await resolve(db, s, clock) });
            tally.inserts++;
            tally.rows += rows.length;
            yield { ...at, kind: 'insert', rows, sql: insertSql(table, rows) };
            break;
          }
          case 'clock':
            clock = clamp(await resolve(db, a.to, clock));
            break;
          case 'jump':
            clock = clamp(addDuration(clock, a.by));
            break;
          case 'maintain':
            tally.maintenanceRuns++;
            yield { ...at, kind: 'maintain', sql: maintainSql(table) };
            break;
          case 'create': {
            tally.creates++;
            const month = formatInstant(utcMonthStart(clock, a.months)).slice(0, 10);
            yield { ...at, kind: 'create', sql: createSql(table, month) };
            break;
          }
          case 'zone':
            zone = a.zone;
            break;
        }
      }
    }
    const result = await replay(db, entries(), { table, ledger, checkEach: true, catchUp: true, onEntry: (e) => journal.push(e) });
    tally.checks += result.entries + 1;
    const outcome: Outcome = {
      table,
      violations: result.violations,
      journal,
      caughtUp: result.caughtUp,
      setup,
      ...(result.run ? { run: result.run } : {}),
    };
    if (result.violations.length) throw new SequenceFailed(outcome);
    return outcome;
  } finally {
    await db.exec('reset role; reset timezone');
    await db.exec(`select partkeeper.unregister_table('${table}'); drop table ${table}`);
  }
}

/** A failure as the test prints it: the violations, the counterexample as SQL, and how to replay it. */
export function describeFailure(
  seed: number,
  details: { counterexample: [Sequence] | null; errorInstance: unknown; numShrinks: number },
  replayHint: string,
): string {
  const e = details.errorInstance;
  if (!(e instanceof SequenceFailed)) return `seed ${seed}: ${e instanceof Error ? e.stack : String(e)}\n${replayHint}`;
  const o = e.outcome;
  const target = o.violations[0]!.invariant;
  const script = reproScript(
    {
      setup: [{ install: true }, ...o.setup.map((sql) => ({ sql }))],
      installLabel: '\\i sql/install.sql',
      table: o.table,
      target,
      header: [`property counterexample (seed ${seed}, shrunk ${details.numShrinks} times)`, `[${target}] ${o.violations[0]!.message}`],
    },
    o.journal,
    o.caughtUp,
  );
  return [
    `invariants broken by a random sequence (seed ${seed}):`,
    describeViolations(o.violations),
    `rule: ${INVARIANTS[target].rule}`,
    ...(o.run ? [`the maintenance run checked: ${JSON.stringify(o.run)}`] : []),
    `sequence: ${JSON.stringify(details.counterexample?.[0], (_, v: unknown) => (typeof v === 'bigint' ? formatInstant(v) : v))}`,
    'as SQL:',
    script.sql,
    replayHint,
  ].join('\n');
}
