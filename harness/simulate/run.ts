// Plays a scenario against a database: sets it up, runs every step as the sessions of the scenario
// would (application inserts, the pg_cron jobs, a DBA), checks every invariant after each step, and
// stops at the first violation with the step, the state and a minimised repro.
import { isMaintenanceRun, maintenanceResultSchema, parseContract, type MaintenanceResult } from '../../src/contracts.ts';
import type { Db } from '../../src/db.ts';
import { DbError } from '../../src/db.ts';
import { formatInstant, parseInstant, shortInstant, utcMonth } from '../instant.ts';
import { catchUp, catchUpSql, Checker, Ledger, maintainSql, type Facts, type Violation } from '../invariants.ts';
import { applyBundle } from '../../src/bundle.ts';
import { createSql, insertSql, SessionState, type Entry } from './journal.ts';
import { plan, type PlannedOp, type PlannedStep } from './plan.ts';
import { instantText, Stats, type SimulationReport, type ViolationReport } from './report.ts';
import { makeRepro } from './repro.ts';
import type { Scenario } from './scenario.ts';
import { checkZones, dropRoles, edgeInstants, runSetup, setupItems, TABLE } from './setup.ts';

export interface Progress {
  step: number;
  steps: number;
  month: string;
  monthIndex: number;
  months: number;
}

export interface SimulateOptions {
  /** An empty database: the simulation creates or adopts livechat_messages and installs partkeeper. */
  db: Db;
  /** Another session on the same database, for the events that need one (longReader, killMaintenance). */
  connect?: () => Promise<Db>;
  /** Installs partkeeper; default applyBundle. Tests pass a deliberately broken variant. */
  install?: (db: Db) => Promise<void>;
  /** How a repro script shows the install step. */
  installLabel?: string;
  overrides?: { months?: number; seed?: number; tickHours?: number };
  onProgress?: (p: Progress) => void;
  /** Seconds spent minimising a violation's repro; 0 prints the whole journal. Default 20. */
  shrinkSeconds?: number;
}

/** A scenario with command-line overrides applied. */
export function withOverrides(s: Scenario, o: SimulateOptions['overrides'] = {}): Scenario {
  return {
    ...s,
    months: o.months ?? s.months,
    seed: o.seed ?? s.seed,
    maintenance: { ...s.maintenance, tickHours: o.tickHours ?? s.maintenance.tickHours },
  };
}

interface Sessions {
  reader?: Db;
}

type Outcome = { run?: MaintenanceResult; violation?: Violation };

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

const errorText = (e: unknown) => (e instanceof DbError ? `${e.code} ${e.message}` : String(e));

/**
 * Plays `input`, with `opts.overrides` applied, on `opts.db`, which must be an empty database: the
 * scenario's table (livechat_messages, created or the original design's, adopted), partkeeper
 * installed by `opts.install`, the scenario's roles; then every planned step at its simulated clock
 * (`SET partkeeper.now`), the invariants checked after each, and a final catch-up.
 *
 * Returns the report: `ok` with the timeline (one row a calendar month), the summary and
 * `durationMs` (wall milliseconds); or, at the first violation, the step, the state and a repro
 * minimised for at most `opts.shrinkSeconds` seconds (replayed on fresh PGlite databases). A failing
 * statement of a step is a violation in the report (inserts-succeed, statements-succeed), not a throw.
 * Throws ScenarioError when the scenario cannot be set up here (a time zone PostgreSQL does not know,
 * roles the connected role may not create, table settings partkeeper refuses) and DbError when the
 * install or a check's query fails. Takes no lock of its own: the steps take what the SQL they run
 * takes, and the longReader and killMaintenance events hold and kill sessions from `opts.connect`.
 * The scenario's roles are dropped and its extra sessions closed on every exit; `opts.db` stays open,
 * its partkeeper.now and TimeZone left as the last step set them.
 */
