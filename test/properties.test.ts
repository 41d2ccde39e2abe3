// Property tests: random sequences of inserts at the edges (months to the microsecond in many zones,
// DST changes, leap days, year ends, far past and future), clock moves, maintenance runs, manual
// partition creation and session time zones; every invariant of harness/invariants.ts holds after
// each action, and after maintenance has caught up. A fixed seed, plus a random one that is printed;
// PARTKEEPER_SEED=<seed> replays exactly one of them.
import fc from 'fast-check';
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freshDb, target } from '../harness/testing.ts';
import { SESSION_ZONES } from '../harness/property-model.ts';
import { describeFailure, newTally, play, sequenceArb } from '../harness/property-model.ts';

const FIXED_SEED = 20250901;
/** Many runs on PGlite, fewer on the server: the same sequences, a different engine underneath. */
const RUNS = target === 'pglite' ? 30 : 15;

const replaySeed = process.env.PARTKEEPER_SEED;
if (replaySeed !== undefined && !/^\d+$/.test(replaySeed))
  throw new Error(`PARTKEEPER_SEED must be a non-negative integer, got ${replaySeed}`);
const seeds = replaySeed !== undefined ? [Number(replaySeed)] : [FIXED_SEED, randomInt(2 ** 31)];

describe(`invariants under random sequences (${target})`, () => {
  for (const [i, seed] of seeds.entries()) {
    const kind = replaySeed !== undefined ? 'replayed' : i === 0 ? 'fixed' : 'random';
    it(`hold for ${RUNS} sequences from the ${kind} seed ${seed}`, async () => {
      const hint = `replay: PARTKEEPER_SEED=${seed} npx vitest run --project ${target} test/properties.test.ts`;
      console.info(`property seed (${kind}): ${seed}  (${hint})`);
      const db = await freshDb();
      const tally = newTally();
      const details = await fc.check(
        fc.asyncProperty(sequenceArb, async (seq) => void (await play(db, seq, tally))),
        { seed, numRuns: RUNS },
      );
      if (details.failed) expect.fail(describeFailure(seed, details, hint));
      expect(details.numRuns).toBe(RUNS);
      expect(tally.sequences).toBe(RUNS);
      console.info(
        `properties (${target}, seed ${seed}): ${tally.sequences} sequences, ${tally.actions} actions, ${tally.inserts} inserts of ${tally.rows} rows, ` +
          `${tally.maintenanceRuns} maintenance runs, ${tally.creates} create_monthly_partition calls, invariants checked ${tally.checks} times: all held`,
      );
    }, 120_000);
  }
});

// What the properties found, pinned as plain tests so that it stays fixed.
describe(`regressions found by the properties (${target})`, () => {
  it('drain_window() gives one window for an instant, whatever the session TimeZone', async () => {
    // seed 1 found it: months added to a timestamptz follow the session's calendar, so a check run
    // from a Berlin session saw a drain window ending a month later than maintenance's (run in UTC)
    const db = await freshDb();
    await db.exec(`create table ev (at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('ev')`);
    await db.query(
      `select partkeeper.configure('ev', p_time_zone => 'America/New_York', p_drain_window_ahead => '3 months', p_drain_window_back => '1 month')`,
    );
    const windows = new Set<string>();
    for (const zone of SESSION_ZONES) {
      await db.exec(`set timezone = '${zone}'`);
      const w = await db.one<{ w: string }>(
        `select (extract(epoch from window_from) || ' ' || extract(epoch from window_to)) as w from partkeeper.drain_window('ev', '2024-09-01 04:00:00.000001+00')`,
      );
      windows.add(w.w);
    }
    await db.exec('reset timezone');
    const { w } = await db.one<{ w: string }>(
      `select to_char(window_from at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' .. ' || to_char(window_to at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as w
         from partkeeper.drain_window('ev', '2024-09-01 04:00:00.000001+00')`,
    );
    expect([...windows]).toHaveLength(1);
    // what maintenance itself uses: UTC calendar arithmetic, then the table's New York months
    expect(w).toBe('2024-08-01 04:00 .. 2024-12-01 05:00');
  });
});
