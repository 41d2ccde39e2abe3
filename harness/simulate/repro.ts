// A violation's repro: the journal cut down to what still shows it. Each trial replays a candidate
// on a PGlite that has the simulation's setup, inside one transaction that is rolled back after the
// checks, so trials cost only their own statements. Delta debugging (ddmin) removes statements,
// then rows of the remaining INSERTs, until the time budget is spent.
import type { Db } from '../../src/db.ts';
import { catchUp, catchUpSql, Checker, INVARIANTS, Ledger, type InvariantId, type Violation } from '../invariants.ts';
import { openPglite } from '../../src/pglite.ts';
import { insertSql, SessionState, type Entry } from './journal.ts';
import { replay } from './replay.ts';
import type { Repro } from './report.ts';
import { runSetup, type SetupItem } from './setup.ts';

export interface ReproInput {
  setup: readonly SetupItem[];
  install: (db: Db) => Promise<void>;
  installLabel: string;
  table: string;
  foreign: ReadonlySet<string>;
  /** The journal up to and including the step that broke the invariant. */
  journal: readonly Entry[];
  target: InvariantId;
  budgetMs: number;
  header: string[];
}

interface Outcome {
  hit: boolean;
  caughtUp: boolean;
}

class Rollback {
  constructor(readonly outcome: Outcome) {}
}

async function trial(db: Db, input: ReproInput, entries: readonly Entry[]): Promise<Outcome> {
  const target = (vs: readonly Violation[]) => vs.some((v) => v.invariant === input.target);
  try {
    await db.transaction(async (tx) => {
      const ledger = new Ledger();
      const result = await replay(tx, entries, { table: input.table, ledger, foreign: input.foreign, savepoints: true });
      if (target(result.violations)) throw new Rollback({ hit: true, caughtUp: false });
      if (INVARIANTS[input.target].when === 'settled') {
        const c = await catchUp(tx, input.table);
        const after = c.violation
          ? [c.violation]
          : (await new Checker(tx, { table: input.table, ledger, foreign: input.foreign }).check(c.run)).violations;
        if (target(after)) throw new Rollback({ hit: true, caughtUp: true });
      }
      throw new Rollback({ hit: false, caughtUp: false });
    });
  } catch (e) {
    if (e instanceof Rollback) return e.outcome;
    throw e;
  }
  throw new Error('unreachable: every trial rolls back');
}

/** Classic ddmin over complements: keeps removing chunks while the test still fails. */
async function ddmin<T>(items: T[], test: (xs: T[]) => Promise<boolean>, expired: () => boolean): Promise<T[]> {
  let n = 2;
  let current = items;
  while (current.length >= 2 && !expired()) {
    const size = Math.ceil(current.length / n);
    let reduced = false;
    for (let i = 0; i < current.length && !expired(); i += size) {
      const complement = [...current.slice(0, i), ...current.slice(i + size)];
      if (complement.length && (await test(complement))) {
        current = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  return current;
}

export type ScriptInput = Pick<ReproInput, 'setup' | 'installLabel' | 'table' | 'target' | 'header'>;

/** The SQL script of entries after the setup, ending with a query that shows the broken invariant. */
export function reproScript(input: ScriptInput, entries: readonly Entry[], caughtUp: boolean): { sql: string; statements: number } {
  const lines = input.header.map((h) => `-- ${h}`);
  lines.push('-- Run on an empty database from the project root: psql -f repro.sql', '');
  let statements = 0;
  for (const item of input.setup) {
    lines.push('install' in item ? input.installLabel : `${item.sql};`);
    statements++;
  }
  const session = new SessionState();
  let step = -1;
  let noted = false;
  for (const e of entries) {
    if (e.step !== step)
      lines.push(
        e.step < 0
          ? '-- rows of the original history (they land in its own partitions, so after the install is the same)'
          : `-- step ${e.step}`,
      );
    step = e.step;
    if (e.multiSession) {
      lines.push(`-- in another session: ${e.sql}`);
      continue;
    }
    for (const s of session.prelude(e)) lines.push(`${s};`);
    if (e.kind === 'maintain' && !noted) {
      lines.push('-- (the pg_cron jobs CALL partkeeper.run_maintenance(), which runs this for every table and commits)');
      noted = true;
    }
    lines.push(`${e.trialSql ?? e.sql};`);
    statements++;
  }
  if (caughtUp) {
    for (const s of session.prelude({ role: null, zone: session.zone ?? 'UTC', clock: session.clock ?? 0n })) lines.push(`${s};`);
    lines.push('-- maintenance until it has caught up', `${catchUpSql(input.table)};`);
    statements++;
  }
  lines.push('', `-- broken: ${INVARIANTS[input.target].rule}`, `${INVARIANTS[input.target].inspect(input.table)};`);
  return { sql: lines.join('\n'), statements };
}

/** Minimises the journal within the budget and renders the repro script. */
export async function makeRepro(input: ReproInput): Promise<Repro> {
  const whole = (note: string, verified = false, trials = 0): Repro => ({
    ...reproScript(input, input.journal, false),
    journal: input.journal.length + input.setup.length,
    verified,
    trials,
    note,
  });
  if (input.budgetMs <= 0) return whole('not minimised (no time budget)');
  // rows inserted during setup become the first entry, so that minimisation can drop them too
  const setup = input.setup.filter((i) => !('rows' in i && i.rows));
  const setupRows = input.setup.flatMap((i) => ('rows' in i && i.rows ? i.rows : []));
  const first = input.journal[0];
  const history: Entry[] = setupRows.length
    ? [
        {
          step: -1,
          clock: first?.clock ?? 0n,
          zone: 'UTC',
          role: null,
          kind: 'insert',
          rows: setupRows,
          room: 1,
          sql: insertSql(input.table, setupRows),
        },
      ]
    : [];
  const replayable = [...history, ...input.journal.filter((e) => !e.multiSession)];
  input = { ...input, setup };
  const db = await openPglite();
  try {
    await runSetup(db, setup, input.install);
    let trials = 0;
    const deadline = Date.now() + input.budgetMs;
    const expired = () => Date.now() > deadline;
    const test = async (xs: readonly Entry[]) => {
      trials++;
      return (await trial(db, input, xs)).hit;
    };
    if (!(await test(replayable))) {
      return whole(
        'the violation did not recur when one session replayed the journal on PGlite: it may need the server, or several sessions',
        false,
        trials,
      );
    }
    let best = replayable;
    // maintenance runs that changed nothing rarely matter: try without all of them at once first
    const busy = best.filter((e) => !e.quiet);
    if (busy.length < best.length && (await test(busy))) best = busy;
    best = await ddmin(best, test, expired);
    for (let i = 0; i < best.length && !expired(); i++) {
      const e = best[i]!;
      if (e.kind !== 'insert' || e.rows!.length < 2) continue;
      const withRows = (rows: typeof e.rows) =>
        best.map((x, j) => (j === i ? { ...e, rows, sql: insertSql(input.table, rows!, e.room) } : x));
      const rows = await ddmin(e.rows!, (rs) => test(withRows(rs)), expired);
      best = withRows(rows);
    }
    const final = await trial(db, input, best);
    trials++;
    const rendered = reproScript(input, best, final.caughtUp);
    return {
      ...rendered,
      journal: input.journal.length + input.setup.length,
      verified: final.hit,
      trials,
      note: `${expired() ? 'minimisation stopped at its time budget' : 'minimal: removing any statement or row makes it pass'}${input.journal.some((e) => e.multiSession) ? '; statements of other sessions are left out' : ''}`,
    };
  } finally {
    await db.close();
  }
}
