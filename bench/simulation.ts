// 6. Simulation speed, on an embedded PGlite and on the PostgreSQL server:
//  - simulated months per second of the simulator (harness/simulate/), playing its default scenario;
//  - maintenance runs across a simulated month boundary per second: the clock set with
//    set_config('partkeeper.now', ...) to each next month, then partkeeper.maintain_table.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMaintenanceRun, maintenanceResultSchema, parseContract } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { applyBundle, repoRoot } from '../src/bundle.ts';
import { openPglite } from '../src/pglite.ts';
import { dropDatabase, emptyDatabase, fmt, freshDatabase, median, rotation, section, timed, type Ctx, type Section } from './lib.ts';

type Engine = 'PGlite' | 'server';
const ENGINES: Engine[] = ['PGlite', 'server'];
const START = Date.UTC(2025, 0, 1);

function month(k: number): string {
  const d = new Date(START);
  d.setUTCMonth(d.getUTCMonth() + k);
  return `${d.toISOString().slice(0, 10)} 00:05:00+00`;
}

/** K maintenance runs, each after moving the clock into the next month; every run must create one partition. */
async function boundaries(db: Db, months: number): Promise<number> {
  await db.query(`select set_config('partkeeper.now', $1, false)`, [month(0)]);
  await db.query(`select partkeeper.maintain_table('livechat_messages')`);
  const results: unknown[] = [];
  const { ms } = await timed(async () => {
    for (let k = 1; k <= months; k++) {
      await db.query(`select set_config('partkeeper.now', $1, false)`, [month(k)]);
      results.push((await db.one<{ r: unknown }>(`select partkeeper.maintain_table('livechat_messages') as r`)).r);
    }
  });
  // checked after the clock stopped: the parse is the benchmark's, not maintenance's
  for (const [i, raw] of results.entries()) {
    const r = parseContract(maintenanceResultSchema, raw, `partkeeper.maintain_table('livechat_messages') at ${month(i + 1)}`);
    const made = isMaintenanceRun(r) ? r.created.length : 0;
    if (made !== 1) throw new Error(`month ${month(i + 1)}: ${made} partitions created, expected 1 (${r.status})`);
  }
  return ms;
}

// The simulator's interface as this benchmark uses it (harness/simulate/index.ts). It is loaded at run
// time, so that the benchmark still runs, and says so, in a tree that does not have it.
interface SimulatorReport {
  ok: boolean;
  durationMs: number;
  steps: { planned: number; run: number };
  scenario: { name: string; months: number };
  violation?: unknown;
}
interface Simulator {
  simulate(
    s: unknown,
    o: { db: Db; install?: (db: Db) => Promise<void>; overrides?: { months?: number }; shrinkSeconds?: number },
  ): Promise<SimulatorReport>;
  loadScenario(name?: string): unknown;
  DEFAULT_SCENARIO?: string;
}

async function loadSimulator(): Promise<Simulator | string> {
  const entry = path.join(repoRoot, 'harness/simulate/index.ts');
  if (!existsSync(entry)) return 'the simulator (harness/simulate/) is not in this tree';
  const m = (await import(pathToFileURL(entry).href)) as Partial<Simulator>;
  if (typeof m.simulate !== 'function' || typeof m.loadScenario !== 'function')
    return 'harness/simulate/index.ts does not export simulate() and loadScenario()';
  return m as Simulator;
}

