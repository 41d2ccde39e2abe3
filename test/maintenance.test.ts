// The guarantee (no insert fails for lack of a partition, no row lost) and maintenance.
import { describe, expect, it } from 'vitest';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import {
  codes,
  defaultRows,
  fingerprint,
  gaps,
  insertMessages,
  maintain,
  maintainAll,
  misplacedRows,
  partitions,
  rowsByPartition,
  runMaintenance,
} from '../harness/support.ts';

describe('inserts into months without a partition', () => {
  it('succeed, wait in DEFAULT, and maintenance places them and records the periods that stay', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 12:00:00+00');
    await maintain(db);
    const dates = [
      '2025-09-10 12:00:00+00', // has its partition
      '2025-06-30 23:59:59.999999+00',
      '2025-06-01 00:00:00+00', // before the oldest partition
      '2026-02-28 12:00:00+00',
      '2026-03-01 00:00:00+00', // after the horizon
      '2024-02-29 08:00:00+00', // a leap day, 18 months back: outside the default one-year drain window
    ];
    await insertMessages(db, dates);
    const before = await fingerprint(db);
    expect(await rowsByPartition(db)).toEqual({ livechat_messages_2025_09: 1, livechat_messages_default: 5 });

    const run = await maintain(db);
    expect(run.rows_moved).toBe(4);
    expect(await fingerprint(db)).toEqual(before);
    expect(await misplacedRows(db)).toBe(0);
    expect(await defaultRows(db)).toBe(1);
    expect(run.left_in_default).toEqual([
      expect.objectContaining({
        period: '2024-02-01T00:00:00+00:00',
        rows: 1,
        reason: 'before_window',
        message: expect.stringMatching(/before the drain window/),
      }),
    ]);
    expect(run.status).toBe('warning');
    expect(run.complete).toBe(true); // a row outside the window is not work left undone
    expect(codes(run)).toEqual(['rows_in_default']);
    // contiguous from the oldest month placed to the horizon (November); February and March 2026
    // got their own partitions, and the months between are left to premake
    const parts = await partitions(db);
    expect(gaps(parts)).toEqual(['livechat_messages_2025_11 .. livechat_messages_2026_02']);
    expect(parts[0]!.lower).toBe('2025-06-01 00:00:00');
    expect(parts.at(-2)!.upper).toBe('2026-04-01 00:00:00');
    // only the month still waiting stays pending
    expect(await db.query(`select to_char(period_start at time zone 'UTC', 'YYYY-MM') as m from partkeeper.pending`)).toEqual([
      { m: '2024-02' },
    ]);

    // widening the window lets the next run place it
    await db.query(`select partkeeper.configure('livechat_messages', p_drain_window_back => '2 years')`);
    const again = await maintain(db);
    expect(again.status).toBe('ok');
    expect(await defaultRows(db)).toBe(0);
    expect(gaps(await partitions(db))).toEqual(['livechat_messages_2025_11 .. livechat_messages_2026_02']);
    expect(await fingerprint(db)).toEqual(before);
  });

  it('leaves far-future and NULL keys in DEFAULT and says why, without creating partitions for them', async () => {
    const db = await freshDb();
    await db.exec(`create table ev (id int, at timestamptz) partition by range (at)`);
    await db.query(`select partkeeper.register_table('ev')`);
    await setClock(db, '2025-09-10 12:00:00+00');
    await db.exec(`insert into ev values (1, '2099-01-01'), (2, null), (3, '2025-09-11')`);
    const run = await maintain(db, 'ev');
    expect(run.created.map((c) => c.partition)).toEqual(['public.ev_2025_09', 'public.ev_2025_10', 'public.ev_2025_11']);
    expect(run.left_in_default.map((l) => [l.period, l.rows, l.reason])).toEqual([
      [null, 1, 'null_key'],
      ['2099-01-01T00:00:00+00:00', 1, 'after_window'],
    ]);
    expect(run.default_rows).toBe(2);
    expect(codes(run)).toEqual(['rows_in_default']);
    expect(run.warnings[0]!.message).toMatch(/^2 row\(s\) left in the DEFAULT partition/);
  });

  it('places rows inserted earlier in the same transaction (the cross-session race is in concurrency.test.ts)', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 12:00:00+00');
    await db.transaction(async (tx) => {
      await insertMessages(tx, ['2025-12-25 00:00:00+00']);
      // inside the same transaction maintenance sees the row and moves it
      const run = await maintain(tx);
      expect(run.rows_moved).toBe(1);
    });
    expect(await rowsByPartition(db)).toEqual({ livechat_messages_2025_12: 1 });
  });
});

