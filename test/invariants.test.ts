// The invariant checks themselves: each one holds on a healthy table and fires on a state crafted to
// break it (by hand, behind partkeeper's back), so a green simulation means something.
import { describe, expect, it } from 'vitest';
import { isMaintenanceRun, type MaintenanceResult, type MaintenanceRun } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { parseInstant } from '../harness/instant.ts';
import {
  catchUp,
  Checker,
  isSettled,
  Ledger,
  partitionViolations,
  settledSql,
  type InvariantId,
  type PartitionFact,
} from '../harness/invariants.ts';
import { freshDb, setClock, target } from '../harness/testing.ts';
import { createSql, insertSql, replay, type Entry } from '../harness/simulate/index.ts';

const T = 'livechat_messages';

/** A maintained table at 2025-09-10 with rows in three months, and its ledger. */
async function healthy(): Promise<{ db: Db; ledger: Ledger; checker: Checker; run: MaintenanceRun }> {
  const db = await freshDb();
  await setClock(db, '2025-09-10 12:00:00+00');
  const ledger = new Ledger();
  const rows = ['2025-09-01 00:00:00+00', '2025-09-30 23:59:59.999999+00', '2025-10-15 00:00:00+00', '2025-11-30 12:00:00+00'].map(
    (at) => ({ id: ledger.allocate(), at: parseInstant(at) }),
  );
  await db.query(insertSql(T, rows));
  ledger.commit(rows);
  const { run } = await catchUp(db, T);
  if (!isMaintenanceRun(run)) return expect.fail(`maintenance did not run its steps: ${JSON.stringify(run)}`);
  const checker = new Checker(db, { table: T, ledger });
  expect((await checker.check(run)).violations).toEqual([]);
  return { db, ledger, checker, run };
}

const ids = (vs: { invariant: InvariantId }[]) => vs.map((v) => v.invariant);

