// The month-boundary simulator on both databases: every shipped scenario holds every invariant after
// every step, and the command line prints the timeline, writes the report and uses its exit codes.
// Scenarios play here at daily maintenance ticks (the command line plays them at their own, finer
// ticks): the same events and checks, at a cost that fits CI.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminDb, freshDb, target } from '../harness/testing.ts';
import {
  DEFAULT_SCENARIO,
  listScenarios,
  loadScenario,
  needsSessions,
  renderViolation,
  ScenarioError,
  simulate,
  type SimulationReport,
} from '../harness/simulate/index.ts';
import { cli } from '../harness/support.ts';

// Scenarios play with maintenance every simulated day instead of their own tick: their events, not
// the tick, are what they test. The default scenario also plays exactly as the command does, at its
// own tick, on the server (on PGlite the same SQL takes twice as long).
const CI_TICK_HOURS = 24;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function expectHeld(report: SimulationReport): void {
  if (!report.ok) expect.fail(renderViolation(report.violation!).join('\n'));
  expect(report.steps.run).toBe(report.steps.planned);
  expect(report.summary.failedInserts).toBe(0);
  // every invariant was actually checked, the settled ones after settled runs
  for (const inv of report.invariants) expect(inv.checks, inv.id).toBeGreaterThan(0);
}

function summarise(report: SimulationReport): string {
  const s = report.summary;
  return (
    `${report.scenario.name} (${target}, ${report.scenario.months} months, tick ${report.scenario.tickHours} h): ` +
    `${s.rowsInserted} rows in ${s.insertStatements} inserts (0 failed), ${s.partitionsCreated} partitions created, ` +
    `${s.rowsDrained} rows drained, most in DEFAULT ${s.mostRowsInDefault?.rows ?? 0}, longest wait ${s.longestWait?.waited ?? 'none'}, ` +
    `${s.maintenanceRuns} maintenance runs ${JSON.stringify(s.runsByStatus)}, invariants checked after ${s.steps} steps (${s.settledSteps} settled)`
  );
}

describe(`simulated months (${target})`, () => {
  it(`${DEFAULT_SCENARIO}: 36 months from the original partitions 2025-04 .. 2025-08 hold every invariant`, async () => {
    const db = await freshDb({ bundle: false });
    const ownTick = target === 'postgres';
    const report = await simulate(loadScenario(DEFAULT_SCENARIO), { db, ...(ownTick ? {} : { overrides: { tickHours: CI_TICK_HOURS } }) });
    expectHeld(report);
    expect(report.scenario.months).toBe(36);
    expect(report.scenario.tickHours).toBe(ownTick ? 12 : CI_TICK_HOURS);
    expect(report.timeline.map((m) => m.month)).toHaveLength(37);
    // September arrives: made ahead of time by maintenance, and the DBA's call finds it there
    expect(report.timeline[0]).toMatchObject({ month: '2025-08', created: ['2025_09', '2025_10'] });
    expect(report.summary.partitionsCreated).toBeGreaterThanOrEqual(36);
    expect(report.summary.rowsDrained).toBeGreaterThan(0);
    // the rows from 2023 and 2031 stay in DEFAULT by design, outside the drain window
    expect(report.summary.stillInDefault.rows).toBe(4);
    console.info(summarise(report));
  }, 120_000);

  for (const name of listScenarios().filter((n) => n !== DEFAULT_SCENARIO)) {
    const scenario = loadScenario(name);
    // several sessions (a long reader, a killed backend) need a server; the rest play on both
    const server = needsSessions(scenario);
    const title = `${name}: every invariant held after every step${server ? ' [server only]' : ''}`;
    it.skipIf(server && target !== 'postgres')(
      title,
      async () => {
        const db = await freshDb({ bundle: false });
        const report = await simulate(scenario, {
          db,
          ...(server ? { connect: () => db.connect() } : { overrides: { tickHours: CI_TICK_HOURS } }),
        });
        expectHeld(report);
        console.info(summarise(report));
      },
      120_000,
    );
  }

  it('refuses a scenario whose events need several sessions when it has only one', async () => {
    const db = await freshDb({ bundle: false });
    await expect(simulate(loadScenario('long-reader'), { db })).rejects.toThrow(ScenarioError);
    await expect(simulate(loadScenario('killed-maintenance'), { db: await freshDb({ bundle: false }) })).rejects.toThrow(
      /needs several sessions/,
    );
  });

  it('reads scenario files strictly: unknown keys, bad durations and events outside the run are errors', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-scenario-'));
    dirs.push(dir);
    const write = (name: string, body: object) => {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(body));
      return file;
    };
    const base = { name: 'x', start: '2025-01-01T00:00:00Z', months: 2 };
    expect(() => loadScenario(write('typo', { ...base, sesions: ['UTC'] }))).toThrow(/unknown key\(s\) sesions/);
    expect(() =>
      loadScenario(write('duration', { ...base, events: [{ type: 'outage', at: '2025-01-10T00:00:00Z', for: { weeks: 1 } }] })),
    ).toThrow(/events\[0\]\.for: unknown key\(s\) weeks/);
    expect(() =>
      loadScenario(write('late', { ...base, events: [{ type: 'clockJump', at: '2025-06-01T00:00:00Z', by: { days: 1 } }] })),
    ).toThrow(/outside the scenario/);
    expect(() => loadScenario(write('zone', { ...base, history: 'original', table: { time_zone: 'Europe/Berlin' } }))).toThrow(
      /must stay UTC/,
    );
    // every problem at once, each with the file and the field's path
    expect(() =>
      loadScenario(
        write('many', {
          ...base,
          months: 0,
          messages: { edges: 'yes' },
          events: [
            { type: 'bogus', at: '2025-01-02T00:00:00Z' },
            { type: 'createPartition', at: '2025-01-02T00:00:00Z' },
          ],
        }),
      ),
    ).toThrow(
      new RegExp(
        [
          'many\\.json: months: expected an integer from 1 to 1200, got 0',
          'many\\.json: messages\\.edges: expected true or false, got "yes"',
          'many\\.json: events\\[0\\]\\.type: unknown event "bogus" \\(outage, clockJump, createPartition, late, early, longReader, killMaintenance\\)',
          'many\\.json: events\\[1\\]: give exactly one of month and monthsAhead$',
        ].join('\\n.*'),
      ),
    );
    const ok = loadScenario(write('ok', base));
    expect(ok).toMatchObject({ months: 2, sessions: ['UTC'], maintenance: { tickHours: 6 } });
    // no jobs given: the simulator plays the ones partkeeper.job_definitions() schedules
    expect(ok.maintenance.jobs).toBeUndefined();
  });
});