describe('maintenance', () => {
  it('premakes from the clock, not from the newest data, and a second run does nothing', async () => {
    const db = await freshDb();
    await insertMessages(db, ['2030-01-01 00:00:00+00']);
    await setClock(db, '2025-01-20 00:00:00+00');
    const run = await maintain(db);
    expect(run.created.map((c) => c.lower.slice(0, 7))).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(run.horizon).toBe('2025-04-01T00:00:00+00:00');
    expect(run.horizon_target).toBe('2025-04-01T00:00:00+00:00');
    const second = await maintain(db);
    expect(second.created).toEqual([]);
    expect(second.rows_moved).toBe(0);
  });

  it('catches up after a 14-month clock jump: contiguous from the oldest partition to now + premake', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await maintain(db);
    await setClock(db, '2026-06-10 00:00:00+00');
    await insertMessages(db, ['2026-06-10 00:00:00+00', '2025-12-24 00:00:00+00']);
    const run = await maintain(db);
    const parts = (await partitions(db)).filter((p) => !p.is_default);
    expect(gaps(parts)).toEqual([]);
    expect(parts[0]!.lower).toBe('2025-04-01 00:00:00');
    expect(parts.at(-1)!.upper).toBe('2026-09-01 00:00:00');
    expect(parts).toHaveLength(17);
    expect(run.created).toHaveLength(14);
    // premake months first, then months with waiting rows, then the gap
    expect(run.created.slice(0, 4).map((c) => c.lower.slice(0, 7))).toEqual(['2026-06', '2026-07', '2026-08', '2025-12']);
    expect(run.status).toBe('ok');
    expect(await misplacedRows(db)).toBe(0);
    expect(await defaultRows(db)).toBe(0);
  });

  it('creates at most max_create_per_run partitions, says so, and the next run continues', async () => {
    const db = await freshDb();
    await db.query(`select partkeeper.configure('livechat_messages', p_max_create_per_run => 4)`);
    await setClock(db, '2024-01-10 00:00:00+00');
    await maintain(db);
    await setClock(db, '2025-01-10 00:00:00+00');
    const first = await maintain(db);
    expect(first.created).toHaveLength(4);
    expect(first.status).toBe('warning');
    expect(codes(first)).toEqual(['deferred', 'gap']);
    expect(first.complete).toBe(false);
    expect(first.horizon).toBe('2025-04-01T00:00:00+00:00'); // the current month and premake came first
    let runs = 1;
    while ((await maintain(db)).created.length > 0) runs++;
    expect(runs).toBe(3);
    expect(gaps(await partitions(db))).toEqual([]);
  });

  it('logs every partition it creates and every run that acted', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await insertMessages(db, ['2025-01-05 00:00:00+00']);
    const run = await maintain(db);
    const logged = await db.query<{ partition_name: string }>(
      `select partition_name from partkeeper.log where action = 'create_partition' order by id`,
    );
    expect(logged.map((l) => l.partition_name)).toEqual(run.created.map((c) => c.partition));
    expect(await db.one(`select count(*)::int as n from partkeeper.log where action = 'maintain'`)).toEqual({ n: 1 });
    await maintain(db); // nothing to do: no new log row
    expect(await db.one(`select count(*)::int as n from partkeeper.log where action = 'maintain'`)).toEqual({ n: 1 });
    expect(await db.one(`select status, (result->>'rows_moved')::int as moved from partkeeper.last_run`)).toEqual({
      status: 'ok',
      moved: 0,
    });
  });

  it('returns the documented JSON shape', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    const run = await maintain(db);
    expect(Object.keys(run).sort()).toEqual([
      'clock',
      'complete',
      'created',
      'default_rows',
      'drain_window',
      'duration_ms',
      'horizon',
      'horizon_target',
      'left_in_default',
      'next_expiry',
      'retired',
      'rows_moved',
      'status',
      'table',
      'warnings',
    ]);
    expect(run).toMatchObject({
      table: 'public.livechat_messages',
      status: 'ok',
      complete: true,
      clock: '2025-04-10T00:00:00+00:00',
      rows_moved: 0,
      default_rows: 0,
      drain_window: { from: '2024-04-01T00:00:00+00:00', to: '2026-05-01T00:00:00+00:00' },
      warnings: [],
      retired: [],
      next_expiry: null,
    });
    expect(typeof run.duration_ms).toBe('number');
  });

  it('re-creates a missing DEFAULT partition, and warns', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await db.exec(`drop table livechat_messages_default`);
    const run = await maintain(db);
    expect(codes(run)).toEqual(['default_created']);
    expect(run.warnings[0]!.partition).toBe('public.livechat_messages_default');
    await insertMessages(db, ['2031-01-01 00:00:00+00']);
    expect(await defaultRows(db)).toBe(1);
    expect(codes(await maintain(db))).toEqual(['rows_in_default']);
  });

  it('skips a disabled table and reports busy/failed per table in maintain_all', async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await db.exec(
      `create table ev (at timestamptz not null) partition by range (at); create table gone (at date not null) partition by range (at)`,
    );
    await db.query(`select partkeeper.register_table('ev'), partkeeper.register_table('gone')`);
    await db.query(`select partkeeper.configure('ev', p_enabled => false)`);
    await db.exec(`drop table gone`);
    const all = await maintainAll(db);
    expect(all.status).toBe('failed');
    expect(all.tables.map((t) => t.status)).toEqual(expect.arrayContaining(['ok', 'disabled', 'failed']));
    expect(all.tables.find((t) => t.status === 'failed')).toMatchObject({ error: { sqlstate: 'PK002' } });
    expect(await db.one(`select count(*)::int as n from partkeeper.partition_bounds('livechat_messages') where not is_default`)).toEqual({
      n: 3,
    });
  });

  it("CALL partkeeper.run_maintenance() maintains every table, and one table's error does not stop the others", async () => {
    const db = await freshDb();
    await setClock(db, '2025-04-10 00:00:00+00');
    await db.exec(
      `create table a_events (at timestamptz not null) partition by range (at); create table gone (at date not null) partition by range (at)`,
    );
    await db.query(`select partkeeper.register_table('a_events'), partkeeper.register_table('gone')`);
    await db.exec(`drop table gone`);
    // the healthy tables are maintained and committed, then the CALL fails naming the failed one,
    // so pg_cron records the job run as failed
    const e = await expectSqlState(db.exec('call partkeeper.run_maintenance()'), 'PK008');
    expect(e.message).toBe('partkeeper: maintenance failed for 1 of 3 table(s): public.gone');
    expect(
      await db.query(`select coalesce(c.table_name, l.parent::text) as t, l.status
                             from partkeeper.last_run l join partkeeper.config c using (parent) order by 1`),
    ).toEqual([
      { t: 'public.a_events', status: 'ok' },
      { t: 'public.gone', status: 'failed' },
      { t: 'public.livechat_messages', status: 'ok' },
    ]);
    expect(await db.one(`select count(*)::int as n, min(table_name) as t from partkeeper.log where action = 'failed'`)).toEqual({
      n: 1,
      t: 'public.gone',
    });
    // without raising, the procedure hands back every result
    const results = await runMaintenance(db);
    expect(results.status).toBe('failed');
    expect(results.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.a_events', 'ok'],
      ['public.gone', 'failed'],
      ['public.livechat_messages', 'ok'],
    ]);
  });

  it('refuses unregistered tables with PK004 and reports partitions made by hand with other bounds', async () => {
    const db = await freshDb();
    await db.exec(`create table ev (at timestamptz not null) partition by range (at)`);
    await expectSqlState(db.query(`select partkeeper.maintain_table('ev')`), 'PK004');
    // a partition made in a Los Angeles session, as the original scripts did
    await db.exec(`set timezone = 'America/Los_Angeles';
      create table livechat_messages_2025_05 partition of livechat_messages for values from ('2025-05-01') to ('2025-06-01');
      reset timezone;`);
    await setClock(db, '2025-05-10 00:00:00+00');
    const run = await maintain(db);
    expect(codes(run)).toContain('overlap');
    await expectSqlState(db.query(`select create_monthly_partition('livechat_messages', '2025-05-01')`), 'PK006');
    // months clear of it are still made
    expect(run.created.map((c) => c.lower.slice(0, 7))).toEqual(['2025-07']);
  });
});
