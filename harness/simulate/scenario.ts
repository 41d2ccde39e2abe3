// Scenarios are plain JSON files in scenarios/: what happens to a livechat_messages table over months
// of simulated time. This module reads them through one zod schema (a typo in a key is an error, not a
// default), which fills in the defaults; scenarios/README.md is its prose version.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../../src/bundle.ts';
import { issueLines } from '../../src/contracts.ts';
import { addDuration, parseInstant, type Duration } from '../instant.ts';

const got = (v: unknown) => JSON.stringify(v);

/** An object with exactly these keys; an unknown key is named with the known ones, so a typo is easy to see. */
function object<S extends z.core.$ZodShape>(shape: S, expected = 'an object') {
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key(s) ${iss.keys.join(', ')} (known: ${Object.keys(shape).join(', ')})`
        : iss.code === 'invalid_type'
          ? `expected ${expected}, got ${got(iss.input)}`
          : undefined,
  });
}

/** A finite number from min to max, an integer when asked. */
function num(min: number, max: number, integer = false) {
  const error = (iss: { input?: unknown }) =>
    `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${got(iss.input)}`;
  const n = z.number({ error }).min(min, { error }).max(max, { error });
  return integer ? n.int({ error }) : n;
}

const str = z.string({ error: (iss) => `expected a non-empty string, got ${got(iss.input)}` }).min(1, {
  error: (iss) => `expected a non-empty string, got ${got(iss.input)}`,
});

const parses = (s: string) => {
  try {
    parseInstant(s);
    return true;
  } catch {
    return false;
  }
};
/** A timestamp as parseInstant() reads it: ISO 8601, or PostgreSQL's text. */
const instant = z
  .string({ error: (iss) => `expected a non-empty string, got ${got(iss.input)}` })
  .refine(parses, { error: (iss) => `expected a timestamp such as "2025-09-30T23:00:00Z", got ${got(iss.input)}` });

/** A span of time: calendar years and months (integers), then fixed units; any sign. */
const durationSchema: z.ZodType<Duration> = object(
  {
    years: num(-1e12, 1e12, true).optional(),
    months: num(-1e12, 1e12, true).optional(),
    days: num(-1e12, 1e12).optional(),
    hours: num(-1e12, 1e12).optional(),
    minutes: num(-1e12, 1e12).optional(),
    seconds: num(-1e12, 1e12).optional(),
    micros: num(-1e12, 1e12).optional(),
  },
  'a duration such as {"days": 3}',
);

/** A pg_cron job: its name and five-field cron expression in UTC, as pg_cron reads it. */
const jobSchema = object({ name: str, schedule: str }, '{"name", "schedule"}');
export type Job = z.infer<typeof jobSchema>;

/** Settings passed to partkeeper.configure() once, after install (names as its p_* parameters). */
const tableSettingsSchema = object({
  time_zone: str.optional(),
  premake: num(0, 10000, true).optional(),
  drain_window_back: str.optional(),
  drain_window_ahead: str.optional(),
  lock_timeout: str.optional(),
  lock_retries: num(0, 10000, true).optional(),
  max_create_per_run: num(0, 10000, true).optional(),
  part_interval: str.optional(),
  retention: str.optional(),
});
export type TableSettings = z.infer<typeof tableSettingsSchema>;

const EVENT_TYPES = 'outage, clockJump, createPartition, late, early, longReader, killMaintenance';

const eventSchema = z.discriminatedUnion(
  'type',
  [
    /** Maintenance does not run in [at, at + for): pg_cron stopped, the server was down, a bad deploy. */
    object({ type: z.literal('outage'), at: instant, for: durationSchema, note: str.optional() }),
    /** The clock (partkeeper.now and pg_cron's schedule) moves by `by` from `at` on. */
    object({ type: z.literal('clockJump'), at: instant, by: durationSchema, note: str.optional() }),
    /** A DBA runs create_monthly_partition for `month` (YYYY-MM-DD), or for the month `monthsAhead` of the clock's. */
    object({
      type: z.literal('createPartition'),
      at: instant,
      month: str.regex(/^\d{4}-\d{2}-\d{2}$/, { error: (iss) => `expected YYYY-MM-DD, got ${got(iss.input)}` }).optional(),
      monthsAhead: num(-1200, 1200, true).optional(),
      session: str.optional(),
      note: str.optional(),
    }).refine((e) => (e.month === undefined) !== (e.monthsAhead === undefined), { error: 'give exactly one of month and monthsAhead' }),
    /** `count` messages stamped `by` before (late) or after (early) the clock, from `session`. */
    object({
      type: z.enum(['late', 'early']),
      at: instant,
      by: durationSchema,
      count: num(1, 100000, true).optional(),
      session: str.optional(),
      note: str.optional(),
    }),
    /** Server only: another session keeps a long report open on the table for `for`. */
    object({ type: z.literal('longReader'), at: instant, for: durationSchema, note: str.optional() }),
    /** Server only: the next maintenance run is terminated while it moves rows out of DEFAULT. */
    object({ type: z.literal('killMaintenance'), at: instant, note: str.optional() }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `unknown event ${got((iss.input as { type?: unknown })?.type)} (${EVENT_TYPES})`
        : iss.code === 'invalid_type'
          ? `expected an object, got ${got(iss.input)}`
          : undefined,
  },
);
export type ScenarioEvent = z.infer<typeof eventSchema>;

/**
 * A scenario file (scenarios/README.md), with every default filled in. Besides the shape: the
 * original history keeps its UTC partitions, and every event happens within the scenario.
 */
export const scenarioSchema = object(
  {
    name: str,
    description: str.default(''),
    /** Simulated wall time at which the scenario starts. */
    start: instant,
    months: num(1, 1200, true),
    seed: num(0, 2 ** 32 - 1, true).default(1),
    /** 'original': the original design's table with partitions 2025-04 .. 2025-08 exists before install. */
    history: z.enum(['none', 'original'], { error: 'expected "none" or "original"' }).default('none'),
    table: tableSettingsSchema.prefault({}),
    messages: object({
      /** Messages per hour outside bursts. */
      perHour: num(0, 10000).default(0.25),
      /** Within `hours` of a UTC month boundary the rate is multiplied by `factor`. */
      monthEnd: object({ hours: num(0, 24 * 14), factor: num(0, 1000) }, '{"hours", "factor"}').prefault({ hours: 6, factor: 6 }),
      /** Also insert a row 1 µs before, at and 1 µs after every month boundary of every session's zone. */
      edges: z.boolean({ error: (iss) => `expected true or false, got ${got(iss.input)}` }).default(true),
      /** A share of messages carries a client clock that is off, up to `late` behind or `early` ahead. */
      skew: object(
        { share: num(0, 1).default(0), late: durationSchema.prefault({}), early: durationSchema.prefault({}) },
        '{"share", "late", "early"}',
      ).prefault({}),
    }).prefault({}),
    /** Time zones of the application's sessions (SET timezone); each tick's messages come from one. */
    sessions: z
      .array(str, { error: 'expected a non-empty array of time zones' })
      .min(1, { error: 'expected a non-empty array of time zones' })
      .prefault(['UTC']),
    maintenance: object({
      /** Simulated hours between ticks: each tick inserts what arrived since the last one, then runs due jobs. */
      tickHours: num(1 / 60, 24 * 31).default(6),
      /** TimeZone of the session the jobs run in (pg_cron uses the server's). */
      timeZone: str.default('UTC'),
      /** Absent: the maintenance jobs of partkeeper.job_definitions(), read from the installed SQL. */
      jobs: z.array(jobSchema, { error: 'expected a non-empty array' }).min(1, { error: 'expected a non-empty array' }).optional(),
    }).prefault({}),
    /** Inserts as an insert-only role and maintenance as a role made by grant_maintenance. */
    roles: z.boolean({ error: (iss) => `expected true or false, got ${got(iss.input)}` }).default(false),
    events: z.array(eventSchema, { error: 'expected an array' }).prefault([]),
  },
  'a JSON object',
).superRefine((s, ctx) => {
  if (s.history === 'original' && s.table.time_zone && s.table.time_zone !== 'UTC') {
    ctx.addIssue({
      code: 'custom',
      path: ['table', 'time_zone'],
      message: 'the original history has UTC partitions, so the zone must stay UTC',
    });
  }
  const start = parseInstant(s.start);
  const end = addDuration(start, { months: s.months });
  s.events.forEach((e, i) => {
    const at = parseInstant(e.at);
    if (at < start || at >= end) {
      ctx.addIssue({
        code: 'custom',
        path: ['events', i, 'at'],
        message: `${e.at} is outside the scenario (${s.start} + ${s.months} months)`,
      });
    }
  });
});

export type Scenario = z.infer<typeof scenarioSchema>;

/** A scenario file that cannot be played as it is: the file and each field that is wrong, one a line. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Checks a parsed scenario file and fills in the defaults; a ScenarioError names `source` and every field that is wrong. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(raw);
  if (!r.success)
    throw new ScenarioError(
      issueLines(r.error)
        .map((l) => `${source}: ${l}`)
        .join('\n'),
    );
  return r.data;
}

/** Events that need sessions of their own, so a server (--database-url). */
export const needsSessions = (s: Scenario): boolean => s.events.some((e) => e.type === 'longReader' || e.type === 'killMaintenance');

export const scenarioDir = path.join(repoRoot, 'scenarios');
export const DEFAULT_SCENARIO = 'original-history';

/** The scenarios shipped in scenarios/, by name. */
export function listScenarios(): string[] {
  return readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A scenario by name (scenarios/NAME.json) or by path to a JSON file. */
export function loadScenario(nameOrPath: string = DEFAULT_SCENARIO): Scenario {
  const file = /[/\\]|\.json$/.test(nameOrPath) ? path.resolve(nameOrPath) : path.join(scenarioDir, `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new ScenarioError(`no scenario ${JSON.stringify(nameOrPath)}: ${file} does not exist (shipped: ${listScenarios().join(', ')})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, path.relative(process.cwd(), file) || file);
}
