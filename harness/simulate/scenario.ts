// Scenarios are plain JSON files in scenarios/: what happens to a livechat_messages table over months
// of simulated time. This module reads and checks them (a typo in a key is an error, not a default)
// and fills in the defaults.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/bundle.ts';
import { addDuration, parseInstant, type Duration } from '../instant.ts';

/** The pg_cron jobs sql/functions/schedule_jobs.sql schedules, and the command both run. */
export const CRON_JOBS: readonly Job[] = [
  { name: 'partkeeper-frequent', schedule: '*/5 * * * *' },
  { name: 'partkeeper-monthly', schedule: '0 2 1 * *' },
];
export const CRON_COMMAND = 'call partkeeper.run_maintenance()';

export interface Job {
  name: string;
  /** Five-field cron expression in UTC, as pg_cron reads it. */
  schedule: string;
}

/** Settings passed to partkeeper.configure() once, after install (names as its p_* parameters). */
export interface TableSettings {
  time_zone?: string;
  premake?: number;
  drain_window_back?: string;
  drain_window_ahead?: string;
  lock_timeout?: string;
  lock_retries?: number;
  max_create_per_run?: number;
  part_interval?: string;
  retention?: string;
}

export type ScenarioEvent =
  /** Maintenance does not run in [at, at + for): pg_cron stopped, the server was down, a bad deploy. */
  | { type: 'outage'; at: string; for: Duration; note?: string }
  /** The clock (partkeeper.now and pg_cron's schedule) moves by `by` from `at` on. */
  | { type: 'clockJump'; at: string; by: Duration; note?: string }
  /** A DBA runs create_monthly_partition for `month` (YYYY-MM-DD), or for the month `monthsAhead` of the clock's. */
  | { type: 'createPartition'; at: string; month?: string; monthsAhead?: number; session?: string; note?: string }
  /** `count` messages stamped `by` before (late) or after (early) the clock, from `session`. */
  | { type: 'late' | 'early'; at: string; by: Duration; count?: number; session?: string; note?: string }
  /** Server only: another session keeps a long report open on the table for `for`. */
  | { type: 'longReader'; at: string; for: Duration; note?: string }
  /** Server only: the next maintenance run is terminated while it moves rows out of DEFAULT. */
  | { type: 'killMaintenance'; at: string; note?: string };