describe(`invariant checks (${target})`, () => {
  it('rows-exact: a row deleted, a row added behind the ledger, a timestamp changed', async () => {
    const { db, checker, ledger } = await healthy();
    await db.exec(`delete from ${T} where id = 2`);
    const lost = await checker.check();
    expect(ids(lost.violations)).toEqual(['rows-exact']);
    expect(lost.violations[0]!.details).toMatchObject({ lost: { count: 1, first: ['2 (2025-09-30 23:59:59.999999+00)'] } });
    await db.query(
      insertSql(T, [
        { id: 2, at: parseInstant('2025-09-30 23:59:59.999999+00') },
        { id: 99, at: parseInstant('2025-09-20 00:00:00+00') },
      ]),
    );
    expect((await checker.check()).violations[0]!.details).toMatchObject({ neverInserted: { count: 1 }, lost: { count: 0 } });
    await db.exec(`delete from ${T} where id = 99; update ${T} set created_at = created_at + interval '1 microsecond' where id = 3`);
    expect((await checker.check()).violations[0]!.details).toMatchObject({
      changed: { count: 1, first: ['3 (2025-10-15 00:00:00+00 -> 2025-10-15 00:00:00.000001+00)'] },
    });
    expect(ledger.size).toBe(4);
  });

  it('rows-placed: a partition attached over rows outside its bounds (its CHECK faked as validated)', async () => {
    const { db, checker, ledger } = await healthy();
    // PostgreSQL would refuse this; a validated CHECK that lies makes ATTACH skip its scan
    await db.exec(`
      create table stray (like ${T});
      insert into stray (id, room_id, sender_id, body, created_at) values (5, 1, 1, 'stray', '2026-03-15 00:00+00');
      alter table stray add constraint lie check (created_at >= '2025-12-01 00:00+00' and created_at < '2026-01-01 00:00+00') not valid;
      update pg_constraint set convalidated = true where conname = 'lie';
      alter table ${T} attach partition stray for values from ('2025-12-01 00:00+00') to ('2026-01-01 00:00+00');`);
    ledger.commit([{ id: 5, at: parseInstant('2026-03-15 00:00:00+00') }]);
    const { violations } = await checker.check();
    expect(ids(violations)).toContain('rows-placed');
    expect(violations.find((v) => v.invariant === 'rows-placed')!.message).toMatch(
      /stray \[2025-12-01 00:00:00\+00, 2026-01-01 00:00:00\+00\) holds rows from 2026-03-15/,
    );
  });

  it('partitions-aligned and log-complete: a partition made by hand in a Los Angeles session', async () => {
    const { db, checker } = await healthy();
    await db.exec(`set timezone = 'America/Los_Angeles';
      create table ${T}_2026_01 partition of ${T} for values from ('2026-01-01') to ('2026-02-01');
      reset timezone;`);
    const { violations } = await checker.check();
    expect(ids(violations).sort()).toEqual(['log-complete', 'partitions-aligned']);
    expect(violations.find((v) => v.invariant === 'partitions-aligned')!.message).toMatch(
      /\[2026-01-01 08:00:00\+00, 2026-02-01 08:00:00\+00\)/,
    );
    // one that existed before partkeeper (foreign) needs no log row
    const adopted = new Checker(db, { table: T, ledger: new Ledger(), foreign: new Set([`${T}_2026_01`]) });
    expect(ids((await adopted.check()).violations)).not.toContain('log-complete');
  });

  it('log-complete: a logged creation whose partition has other bounds, or whose log row is gone', async () => {
    const { db, checker } = await healthy();
    await db.exec(
      `update partkeeper.log set detail = detail || '{"lower": "2025-09-02 00:00:00+00"}' where partition_name like '%_2025_09'`,
    );
    expect((await checker.check()).violations).toEqual([
      expect.objectContaining({ invariant: 'log-complete', message: expect.stringMatching(/without a partition of those bounds/) }),
    ]);
    await db.exec(`delete from partkeeper.log where partition_name like '%_2025_09'`);
    expect((await checker.check()).violations).toEqual([
      expect.objectContaining({
        invariant: 'log-complete',
        message: expect.stringMatching(/no creation logged for livechat_messages_2025_09/),
      }),
    ]);
  });

  it('partitions-contiguous, horizon-covered and default-drained: only after a settled run', async () => {
    // the healthy table's settled run, shown again to the checker: it makes the next check believe
    // maintenance just settled, without letting maintenance repair anything
    const { db, checker, ledger, run: settled } = await healthy();
    // a gap before the horizon (a partition dropped by hand, logged as a retirement so that the log
    // explains it; retention itself never leaves a hole), and a row waiting in DEFAULT inside the drain window
    await db.exec(`drop table ${T}_2025_10;
      insert into partkeeper.log (clock, parent, table_name, action, partition_name)
      values (partkeeper.now(), '${T}'::regclass, 'public.${T}', 'retire', 'public.${T}_2025_10')`);
    expect(ledger.forget(parseInstant('2025-10-01 00:00:00+00'), parseInstant('2025-11-01 00:00:00+00'))).toBe(1);
    const row = { id: ledger.allocate(), at: parseInstant('2026-05-05 00:00:00+00') };
    await db.query(insertSql(T, [row]));
    ledger.commit([row]);
    expect((await checker.check()).violations).toEqual([]);
    const found = (await checker.check(settled)).violations;
    expect(ids(found).sort()).toEqual(['default-drained', 'horizon-covered', 'partitions-contiguous']);
    expect(found.find((v) => v.invariant === 'horizon-covered')!.message).toMatch(
      /cover \[2025-09-01 00:00:00\+00, 2025-10-01 00:00:00\+00\), short of 2025-12-01/,
    );
    // a run that created something, or was stopped by a lock, is not settled: no claim is made yet
    const made = { partition: 'x', lower: settled.clock, upper: settled.clock, rows_moved: 0, method: 'attach' as const };
    expect((await checker.check({ ...settled, created: [made] })).violations).toEqual([]);
    expect(
      (await checker.check({ ...settled, status: 'warning', warnings: [{ code: 'lock_timeout', message: 'lock not obtained' }] }))
        .violations,
    ).toEqual([]);
    // and maintenance itself repairs all three
    const { run } = await catchUp(db, T);
    expect((await checker.check(run)).violations).toEqual([]);
  });

  it('partitions-disjoint: overlapping bounds are reported (PostgreSQL itself refuses to build them)', async () => {
    const { db } = await healthy();
    await expect(
      db.exec(`create table o partition of ${T} for values from ('2025-09-15 00:00+00') to ('2025-10-15 00:00+00')`),
    ).rejects.toThrow(/would overlap/);
    // so the check is shown on facts as partition_bounds() would report them
    const fact = (name: string, lower: string, upper: string): PartitionFact => ({
      oid: 0,
      name,
      isDefault: false,
      lower: parseInstant(lower),
      upper: parseInstant(upper),
      aligned: true,
      logged: true,
    });
    const o = { zone: 'UTC', foreign: new Set<string>(), logProblems: [] };
    expect(partitionViolations([fact('a', '2025-09-01', '2025-10-01'), fact('b', '2025-10-01', '2025-11-01')], o)).toEqual([]);
    expect(partitionViolations([fact('a', '2025-09-01', '2025-10-01'), fact('b', '2025-09-15', '2025-11-01')], o)).toEqual([
      {
        invariant: 'partitions-disjoint',
        message: 'a [2025-09-01 00:00:00+00, 2025-10-01 00:00:00+00) overlaps b [2025-09-15 00:00:00+00, 2025-11-01 00:00:00+00)',
      },
    ]);
  });

  it('inserts-succeed and statements-succeed: a failing INSERT or create_monthly_partition is a violation', async () => {
    const db = await freshDb();
    const clock = parseInstant('2025-09-10 12:00:00+00');
    await db.exec(`alter table ${T} detach partition ${T}_default`);
    // a month without a partition, and no DEFAULT to catch the row
    const row = { id: 1, at: parseInstant('2030-01-01 00:00:00+00') };
    const ledger = new Ledger();
    const entry = (e: Pick<Entry, 'kind' | 'sql'> & Partial<Entry>): Entry => ({ step: 0, clock, zone: 'UTC', role: null, ...e });
    const insert = await replay(db, [entry({ kind: 'insert', rows: [row], sql: insertSql(T, [row]) })], {
      table: T,
      ledger,
      checkEach: true,
    });
    expect(insert.violations[0]).toMatchObject({
      invariant: 'inserts-succeed',
      message: expect.stringMatching(/^an INSERT of 1 row\(s\) failed: 23514 no partition of relation/),
    });
    expect(ledger.size).toBe(0);
    await db.exec(`set timezone = 'America/Los_Angeles';
      create table by_hand partition of ${T} for values from ('2025-12-01') to ('2026-01-01');
      reset timezone;`);
    const create = await replay(db, [entry({ kind: 'create', sql: createSql(T, '2025-12-01') })], { table: T, ledger, checkEach: true });
    expect(create.violations[0]).toMatchObject({
      invariant: 'statements-succeed',
      message: expect.stringMatching(/failed: PK006 range .* overlaps partition public.by_hand \[2025-12-01 08:00/),
    });
  });

  it('a settled run: isSettled and its SQL form for repro scripts agree, on real results and edge cases', async () => {
    const { db, run } = await healthy();
    const created = { partition: 'p', lower: '2025-12-01 00:00:00+00', upper: '2026-01-01 00:00:00+00' };
    const results: unknown[] = [
      run,
      { ...run, created: [created] },
      { ...run, status: 'warning', warnings: [{ code: 'lock_timeout', message: 'm' }] },
      { ...run, status: 'warning', warnings: [{ code: 'deferred', message: 'm' }] },
      { ...run, status: 'failed' },
      { table: T, status: 'busy', complete: false, clock: run.clock, warnings: [] },
      { table: T, status: 'skipped', complete: true, reason: 'standby' },
      { table: T, status: 'ok', warnings: [] },
    ];
    const seen = [];
    for (const r of results) {
      const { settled } = await db.one<{ settled: boolean }>(`select ${settledSql('$1::jsonb')} as settled`, [JSON.stringify(r)]);
      expect({ r, settled }).toEqual({ r, settled: isSettled(r as MaintenanceResult) });
      seen.push(settled);
    }
    // both outcomes occur, so the comparison can fail either way
    expect(seen).toContain(true);
    expect(seen).toContain(false);
  });

  it('maintenance-settles: a maintain_table that always claims to create never settles', async () => {
    const { db } = await healthy();
    await db.exec(`create or replace function partkeeper.maintain_table(p_parent regclass, p_wait boolean default false, p_max_create integer default null)
      returns jsonb language sql as $$
        select jsonb_set(l.result, '{created}', jsonb_build_array(jsonb_build_object(
                   'partition', 'x', 'lower', l.result -> 'clock', 'upper', l.result -> 'clock', 'rows_moved', 0, 'method', 'attach')))
          from partkeeper.last_run l where l.parent = p_parent $$`);
    const c = await catchUp(db, T, 5);
    expect(c.violation).toMatchObject({ invariant: 'maintenance-settles', message: expect.stringMatching(/not settled after 5 runs/) });
  });
});
