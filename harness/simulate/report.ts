// What a simulation reports: a month-by-month timeline, a summary, and on a violation the step, the
// state and the repro. Built from what the checks saw after each step; rendered as text or JSON.
import type { MaintenanceResult } from '../../src/contracts.ts';
import { describeSpan, formatInstant, shortInstant, utcMonth, type Micros } from '../instant.ts';
import { INVARIANTS, type Facts, type InvariantId, type Violation } from '../invariants.ts';
import type { PlannedStep } from './plan.ts';

export interface MonthRow {
  /** UTC month of the simulated wall time. */
  month: string;
  /** partkeeper.now() at the month's first step (differs from `month` after a clock jump). */
  clock: string;
  rows: number;
  created: string[];
  retired: string[];
  drained: number;
  defaultPeak: number;
  runs: number;
  warnings: number;
  events: string[];
}

export interface Summary {
  rowsInserted: number;
  insertStatements: number;
  failedInserts: number;
  partitionsCreated: number;
  partitionsRetired: number;
  rowsDrained: number;
  maintenanceRuns: number;
  runsByStatus: Record<string, number>;
  steps: number;
  settledSteps: number;
  /** Runs of maintenance until it settles, each a check of maintenance-settles (the end of a run). */
  catchUps: number;
  mostRowsInDefault: { rows: number; at: string; clock: string } | null;
  longestWait: { row: number; waited: string; hours: number; from: string; to: string } | null;
  stillInDefault: { rows: number; longestHours: number };
}

export interface ViolationReport {
  step: number;
  at: string;
  clock: string;
  label: string;
  violations: Violation[];
  state: {
    partitions: { name: string; lower: string | null; upper: string | null; rows: number }[];
    rowsInDefault: number;
    ledgerRows: number;
    lastRun: MaintenanceResult | null;
  };
  repro: Repro;
}

export interface Repro {
  sql: string;
  /** Statements in the repro and in the journal it was cut from. */
  statements: number;
  journal: number;
  /** The repro was replayed on a fresh PGlite and still shows the violation. */
  verified: boolean;
  trials: number;
  note: string;
}

export interface SimulationReport {
  scenario: {
    name: string;
    description: string;
    seed: number;
    months: number;
    tickHours: number;
    start: string;
    end: string;
    sessions: string[];
  };
  backend: string;
  server: string;
  ok: boolean;
  steps: { planned: number; run: number };
  timeline: MonthRow[];
  summary: Summary;
  invariants: { id: InvariantId; when: 'always' | 'settled'; rule: string; checks: number }[];
  violation?: ViolationReport;
  durationMs: number;
}

/** Accumulates the timeline and summary from each step's facts. */
export class Stats {
  readonly months = new Map<string, MonthRow>();
  readonly summary: Summary = {
    rowsInserted: 0,
    insertStatements: 0,
    failedInserts: 0,
    partitionsCreated: 0,
    partitionsRetired: 0,
    rowsDrained: 0,
    maintenanceRuns: 0,
    runsByStatus: {},
    steps: 0,
    settledSteps: 0,
    catchUps: 0,
    mostRowsInDefault: null,
    longestWait: null,
    stillInDefault: { rows: 0, longestHours: 0 },
  };
  #partitions: Set<string> | undefined;
  /** Rows in DEFAULT and the wall time since which they wait. */
  readonly #waiting = new Map<number, Micros>();
  #longest = -1n;

  constructor(events: readonly { at: Micros; text: string }[]) {
    for (const e of events) this.#month(e.at).events.push(e.text);
  }