export interface Scenario {
  name: string;
  description: string;
  /** Simulated wall time at which the scenario starts. */
  start: string;
  months: number;
  seed: number;
  /** 'original': the original design's table with partitions 2025-04 .. 2025-08 exists before install. */
  history: 'none' | 'original';
  table: TableSettings;
  messages: {
    /** Messages per hour outside bursts. */
    perHour: number;
    /** Within `hours` of a UTC month boundary the rate is multiplied by `factor`. */
    monthEnd: { hours: number; factor: number };
    /** Also insert a row 1 µs before, at and 1 µs after every month boundary of every session's zone. */
    edges: boolean;
    /** A share of messages carries a client clock that is off, up to `late` behind or `early` ahead. */
    skew: { share: number; late: Duration; early: Duration };
  };
  /** Time zones of the application's sessions (SET timezone); each tick's messages come from one. */
  sessions: string[];
  maintenance: {
    /** Simulated hours between ticks: each tick inserts what arrived since the last one, then runs due jobs. */
    tickHours: number;
    /** TimeZone of the session the jobs run in (pg_cron uses the server's). */
    timeZone: string;
    jobs: Job[];
  };
  /** Inserts as an insert-only role and maintenance as a role made by grant_maintenance. */
  roles: boolean;
  events: ScenarioEvent[];
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(where: string, obj: Json, keys: string[]): void {
  const extra = Object.keys(obj).filter((k) => !keys.includes(k));
  if (extra.length) throw new ScenarioError(`${where}: unknown key(s) ${extra.join(', ')} (known: ${keys.join(', ')})`);
}

function num(where: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ScenarioError(`${where}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new ScenarioError(`${where}: expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function instant(where: string, v: unknown): string {
  const s = str(where, v);
  try {
    parseInstant(s);
  } catch {
    throw new ScenarioError(`${where}: expected a timestamp such as "2025-09-30T23:00:00Z", got ${JSON.stringify(v)}`);
  }
  return s;
}

const DURATION_KEYS = ['years', 'months', 'days', 'hours', 'minutes', 'seconds', 'micros'] as const;

function duration(where: string, v: unknown): Duration {
  if (!isObject(v)) throw new ScenarioError(`${where}: expected a duration such as {"days": 3}, got ${JSON.stringify(v)}`);
  only(where, v, [...DURATION_KEYS]);
  const d: Duration = {};
  for (const k of DURATION_KEYS) {
    if (v[k] === undefined) continue;
    d[k] = num(`${where}.${k}`, v[k], -1e12, 1e12, k === 'years' || k === 'months');
  }
  return d;
}

function tableSettings(where: string, v: unknown): TableSettings {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ScenarioError(`${where}: expected an object`);
  const keys = [
    'time_zone',
    'premake',
    'drain_window_back',
    'drain_window_ahead',
    'lock_timeout',
    'lock_retries',
    'max_create_per_run',
    'part_interval',
    'retention',
  ];
  only(where, v, keys);
  const t: TableSettings = {};
  for (const k of ['time_zone', 'drain_window_back', 'drain_window_ahead', 'lock_timeout', 'part_interval', 'retention'] as const) {
    if (v[k] !== undefined) t[k] = str(`${where}.${k}`, v[k]);
  }
  for (const k of ['premake', 'lock_retries', 'max_create_per_run'] as const) {
    if (v[k] !== undefined) t[k] = num(`${where}.${k}`, v[k], 0, 10000, true);
  }
  return t;
}

function event(where: string, v: unknown): ScenarioEvent {
  if (!isObject(v)) throw new ScenarioError(`${where}: expected an object`);
  const type = str(`${where}.type`, v.type);
  const at = instant(`${where}.at`, v.at);
  const note = v.note === undefined ? {} : { note: str(`${where}.note`, v.note) };
  switch (type) {
    case 'outage':
    case 'longReader':
      only(where, v, ['type', 'at', 'for', 'note']);
      return { type, at, for: duration(`${where}.for`, v.for), ...note };
    case 'clockJump':
      only(where, v, ['type', 'at', 'by', 'note']);
      return { type, at, by: duration(`${where}.by`, v.by), ...note };
    case 'createPartition': {
      only(where, v, ['type', 'at', 'month', 'monthsAhead', 'session', 'note']);
      if ((v.month === undefined) === (v.monthsAhead === undefined))
        throw new ScenarioError(`${where}: give exactly one of month and monthsAhead`);
      const e: ScenarioEvent = { type, at, ...note };
      if (v.month !== undefined) {
        const month = str(`${where}.month`, v.month);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(month)) throw new ScenarioError(`${where}.month: expected YYYY-MM-DD, got ${month}`);
        e.month = month;
      }
      if (v.monthsAhead !== undefined) e.monthsAhead = num(`${where}.monthsAhead`, v.monthsAhead, -1200, 1200, true);
      if (v.session !== undefined) e.session = str(`${where}.session`, v.session);
      return e;
    }
    case 'late':
    case 'early': {
      only(where, v, ['type', 'at', 'by', 'count', 'session', 'note']);
      const e: ScenarioEvent = { type, at, by: duration(`${where}.by`, v.by), ...note };
      if (v.count !== undefined) e.count = num(`${where}.count`, v.count, 1, 100000, true);
      if (v.session !== undefined) e.session = str(`${where}.session`, v.session);
      return e;
    }
    case 'killMaintenance':
      only(where, v, ['type', 'at', 'note']);
      return { type, at, ...note };
    default:
      throw new ScenarioError(
        `${where}.type: unknown event ${JSON.stringify(type)} (outage, clockJump, createPartition, late, early, longReader, killMaintenance)`,
      );
  }
}

/** Checks a parsed scenario file and fills in the defaults. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  if (!isObject(raw)) throw new ScenarioError(`${source}: expected a JSON object`);
  only(source, raw, [
    'name',
    'description',
    'start',
    'months',
    'seed',
    'history',
    'table',
    'messages',
    'sessions',
    'maintenance',
    'roles',
    'events',
  ]);
  const m = raw.messages === undefined ? {} : raw.messages;
  if (!isObject(m)) throw new ScenarioError(`${source}.messages: expected an object`);
  only(`${source}.messages`, m, ['perHour', 'monthEnd', 'edges', 'skew']);
  const monthEnd = m.monthEnd === undefined ? { hours: 6, factor: 6 } : m.monthEnd;
  if (!isObject(monthEnd)) throw new ScenarioError(`${source}.messages.monthEnd: expected {"hours", "factor"}`);
  only(`${source}.messages.monthEnd`, monthEnd, ['hours', 'factor']);
  const skew = m.skew === undefined ? { share: 0, late: {}, early: {} } : m.skew;
  if (!isObject(skew)) throw new ScenarioError(`${source}.messages.skew: expected {"share", "late", "early"}`);
  only(`${source}.messages.skew`, skew, ['share', 'late', 'early']);
  const mt = raw.maintenance === undefined ? {} : raw.maintenance;
  if (!isObject(mt)) throw new ScenarioError(`${source}.maintenance: expected an object`);
  only(`${source}.maintenance`, mt, ['tickHours', 'timeZone', 'jobs']);
  const jobs = mt.jobs === undefined ? CRON_JOBS.map((j) => ({ ...j })) : mt.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) throw new ScenarioError(`${source}.maintenance.jobs: expected a non-empty array`);
  const sessions = raw.sessions === undefined ? ['UTC'] : raw.sessions;
  if (!Array.isArray(sessions) || sessions.length === 0)
    throw new ScenarioError(`${source}.sessions: expected a non-empty array of time zones`);
  const events = raw.events === undefined ? [] : raw.events;
  if (!Array.isArray(events)) throw new ScenarioError(`${source}.events: expected an array`);
  const history = raw.history === undefined ? 'none' : raw.history;
  if (history !== 'none' && history !== 'original') throw new ScenarioError(`${source}.history: expected "none" or "original"`);
  const table = tableSettings(`${source}.table`, raw.table);
  if (history === 'original' && table.time_zone && table.time_zone !== 'UTC') {
    throw new ScenarioError(`${source}.table.time_zone: the original history has UTC partitions, so the zone must stay UTC`);
  }

  const start = instant(`${source}.start`, raw.start);
  const months = num(`${source}.months`, raw.months, 1, 1200, true);
  const parsedEvents = events.map((e, i) => event(`${source}.events[${i}]`, e));
  const end = addDuration(parseInstant(start), { months });
  parsedEvents.forEach((e, i) => {
    const at = parseInstant(e.at);
    if (at < parseInstant(start) || at >= end)
      throw new ScenarioError(`${source}.events[${i}].at: ${e.at} is outside the scenario (${start} + ${months} months)`);
  });

  return {
    name: str(`${source}.name`, raw.name),
    description: raw.description === undefined ? '' : str(`${source}.description`, raw.description),
    start,
    months,
    seed: raw.seed === undefined ? 1 : num(`${source}.seed`, raw.seed, 0, 2 ** 32 - 1, true),
    history,
    table,
    messages: {
      perHour: m.perHour === undefined ? 0.25 : num(`${source}.messages.perHour`, m.perHour, 0, 10000),
      monthEnd: {
        hours: num(`${source}.messages.monthEnd.hours`, monthEnd.hours, 0, 24 * 14),
        factor: num(`${source}.messages.monthEnd.factor`, monthEnd.factor, 0, 1000),
      },
      edges: m.edges === undefined ? true : m.edges === true,
      skew: {
        share: num(`${source}.messages.skew.share`, skew.share ?? 0, 0, 1),
        late: skew.late === undefined ? {} : duration(`${source}.messages.skew.late`, skew.late),
        early: skew.early === undefined ? {} : duration(`${source}.messages.skew.early`, skew.early),
      },
    },
    sessions: sessions.map((z, i) => str(`${source}.sessions[${i}]`, z)),
    maintenance: {
      tickHours: mt.tickHours === undefined ? 6 : num(`${source}.maintenance.tickHours`, mt.tickHours, 1 / 60, 24 * 31),
      timeZone: mt.timeZone === undefined ? 'UTC' : str(`${source}.maintenance.timeZone`, mt.timeZone),
      jobs: jobs.map((j, i) => {
        const w = `${source}.maintenance.jobs[${i}]`;
        if (!isObject(j)) throw new ScenarioError(`${w}: expected {"name", "schedule"}`);
        only(w, j, ['name', 'schedule']);
        return { name: str(`${w}.name`, j.name), schedule: str(`${w}.schedule`, j.schedule) };
      }),
    },
    roles: raw.roles === true,
    events: parsedEvents,
  };
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
