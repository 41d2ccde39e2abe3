import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { EXIT, type Command, type Context, UsageError } from '../command.ts';
import { connectionUrl } from '../connect.ts';
import type { Db } from '../db.ts';
import { openPglite } from '../pglite.ts';
import { dropDatabase, openPostgres, withDatabase } from '../postgres.ts';
import {
  DEFAULT_SCENARIO,
  listScenarios,
  loadScenario,
  needsSessions,
  renderSummary,
  renderTimeline,
  renderViolation,
  ScenarioError,
  simulate as play,
  type Scenario,
  type SimulateOptions,
} from '../../harness/simulate/index.ts';

function number(ctx: Context, name: string, min: number, max: number, integer: boolean): number | undefined {
  const v = ctx.values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(v)}`);
  }
  return n;
}

/** The database to play on: a throwaway one, so a simulation never touches data that matters. */
async function target(ctx: Context): Promise<{ db: Db; connect?: () => Promise<Db>; where: string; done: () => Promise<void> }> {
  const url = ctx.values['database-url'] as string | undefined;
  if (url) {
    const admin = await ctx.db();
    const name = `partkeeper_sim_${randomBytes(4).toString('hex')}`;
    await admin.exec(`create database ${name} template template0`);
    const scratch = withDatabase(connectionUrl(url, '--database-url'), name);
    const db = await openPostgres(scratch, 'partkeeper-simulate');
    const others: Db[] = [];
    return {
      db,
      connect: async () => {
        const c = await openPostgres(scratch, 'partkeeper-simulate');
        others.push(c);
        return c;
      },
      where: `database ${name} on the server`,
      done: async () => {
        await Promise.allSettled([db, ...others].map((c) => c.close()));
        if (ctx.values.keep) ctx.err(`kept database ${name}`);
        else await dropDatabase(admin, name);
      },
    };
  }
  if (ctx.values.pglite) {
    const db = await ctx.db();
    const { empty } = await db.one<{ empty: boolean }>(
      `select to_regclass('public.livechat_messages') is null and to_regnamespace('partkeeper') is null as empty`,
    );
    if (!empty)
      throw new UsageError(
        `simulate needs an empty database, and ${String(ctx.values.pglite)} already has livechat_messages or partkeeper`,
      );
    return { db, where: `PGlite in ${String(ctx.values.pglite)}`, done: async () => {} };
  }
  const db = await openPglite();
  return { db, where: 'an in-memory PGlite', done: () => db.close() };
}

export const simulate: Command = {
  summary: 'play months of a scenario (clock, outages, time zones) and check every invariant after each step',
  usage: `usage: partkeeper simulate [SCENARIO] [--months N] [--seed N] [--tick-hours H] [--report FILE] [--json]
                           [--shrink-seconds S] [--keep] [--list] [--database-url URL | --pglite DIR]

Installs partkeeper on a fresh database and plays SCENARIO (a name in scenarios/, or a path to a
JSON file in the format scenarios/README.md describes; default ${DEFAULT_SCENARIO}): messages at a rate with month-end bursts from sessions in
several time zones, the pg_cron jobs on their schedules (simulated every few hours), and the
scenario's events: maintenance outages, clock jumps, a DBA's create_monthly_partition, late and
early messages. After every step it checks the invariants (harness/invariants.ts); at the first
violation it stops and prints the step, the state and a minimised SQL repro.

Where: an in-memory PGlite by default; --pglite DIR an empty PGlite folder; --database-url URL a
server, on which it creates a database of its own and drops it at the end (--keep keeps it).
DATABASE_URL and PG* are not used: a simulation never plays on a database by accident.

  --months N          simulate N months instead of the scenario's length
  --seed N            another random seed (messages and their timestamps)
  --tick-hours H      simulated hours between maintenance ticks (coarser is faster)
  --report FILE       write the JSON report (timeline, summary, violation, repro) to FILE
  --json              print the JSON report instead of the timeline
  --shrink-seconds S  time spent minimising a violation's repro (default 20; 0: the whole journal)
  --list              list the shipped scenarios

Progress goes to stderr. Exit codes: 0 every invariant held, 1 a violation or an error, 64 usage.`,
  options: {
    months: { type: 'string' },
    seed: { type: 'string' },
    'tick-hours': { type: 'string' },
    report: { type: 'string' },
    json: { type: 'boolean' },
    'shrink-seconds': { type: 'string' },
    keep: { type: 'boolean' },
    list: { type: 'boolean' },
  },
  needs: { keep: 'database-url' },
  alone: ['list'],
  positionals: [0, 1],
  async run(ctx) {
    if (ctx.values.list) {
      for (const name of listScenarios()) {
        const s = loadScenario(name);
        ctx.out(`${name.padEnd(22)} ${needsSessions(s) ? '[server] ' : ''}${s.description.split(/\.\s+(?=[A-Z])/)[0]}`);
      }
      return EXIT.ok;
    }
    if (ctx.positionals.length > 1) throw new UsageError(`one scenario at a time, got ${ctx.positionals.join(' ')}`);
    let scenario: Scenario;
    try {
      scenario = loadScenario(ctx.positionals[0] ?? DEFAULT_SCENARIO);
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(e.message);
      throw e;
    }
    const overrides: NonNullable<SimulateOptions['overrides']> = {};
    const months = number(ctx, 'months', 1, 1200, true);
    const seed = number(ctx, 'seed', 0, 2 ** 32 - 1, true);
    const tickHours = number(ctx, 'tick-hours', 1 / 60, 24 * 31, false);
    if (months !== undefined) overrides.months = months;
    if (seed !== undefined) overrides.seed = seed;
    if (tickHours !== undefined) overrides.tickHours = tickHours;
    const shrinkSeconds = number(ctx, 'shrink-seconds', 0, 3600, false) ?? 20;

    const where = await target(ctx);
    const tty = process.stderr.isTTY;
    try {
      ctx.err(`simulating ${scenario.name} on ${where.where}`);
      const report = await play(scenario, {
        db: where.db,
        ...(where.connect ? { connect: where.connect } : {}),
        overrides,
        shrinkSeconds,
        onProgress: (p) => {
          const line = `[${String(p.monthIndex).padStart(3)}/${p.months}] ${p.month}  step ${p.step}/${p.steps}`;
          if (tty) process.stderr.write(`\r${line}   `);
          else ctx.err(line);
        },
      }).catch((e: unknown) => {
        if (e instanceof ScenarioError) throw new UsageError(e.message);
        throw e;
      });
      if (tty) process.stderr.write('\n');
      if (ctx.values.report) writeFileSync(String(ctx.values.report), `${JSON.stringify(report, null, 2)}\n`);
      if (ctx.values.json) {
        ctx.out(JSON.stringify(report, null, 2));
      } else {
        const s = report.scenario;
        ctx.out(
          `partkeeper simulate: ${s.name}, seed ${s.seed}, ${s.months} month${s.months === 1 ? '' : 's'} from ${s.start.slice(0, 16)}, ` +
            `maintenance ticks every ${s.tickHours} h, on ${report.server} (${report.backend}), ${(report.durationMs / 1000).toFixed(1)} s`,
        );
        ctx.out();
        for (const line of renderTimeline(report.timeline)) ctx.out(line);
        ctx.out();
        for (const line of renderSummary(report)) ctx.out(line);
        if (report.violation) {
          ctx.out();
          for (const line of renderViolation(report.violation)) ctx.out(line);
        }
      }
      if (ctx.values.report) ctx.err(`report written to ${String(ctx.values.report)}`);
      return report.ok ? EXIT.ok : EXIT.failed;
    } finally {
      await where.done();
    }
  },
};