export async function simulate(input: Scenario, opts: SimulateOptions): Promise<SimulationReport> {
  const started = performance.now();
  const scenario = withOverrides(input, opts.overrides);
  const { db } = opts;
  const install = opts.install ?? applyBundle;
  const ledger = new Ledger();
  const { items: setup, roles } = setupItems(scenario, ledger);
  const session = new SessionState();
  const sessions: Sessions = {};
  try {
    await db.exec(`set partkeeper.now = '${formatInstant(parseInstant(scenario.start))}'`);
    await runSetup(db, setup, install, ledger);
    await checkZones(db, scenario);
    const foreign = new Set(
      scenario.history === 'original'
        ? (
            await db.query<{ name: string }>(
              `select partition::text as name from partkeeper.partition_bounds('${TABLE}') where not is_default`,
            )
          ).map((r) => r.name)
        : [],
    );
    // the jobs pg_cron would run, as the installed SQL defines them (the maintenance ones)
    const defined = await db.query<{ name: string; schedule: string; command: string }>(
      `select jobname as name, schedule, command from partkeeper.job_definitions() where command ilike 'call partkeeper.run_maintenance%'`,
    );
    const CRON_COMMAND = defined[0]!.command;
    const jobs = scenario.maintenance.jobs ?? defined.map(({ name, schedule }) => ({ name, schedule }));
    const edges = await edgeInstants(db, scenario);
    const p = plan(scenario, jobs, edges, ledger.allocate(), Boolean(opts.connect) && db.kind === 'postgres');
    const { server } = await db.one<{ server: string }>(`select split_part(version(), ' on ', 1) as server`);

    const checker = new Checker(db, { table: TABLE, ledger, foreign });
    const stats = new Stats(p.events);
    const initial = await checker.check();
    stats.baseline(initial.facts);
    const journal: Entry[] = [];
    let logId = (await db.one<{ id: string }>(`select coalesce(max(id), 0)::text as id from partkeeper.log`)).id;
    let lastRun: MaintenanceResult | null = null;
    let month = '';
    let monthIndex = 0;
    // a run from mid-August over 4 months touches 5 calendar months
    const calendarMonths = new Set(p.steps.map((s) => utcMonth(s.at))).size;

    const report = (violation?: ViolationReport, stepsRun = p.steps.length): SimulationReport => ({
      scenario: {
        name: scenario.name,
        description: scenario.description,
        seed: scenario.seed,
        months: scenario.months,
        tickHours: scenario.maintenance.tickHours,
        start: formatInstant(p.start),
        end: formatInstant(p.end),
        sessions: scenario.sessions,
      },
      backend: db.kind,
      server,
      ok: !violation,
      steps: { planned: p.steps.length, run: stepsRun },
      timeline: stats.timeline(),
      summary: stats.summary,
      invariants: stats.invariantChecks(),
      ...(violation ? { violation } : {}),
      durationMs: Math.round(performance.now() - started),
    });

    const entryOf = (op: PlannedOp, step: PlannedStep, index: number): Entry => {
      const base = { step: index, clock: step.clock };
      switch (op.kind) {
        case 'insert':
          return {
            ...base,
            kind: 'insert',
            zone: scenario.sessions[op.session]!,
            role: roles?.app ?? null,
            rows: op.rows,
            room: op.session + 1,
            sql: insertSql(TABLE, op.rows, op.session + 1),
          };
        case 'maintain':
          return {
            ...base,
            kind: 'maintain',
            zone: scenario.maintenance.timeZone,
            role: roles?.maintenance ?? null,
            sql: CRON_COMMAND,
            trialSql: maintainSql(TABLE),
          };
        case 'create':
          return { ...base, kind: 'create', zone: op.zone, role: null, sql: createSql(TABLE, op.month) };
        case 'hold':
          return {
            ...base,
            kind: 'hold',
            zone: 'UTC',
            role: null,
            multiSession: true,
            sql: `begin; select count(*) from ${TABLE} where created_at >= '-infinity'`,
          };
        case 'release':
          return { ...base, kind: 'release', zone: 'UTC', role: null, multiSession: true, sql: 'commit' };
        case 'kill':
          return {
            ...base,
            kind: 'kill',
            zone: scenario.maintenance.timeZone,
            role: null,
            multiSession: true,
            sql: `${CRON_COMMAND} (terminated with pg_terminate_backend while it moves rows)`,
          };
      }
    };

    /**
     * The cron command commits and returns nothing: its result is in last_run, a failure or busy in
     * the log; both are checked against the schema of maintain_table()'s result.
     */
    const readRun = async (): Promise<MaintenanceResult | undefined> => {
      const r = await db.one<{ result: unknown; problem: unknown; log_id: string }>(
        `select (select result from partkeeper.last_run where parent = '${TABLE}'::regclass) as result,
                (select detail from partkeeper.log where id > $1::bigint and action in ('failed', 'busy')
                   and to_regclass(table_name) = '${TABLE}'::regclass order by id desc limit 1) as problem,
                (select coalesce(max(id), 0) from partkeeper.log)::text as log_id`,
        [logId],
      );
      logId = r.log_id;
      if (r.problem !== null) return parseContract(maintenanceResultSchema, r.problem, `the log entry of ${CRON_COMMAND}`);
      if (r.result !== null) return parseContract(maintenanceResultSchema, r.result, `partkeeper.last_run after ${CRON_COMMAND}`);
      return undefined;
    };

    const execute = async (e: Entry, step: PlannedStep): Promise<Outcome> => {
      if (e.multiSession) return multiSession(e, step);
      await session.enter(db, e);
      db.notices.length = 0;
      switch (e.kind) {
        case 'insert':
          try {
            await db.query(e.sql);
          } catch (err) {
            stats.summary.failedInserts++;
            return {
              violation: { invariant: 'inserts-succeed', message: `an INSERT of ${e.rows!.length} row(s) failed: ${errorText(err)}` },
            };
          }
          ledger.commit(e.rows!);
          stats.inserted(step, e.rows!.length);
          return {};
        case 'maintain': {
          try {
            await db.exec(e.sql);
          } catch (err) {
            return { violation: { invariant: 'statements-succeed', message: `${e.sql} failed: ${errorText(err)}` } };
          }
          const run = await readRun();
          if (!run) return { violation: { invariant: 'statements-succeed', message: `maintenance failed: ${e.sql} left no result` } };
          stats.ran(step, run);
          const done = isMaintenanceRun(run) ? run : undefined;
          e.quiet = !done || (done.created.length === 0 && done.retired.length === 0 && !done.rows_moved);
          for (const r of done?.retired ?? []) ledger.forget(parseInstant(r.lower), parseInstant(r.upper));
          if (run.status === 'failed')
            return {
              run,
              violation: {
                invariant: 'statements-succeed',
                message: `maintenance failed: ${JSON.stringify('error' in run ? run.error : run.warnings)}`,
              },
            };
          return { run };
        }
        case 'create':
          try {
            await db.query(e.sql);
          } catch (err) {
            return { violation: { invariant: 'statements-succeed', message: `${e.sql} failed: ${errorText(err)}` } };
          }
          return {};
        default:
          throw new Error(`unexpected entry ${e.kind}`);
      }
    };

    const multiSession = async (e: Entry, step: PlannedStep): Promise<Outcome> => {
      const connect = opts.connect!;
      await session.asOwner(db);
      if (e.kind === 'hold') {
        sessions.reader = await connect();
        await sessions.reader.exec(e.sql);
      } else if (e.kind === 'release') {
        await sessions.reader?.exec('commit');
        await sessions.reader?.close();
        delete sessions.reader;
      } else if (e.kind === 'kill') {
        const killed = await killMaintenance(db, connect, e, CRON_COMMAND);
        stats.note(
          step,
          killed
            ? 'it moved the rows, waited to attach and was terminated'
            : 'it had nothing to move and finished before it could be terminated',
        );
      }
      return {};
    };

    if (initial.violations.length) {
      const installed: PlannedStep = { at: p.start, clock: p.start, label: 'after install', ops: [] };
      return report(await violationReport(0, installed, initial.violations, initial.facts, []), 0);
    }
    for (const [index, step] of p.steps.entries()) {
      if (utcMonth(step.at) !== month) {
        month = utcMonth(step.at);
        monthIndex++;
        opts.onProgress?.({ step: index, steps: p.steps.length, month, monthIndex, months: calendarMonths });
      }
      const found: Violation[] = [];
      let run: MaintenanceResult | undefined;
      for (const op of step.ops) {
        const e = entryOf(op, step, index);
        journal.push(e);
        const out = await execute(e, step);
        if (out.run) run = lastRun = out.run;
        if (out.violation) found.push(out.violation);
      }
      await session.asOwner(db);
      const { violations, facts } = await checker.check(run);
      stats.observe(step, facts);
      found.push(...violations);
      if (found.length) {
        return report(await violationReport(index, step, found, facts, journal.slice()), index + 1);
      }
    }

    // the end: maintenance catches up at the last clock, then every invariant must hold
    const last = p.steps.at(-1);
    const final: PlannedStep = { at: p.end, clock: last?.clock ?? p.end, label: 'final catch-up', ops: [] };
    const e: Entry = { step: p.steps.length, clock: final.clock, zone: 'UTC', role: null, kind: 'catchUp', sql: catchUpSql(TABLE) };
    journal.push(e);
    await session.enter(db, e);
    const caught = await catchUp(db, TABLE);
    stats.summary.catchUps++;
    const { violations, facts } = await checker.check(caught.run);
    stats.observe(final, facts);
    const found = [...(caught.violation ? [caught.violation] : []), ...violations];
    if (found.length) return report(await violationReport(p.steps.length, final, found, facts, journal.slice()), p.steps.length);
    opts.onProgress?.({ step: p.steps.length, steps: p.steps.length, month, monthIndex, months: calendarMonths });
    return report();

    async function violationReport(
      index: number,
      step: PlannedStep,
      found: Violation[],
      facts: Facts,
      upTo: Entry[],
    ): Promise<ViolationReport> {
      const partitions = facts.partitions.map((q) => ({
        name: q.name,
        lower: instantText(q.lower),
        upper: instantText(q.upper),
        rows: facts.rowsByRelation.get(q.oid) ?? 0,
      }));
      const repro = await makeRepro({
        setup,
        install,
        installLabel: opts.installLabel ?? '\\i sql/install.sql',
        table: TABLE,
        foreign,
        journal: upTo,
        target: found[0]!.invariant,
        budgetMs: (opts.shrinkSeconds ?? 20) * 1000,
        header: [
          `partkeeper simulate: scenario ${scenario.name}, seed ${scenario.seed}, ${scenario.months} months, tick ${scenario.maintenance.tickHours} h`,
          `[${found[0]!.invariant}] ${found[0]!.message.split('\n')[0]}`,
          `at step ${index} (${step.label}), wall time ${shortInstant(step.at)}, clock ${shortInstant(step.clock)}`,
        ],
      });
      return {
        step: index,
        at: formatInstant(step.at),
        clock: formatInstant(step.clock),
        label: step.label,
        violations: found,
        state: { partitions, rowsInDefault: facts.defaultRows.length, ledgerRows: ledger.size, lastRun },
        repro,
      };
    }
  } finally {
    await sessions.reader?.close().catch(() => {});
    await dropRoles(db, roles).catch(() => {});
  }
}

