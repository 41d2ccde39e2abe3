// Replays journal entries in one session and checks the invariants: what the repro minimiser's
// trials and the property tests do. (The simulator's own loop adds the cron procedure, several
// sessions and statistics on top of the same entries.)
import { isMaintenanceRun, type MaintenanceResult } from '../../src/contracts.ts';
import type { Db } from '../../src/db.ts';
import { DbError } from '../../src/db.ts';
import { parseInstant } from '../instant.ts';
import { catchUp, Checker, maintenanceResult, type Ledger, type Violation } from '../invariants.ts';
import { SessionState, type Entry } from './journal.ts';

export interface ReplayOptions {
  table: string;
  ledger: Ledger;
  foreign?: ReadonlySet<string>;
  /** Each statement in a savepoint: a failing one does not abort the surrounding transaction. */
  savepoints?: boolean;
  /** Check after every entry and stop at the first violation (otherwise only at the end). */
  checkEach?: boolean;
  /** After the end check: maintenance until it has caught up, then every invariant again. */
  catchUp?: boolean;
  /** Called with each entry before it runs, e.g. to keep a journal of what was generated on the fly. */
  onEntry?: (e: Entry) => void;
}

export interface ReplayResult {
  violations: Violation[];
  /** Index of the entry after which a check failed (checkEach), or -1 for the end. */
  at: number;
  /** The violations were found after the final catch-up. */
  caughtUp: boolean;
  entries: number;
  /** The maintenance run the last check judged by, if any. */
  run?: MaintenanceResult;
}

const describeError = (e: DbError) => `${e.code} ${e.message}`;

/** Runs one entry's statement; the ledger learns inserted rows, and forgets those retention retired. */
async function execute(db: Db, e: Entry, table: string): Promise<MaintenanceResult | undefined> {
  switch (e.kind) {
    case 'maintain':
      return maintenanceResult(db, e.trialSql ?? e.sql);
    case 'catchUp':
      return (await catchUp(db, table)).run;
    default:
      await db.query(e.sql);
      return undefined;
  }
}

/**
 * Runs `entries` in order in `db`'s one session, each in the role, TimeZone and simulated clock it
 * names (entries that need several sessions are skipped). The rows of a successful insert join
 * `o.ledger`; the ranges of partitions a maintenance run retires leave it. With `o.savepoints` each
 * entry runs in `db.transaction()` (a savepoint inside an open transaction). A DbError from an entry
 * is a violation (inserts-succeed, statements-succeed) and is returned, not thrown; other errors are.
 *
 * Checks every invariant after each entry with `o.checkEach`, stopping at the first violation, else
 * once at the end; with `o.catchUp` and nothing found, runs maintenance until it has caught up and
 * checks again. Returns the violations (none when every invariant held), where they were found and
 * how many entries ran. Takes no lock of its own; leaves the session as the role that connected.
 */
export async function replay(db: Db, entries: Iterable<Entry> | AsyncIterable<Entry>, o: ReplayOptions): Promise<ReplayResult> {
  const session = new SessionState();
  const checker = new Checker(db, { table: o.table, ledger: o.ledger, ...(o.foreign ? { foreign: o.foreign } : {}) });
  // the settled invariants hold right after a settled run, not after what came later
  let run: MaintenanceResult | undefined;
  let index = -1;
  for await (const e of entries) {
    index++;
    o.onEntry?.(e);
    if (e.multiSession) continue;
    await session.enter(db, e);
    let violation: Violation | undefined;
    let ran: MaintenanceResult | undefined;
    try {
      ran = o.savepoints ? await db.transaction((tx) => execute(tx, e, o.table)) : await execute(db, e, o.table);
    } catch (err) {
      if (!(err instanceof DbError)) throw err;
      violation =
        e.kind === 'insert'
          ? { invariant: 'inserts-succeed', message: `an INSERT of ${e.rows?.length ?? 0} row(s) failed: ${describeError(err)}` }
          : { invariant: 'statements-succeed', message: `${e.sql.split('\n')[0]} failed: ${describeError(err)}` };
    }
    if (!violation && e.kind === 'insert') o.ledger.commit(e.rows ?? []);
    run = ran;
    if (ran) {
      for (const r of isMaintenanceRun(ran) ? ran.retired : []) o.ledger.forget(parseInstant(r.lower), parseInstant(r.upper));
    }
    if (violation || o.checkEach) {
      await session.asOwner(db);
      const found = [...(violation ? [violation] : []), ...(await checker.check(ran)).violations];
      if (found.length) return { violations: found, at: index, caughtUp: false, entries: index + 1, ...(ran ? { run: ran } : {}) };
    }
  }
  await session.asOwner(db);
  const end = (await checker.check(run)).violations;
  if (end.length || !o.catchUp) return { violations: end, at: -1, caughtUp: false, entries: index + 1, ...(run ? { run } : {}) };
  const c = await catchUp(db, o.table);
  const after = c.violation ? [c.violation] : (await checker.check(c.run)).violations;
  return { violations: after, at: -1, caughtUp: true, entries: index + 1, run: c.run };
}