async function withEngine<T>(ctx: Ctx, engine: Engine, bundle: boolean, fn: (db: Db) => Promise<T>): Promise<T> {
  if (engine === 'PGlite') {
    const db = await openPglite();
    try {
      if (bundle) await applyBundle(db, ctx.root);
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  const { db, name } = bundle ? await freshDatabase(ctx, 'bench_simulation') : await emptyDatabase(ctx, 'bench_simulation');
  try {
    return await fn(db);
  } finally {
    await db.close();
    await dropDatabase(ctx, name);
  }
}

export async function simulation(ctx: Ctx): Promise<Section> {
  const s = section('simulation', '6. Simulation speed');
  const rounds = ctx.smoke ? 1 : 2;
  const simMonths = ctx.smoke ? 1 : 6;
  const boundaryMonths = ctx.smoke ? 6 : 60;
  const simulator = await loadSimulator();

  const sim: Record<Engine, { ms: number; steps: number }[]> = { PGlite: [], server: [] };
  let scenarioName = '';
  if (typeof simulator !== 'string') {
    const scenario = simulator.loadScenario();
    for (let round = 0; round < rounds; round++) {
      for (const engine of rotation(ENGINES, round)) {
        const r = await withEngine(ctx, engine, false, (db) =>
          simulator.simulate(scenario, {
            db,
            install: (d) => applyBundle(d, ctx.root),
            overrides: { months: simMonths },
            shrinkSeconds: 0,
          }),
        );
        if (!r.ok) throw new Error(`the simulation found a violation on ${engine}: ${JSON.stringify(r.violation).slice(0, 500)}`);
        scenarioName = r.scenario.name;
        sim[engine].push({ ms: r.durationMs, steps: r.steps.run });
        ctx.log(
          `  simulation ${engine} round ${round + 1}: ${simMonths} simulated month(s) in ${fmt(r.durationMs / 1000, 1)} s (${r.steps.run} steps)`,
        );
      }
    }
  } else {
    ctx.log(`  simulation: ${simulator}; measuring maintenance runs across month boundaries only`);
  }

  const bnd: Record<Engine, number[]> = { PGlite: [], server: [] };
  for (let round = 0; round < rounds; round++) {
    for (const engine of rotation(ENGINES, round)) {
      bnd[engine].push(await withEngine(ctx, engine, true, (db) => boundaries(db, boundaryMonths)));
      ctx.log(`  month boundaries ${engine} round ${round + 1}: ${fmt(boundaryMonths / (bnd[engine].at(-1)! / 1000), 1)} per second`);
    }
  }

  if (typeof simulator !== 'string') {
    s.method.push(
      `**Simulated months per second**: the simulator (\`simulate()\` from harness/simulate/) plays its default scenario, \`${scenarioName}\`, cut to ${simMonths} month(s) ` +
        '(its traffic from five time zones, month-end bursts, maintenance every few simulated hours as pg_cron would run it, and every invariant checked after each step), ' +
        "on a fresh database each time: an in-process PGlite (`openPglite()`) and an empty database on the benchmark's PostgreSQL 15 server. " +
        `The time is the simulator's own \`durationMs\`, which includes installing partkeeper and setting the scenario up. ${rounds} round(s), engines alternating; medians.`,
    );
    s.tables.push({
      head: ['engine', 'simulated months per second', 'steps per second', 'seconds per simulated month'],
      rows: ENGINES.map((e) => {
        const ms = median(sim[e].map((x) => x.ms));
        const steps = median(sim[e].map((x) => x.steps));
        return [e, fmt(simMonths / (ms / 1000), 2), fmt(steps / (ms / 1000), 0), fmt(ms / 1000 / simMonths, 2)];
      }),
    });
  } else {
    s.method.push(
      `${simulator[0]!.toUpperCase()}${simulator.slice(1)}, so simulated months per second could not be measured; the next measurement is the step a simulator is built on.`,
    );
  }
  s.method.push(
    '**Maintenance runs across a simulated month boundary per second**: on a fresh database with partkeeper installed (the install creates and registers `livechat_messages`), ' +
      `the clock is set to ${month(0).slice(0, 7)} and maintained once (untimed); then ${boundaryMonths} times \`select set_config('partkeeper.now', $1, false)\` to 00:05 on the 1st of the next month ` +
      "and `select partkeeper.maintain_table('livechat_messages')`, which must create exactly one partition (the new month + 2). The table holds no rows: this is the cost of maintenance alone, " +
      `one statement at a time from Node.js, with the partitions piling up to ${boundaryMonths + 3}. ${rounds} round(s), engines alternating, a fresh database each; medians.`,
  );
  s.tables.push({
    head: ['engine', 'month boundaries per second', 'ms per boundary'],
    rows: ENGINES.map((e) => [e, fmt(boundaryMonths / (median(bnd[e]) / 1000), 1), fmt(median(bnd[e]) / boundaryMonths, 2)]),
  });
  s.data = {
    simulator: typeof simulator === 'string' ? simulator : { scenario: scenarioName, months: simMonths, runs: sim },
    boundaries: { months: boundaryMonths, rounds, milliseconds: bnd },
  };
  return s;
}
