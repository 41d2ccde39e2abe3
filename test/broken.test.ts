// The checks bite: a deliberately broken engine (the bundle, then one function replaced with a
// broken body) makes both the simulator and the property tests fail, with a repro that shows it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import type { InvariantId } from '../harness/invariants.ts';
import { applyBundle, freshDb, target } from '../harness/testing.ts';
import { parseScenario, simulate, type SimulationReport } from '../harness/simulate/index.ts';
import { describeFailure, newTally, play, SequenceFailed, sequenceArb } from '../harness/property-model.ts';

/** Bounds computed in the session's TimeZone, as the original design's scripts did. */
const SESSION_ZONE_BOUNDS = `
create or replace function partkeeper.create_partition(p_parent regclass, p_month date)
returns text language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    v_result jsonb;
begin
    perform partkeeper.lock_table_runs(p_parent, true, interval '5 seconds');
    -- the regression: a date cast to timestamptz is midnight in the caller's TimeZone
    v_result := partkeeper.add_partition(p_parent, p_month::timestamptz, (p_month + interval '1 month')::timestamptz);
    return v_result ->> 'partition';
end $$`;

/** A move that empties the new partition before attaching it: the rows leave the DEFAULT partition and vanish. */
const LOSING_MOVE = `
alter function partkeeper.partition_ddl(regclass, text, boolean) rename to partition_ddl_kept;
create function partkeeper.partition_ddl(p_parent regclass, p_target text, p_loaded boolean,
    out create_statements text[], out after_load text[], out after_attach text[])
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
begin
    select k.create_statements, k.after_load, k.after_attach into create_statements, after_load, after_attach
      from partkeeper.partition_ddl_kept(p_parent, p_target, p_loaded) k;
    -- the regression: a clean-up statement in the wrong list
    after_load := after_load || format('truncate %s', p_target);
end $$`;

const broken = (sql: string) => async (db: Db) => {
  await applyBundle(db);
  await db.exec(sql);
};

const VARIANTS: { name: string; sql: string; expected: InvariantId[]; event: object; label: RegExp; repro: RegExp }[] = [
  {
    name: 'create_partition computes bounds in the session time zone',
    sql: SESSION_ZONE_BOUNDS,
    // a partition with Los Angeles bounds; or, where one with UTC bounds exists, a refused overlap
    expected: ['partitions-aligned', 'statements-succeed'],
    event: { type: 'createPartition', at: '2025-09-10T18:00:00Z', monthsAhead: 3, session: 'America/Los_Angeles' },
    label: /DBA/,
    repro:
      /set timezone = 'America\/Los_Angeles';\nset partkeeper\.now = '[^']+';\nselect create_monthly_partition\('livechat_messages', '2025-12-01'::date\);/,
  },
  {
    name: 'a move loses the rows it takes out of the DEFAULT partition',
    sql: LOSING_MOVE,
    expected: ['rows-exact'],
    event: { type: 'early', at: '2025-09-10T18:00:00Z', by: { months: 5 }, count: 3 },
    // the rows vanish in the maintenance run that moves them
    label: /partkeeper-frequent/,
    repro: /-- step \d+\n(set [^\n]+\n)*insert into livechat_messages [^\n]+\n {2}\(\d+, [^)]*'2026-02-10 [^)]*\);\n/,
  },
];

function expectRepro(report: SimulationReport, v: (typeof VARIANTS)[number]) {
  expect(report.ok).toBe(false);
  const violation = report.violation!;
  expect(v.expected).toContain(violation.violations[0]!.invariant);
  // caught at the step that broke it, not at the end of the run
  expect(violation.label).toMatch(v.label);
  expect(violation.repro.verified).toBe(true);
  expect(violation.repro.sql).toMatch(v.repro);
  // the repro is the setup plus the one statement that matters, out of everything that ran
  expect(violation.repro.statements).toBeLessThanOrEqual(10);
  expect(violation.repro.journal).toBeGreaterThan(violation.repro.statements * 5);
}

describe(`a broken engine is caught (${target})`, () => {
  for (const v of VARIANTS) {
    it(`by the simulator: ${v.name}`, async () => {
      const db = await freshDb({ bundle: false });
      const scenario = parseScenario({
        name: 'broken-engine',
        start: '2025-08-20T00:00:00Z',
        months: 2,
        history: 'original',
        sessions: ['UTC', 'Asia/Kolkata'],
        maintenance: { tickHours: 12 },
        events: [v.event],
      });
      const report = await simulate(scenario, {
        db,
        install: broken(v.sql),
        installLabel: '\\i sql/install.sql  -- then the broken function',
        shrinkSeconds: 20,
      });
      expectRepro(report, v);
      console.info(
        `${v.name}: [${report.violation!.violations[0]!.invariant}] at step ${report.violation!.step} of ${report.steps.planned}; ` +
          `repro ${report.violation!.repro.statements} of ${report.violation!.repro.journal} statements after ${report.violation!.repro.trials} trials`,
      );
    }, 60_000);

    it(`by the property tests: ${v.name}`, async () => {
      const db = await freshDb();
      await db.exec(v.sql);
      const seed = 20250901;
      const details = await fc.check(
        fc.asyncProperty(sequenceArb, async (seq) => void (await play(db, seq, newTally()))),
        { seed, numRuns: 100 },
      );
      expect(details.failed).toBe(true);
      const failure = details.errorInstance;
      expect(failure).toBeInstanceOf(SequenceFailed);
      const found = (failure as SequenceFailed).outcome.violations.map((x) => x.invariant);
      expect(found.some((id) => v.expected.includes(id))).toBe(true);
      const message = describeFailure(seed, details, 'replay: PARTKEEPER_SEED=20250901');
      expect(message).toMatch(/as SQL:\n[\s\S]*\\i sql\/install\.sql[\s\S]*-- broken: /);
      // shrunk to a handful of actions
      expect(details.counterexample![0].actions.length).toBeLessThanOrEqual(4);
      console.info(
        `${v.name}: property failed after ${details.numRuns} run(s), shrunk ${details.numShrinks} times to ` +
          `${details.counterexample![0].actions.length} action(s): ${found.join(', ')}`,
      );
    }, 90_000);
  }
});