/**
 * Runs the cron command in a session of its own while a reader holds the DEFAULT partition, so the
 * run moves its rows and then waits to ATTACH; terminates it there. Its transaction rolls back.
 */
async function killMaintenance(db: Db, connect: () => Promise<Db>, e: Entry, command: string): Promise<boolean> {
  const reader = await connect();
  const victim = await connect();
  try {
    const { name } = await db.one<{ name: string }>(
      `select partition::text as name from partkeeper.partition_bounds('${TABLE}') where is_default`,
    );
    await reader.exec(`begin; select count(*) from only ${name}`);
    await new SessionState().enter(victim, e);
    const pid = await victim.backendPid();
    const running = settle(victim.exec(command));
    let done = false;
    let killed = false;
    void running.then(() => (done = true));
    while (!done) {
      const { waiting } = await db.one<{ waiting: boolean }>(
        `select exists (select from pg_locks where pid = $1 and relation = $2::regclass and not granted) as waiting`,
        [pid, name],
      );
      if (waiting) {
        killed = (await db.one<{ t: boolean }>('select pg_terminate_backend($1, 5000) as t', [pid])).t;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await running;
    await reader.exec('commit');
    return killed;
  } finally {
    await Promise.allSettled([reader.close(), victim.close()]);
  }
}