  #month(at: Micros, clock?: Micros): MonthRow {
    const key = utcMonth(at);
    let row = this.months.get(key);
    if (!row) {
      row = { month: key, clock: '', rows: 0, created: [], retired: [], drained: 0, defaultPeak: 0, runs: 0, warnings: 0, events: [] };
      this.months.set(key, row);
    }
    if (clock !== undefined && row.clock === '') row.clock = shortInstant(clock);
    return row;
  }

  /** Partitions that existed before the first step are not counted as created by it. */
  baseline(facts: Facts): void {
    this.#partitions = new Set(facts.partitions.filter((p) => !p.isDefault).map((p) => p.name));
  }

  /** A line in the timeline, next to the month's events. */
  note(step: PlannedStep, text: string): void {
    this.#month(step.at, step.clock).events.push(text);
  }

  inserted(step: PlannedStep, rows: number): void {
    this.#month(step.at, step.clock).rows += rows;
    this.summary.rowsInserted += rows;
    this.summary.insertStatements++;
  }

  ran(step: PlannedStep, run: MaintenanceResult): void {
    const row = this.#month(step.at, step.clock);
    row.runs++;
    if (run.status !== 'ok') row.warnings++;
    this.summary.maintenanceRuns++;
    this.summary.runsByStatus[run.status] = (this.summary.runsByStatus[run.status] ?? 0) + 1;
  }

  observe(step: PlannedStep, facts: Facts): void {
    const row = this.#month(step.at, step.clock);
    this.summary.steps++;
    if (facts.settled) this.summary.settledSteps++;
    const names = new Set(facts.partitions.filter((p) => !p.isDefault).map((p) => p.name));
    if (this.#partitions) {
      for (const n of names) if (!this.#partitions.has(n)) row.created.push(n.replace(/^.*_(?=\d{4}_)/, ''));
      for (const n of this.#partitions) if (!names.has(n)) row.retired.push(n.replace(/^.*_(?=\d{4}_)/, ''));
    }
    this.summary.partitionsCreated += this.#partitions ? [...names].filter((n) => !this.#partitions!.has(n)).length : 0;
    this.summary.partitionsRetired += this.#partitions ? [...this.#partitions].filter((n) => !names.has(n)).length : 0;
    this.#partitions = names;

    const now = new Set(facts.defaultRows.map((r) => r.id));
    for (const id of now) if (!this.#waiting.has(id)) this.#waiting.set(id, step.at);
    for (const [id, since] of this.#waiting) {
      if (now.has(id)) continue;
      this.#waiting.delete(id);
      row.drained++;
      this.summary.rowsDrained++;
      if (step.at - since > this.#longest) {
        this.#longest = step.at - since;
        this.summary.longestWait = {
          row: id,
          waited: describeSpan(step.at - since),
          hours: Number(step.at - since) / 3.6e9,
          from: shortInstant(since),
          to: shortInstant(step.at),
        };
      }
    }
    row.defaultPeak = Math.max(row.defaultPeak, now.size);
    if (now.size > (this.summary.mostRowsInDefault?.rows ?? 0)) {
      this.summary.mostRowsInDefault = { rows: now.size, at: shortInstant(step.at), clock: shortInstant(step.clock) };
    }
    let oldest = 0n;
    for (const since of this.#waiting.values()) if (step.at - since > oldest) oldest = step.at - since;
    this.summary.stillInDefault = { rows: now.size, longestHours: Number(oldest) / 3.6e9 };
  }

  timeline(): MonthRow[] {
    return [...this.months.values()].sort((a, b) => a.month.localeCompare(b.month));
  }

  invariantChecks(): SimulationReport['invariants'] {
    return (Object.keys(INVARIANTS) as InvariantId[]).map((id) => ({
      id,
      when: INVARIANTS[id].when,
      rule: INVARIANTS[id].rule,
      checks:
        id === 'maintenance-settles'
          ? this.summary.catchUps
          : INVARIANTS[id].when === 'always'
            ? this.summary.steps
            : this.summary.settledSteps,
    }));
  }
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

/** The timeline as a table, one line per month (long lists of partitions are shortened). */
export function renderTimeline(rows: readonly MonthRow[]): string[] {
  const out = [
    `${pad('month', 8)} ${pad('clock', 16)} ${lpad('rows', 6)}  ${pad('partitions made', 26)} ${lpad('drained', 7)} ${lpad('DEFAULT', 7)} ${lpad('runs', 5)} ${lpad('warn', 4)}  events`,
  ];
  for (const r of rows) {
    const made = r.created.length > 3 ? `${r.created.slice(0, 2).join(' ')} +${r.created.length - 2} more` : r.created.join(' ');
    const retired = r.retired.length ? ` -${r.retired.length} retired` : '';
    out.push(
      `${pad(r.month, 8)} ${pad(r.clock, 16)} ${lpad(r.rows, 6)}  ${pad(made + retired || '-', 26)} ${lpad(r.drained, 7)} ${lpad(r.defaultPeak, 7)} ${lpad(r.runs, 5)} ${lpad(r.warnings, 4)}  ${r.events.join('; ')}`,
    );
  }
  return out;
}

/** The report's summary as lines of text for people (counts, the longest DEFAULT wait, whether every invariant held); no trailing newlines. */
export function renderSummary(report: SimulationReport): string[] {
  const s = report.summary;
  const statuses = Object.entries(s.runsByStatus)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `rows inserted: ${s.rowsInserted} in ${s.insertStatements} statements, ${s.failedInserts} failed`,
    `partitions created: ${s.partitionsCreated}${s.partitionsRetired ? `, retired: ${s.partitionsRetired}` : ''}`,
    `rows drained from DEFAULT: ${s.rowsDrained}`,
    `most rows waiting in DEFAULT: ${s.mostRowsInDefault ? `${s.mostRowsInDefault.rows} (at ${s.mostRowsInDefault.at}, clock ${s.mostRowsInDefault.clock})` : 'none ever waited'}`,
    `longest wait in DEFAULT before a partition took the row: ${s.longestWait ? `${s.longestWait.waited} (row ${s.longestWait.row}, ${s.longestWait.from} to ${s.longestWait.to})` : 'no row waited'}`,
    `left in DEFAULT at the end (outside the drain window by design): ${s.stillInDefault.rows} row(s)`,
    `maintenance runs: ${s.maintenanceRuns} (${statuses || 'none'})`,
    `invariants checked after ${s.steps} steps, ${s.settledSteps} of them after a settled run: ${report.ok ? 'all held' : 'VIOLATED'}`,
  ];
  return lines;
}

/**
 * A violation as lines of text for people: the step and its clocks, each broken invariant with its
 * rule and details, the partitions with their row counts, and the repro script; no trailing newlines.
 */
export function renderViolation(v: ViolationReport): string[] {
  const out = [`VIOLATION at step ${v.step} (${v.label}), wall time ${v.at}, clock ${v.clock}:`];
  for (const x of v.violations) {
    out.push(`  [${x.invariant}] ${x.message}`, `    rule: ${INVARIANTS[x.invariant].rule}`);
    if (x.details) out.push(`    ${JSON.stringify(x.details)}`);
  }
  out.push('state:');
  for (const p of v.state.partitions)
    out.push(`  ${pad(p.name, 34)} ${p.lower ? `[${p.lower}, ${p.upper})` : 'DEFAULT'}  ${p.rows} row(s)`);
  out.push(
    `  ledger: ${v.state.ledgerRows} row(s) inserted; last maintenance: ${v.state.lastRun ? `${v.state.lastRun.status} ${JSON.stringify('warnings' in v.state.lastRun ? v.state.lastRun.warnings : [])}` : 'none'}`,
  );
  out.push(
    `repro (${v.repro.statements} of ${v.repro.journal} statements; ${v.repro.verified ? `replayed on a fresh PGlite, ${v.repro.trials} trials` : 'not verified'}; ${v.repro.note}):`,
    v.repro.sql,
  );
  return out;
}

export const instantText = (us: Micros | null) => (us === null ? null : formatInstant(us));