describe(`partkeeper simulate, the command (${target})`, () => {
  it('plays the default scenario, prints the timeline and summary, writes the JSON report, exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-simulate-'));
    dirs.push(dir);
    const file = path.join(dir, 'report.json');
    // without --database-url the command plays on a fresh in-memory PGlite; with it, on the server
    const db = target === 'postgres' ? await freshDb({ bundle: false }) : undefined;
    const where = db ? ['--database-url', db.url!] : [];
    const run = await cli('simulate', '--months', '2', '--tick-hours', '24', '--report', file, ...where);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^partkeeper simulate: ${DEFAULT_SCENARIO}, seed 20250901, 2 months from 2025-08-20 00:00, maintenance ticks every 24 h, on PostgreSQL`,
      ),
    );
    expect(run.stdout).toMatch(/\nmonth +clock +rows +partitions made/);
    // install made 2025-08 to 2025-10 (now and premake); maintenance makes the next month's each month
    expect(run.stdout).toMatch(/\n2025-08 +2025-08-2\d [\d:]+ +\d+ +- /);
    expect(run.stdout).toMatch(/\n2025-09 +2025-09-01 [\d:]+ +\d+ +2025_11 /);
    expect(run.stdout).toMatch(/invariants checked after \d+ steps, \d+ of them after a settled run: all held\n$/);
    expect(run.stderr).toMatch(/\[ +1\/3\] 2025-08/);
    const report = JSON.parse(readFileSync(file, 'utf8')) as SimulationReport;
    expect(report).toMatchObject({ ok: true, backend: target, scenario: { name: DEFAULT_SCENARIO, months: 2, tickHours: 24 } });
    expect(report.timeline.map((m) => m.month)).toEqual(['2025-08', '2025-09', '2025-10']);
    if (db) {
      // it played in a database of its own, and dropped it
      const scratch = /on database (partkeeper_sim_[0-9a-f]+) on the server/.exec(run.stderr)![1]!;
      expect(await (await adminDb()).query('select 1 from pg_database where datname = $1', [scratch])).toEqual([]);
    }
  }, 60_000);

  it('exit 64 for usage errors: an unknown scenario, a bad number, a broken scenario file', async () => {
    const unknown = await cli('simulate', 'no-such-scenario');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/no scenario "no-such-scenario".*shipped: .*original-history/);
    expect((await cli('simulate', '--months', 'many')).code).toBe(64);
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-simulate-'));
    dirs.push(dir);
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{"name": "b", "start": "2025-01-01T00:00:00Z", "months": 1, "sessions": ["Mars/Olympus_Mons"]}');
    const zone = await cli('simulate', file);
    expect(zone.code).toBe(64);
    expect(zone.stderr).toMatch(/time zone "Mars\/Olympus_Mons"/);
    expect(existsSync(file)).toBe(true);
  }, 30_000);

  it('--list names every shipped scenario', async () => {
    const run = await cli('simulate', '--list');
    expect(run.code).toBe(0);
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(listScenarios());
  });
});
