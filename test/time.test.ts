// Time: bounds never follow the session's TimeZone, the simulated clock, zones and key types.
import { describe, expect, it } from 'vitest';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import { gaps, maintain, partitions } from '../harness/support.ts';

const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'];

describe('bounds', () => {
  it('are the same UTC months whatever the session TimeZone', async () => {
    const db = await freshDb();
    // Each zone creates two months, interleaved; any zone leaking into a bound would overlap or gap.
    const months = ['2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02'];
    for (const [i, month] of months.entries()) {
      await db.exec(`set timezone = '${ZONES[i % ZONES.length]}'`);
      await db.query(`select create_monthly_partition('livechat_messages', $1::date)`, [`${month}-01`]);
    }
    await db.exec('reset timezone');
    const parts = (await partitions(db)).filter((p) => !p.is_default);
    expect(parts.map((p) => p.lower)).toEqual(months.map((m) => `${m}-01 00:00:00`));
    expect(gaps(parts)).toEqual([]);
  });

  it('maintenance from any session zone takes the current month in the table zone', async () => {
    for (const zone of ZONES) {
      const db = await freshDb();
      await db.exec(`set timezone = '${zone}'`);
      // 20:00 on Oct 31 in Los Angeles is already November in UTC.
      await setClock(db, '2025-11-01 03:00:00+00');
      const run = await maintain(db);
      expect(run.created.map((c) => c.partition)).toEqual(['2025_11', '2025_12', '2026_01'].map((s) => `public.livechat_messages_${s}`));
      expect(run.horizon).toBe('2026-02-01T00:00:00+00:00');
      await db.close();
    }
  });

  it('follows a configured zone, through daylight saving time', async () => {
    const db = await freshDb();
    await db.exec(`create table ev (id int, at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('ev')`);
    await db.query(`select partkeeper.configure('ev', p_time_zone => 'Europe/Berlin', p_premake => 1)`);
    await db.exec(`set timezone = 'Asia/Kolkata'`);
    await setClock(db, '2025-03-15 12:00:00+00');
    await maintain(db, 'ev');
    await db.exec('reset timezone');
    // Berlin midnight is 23:00 UTC in winter (CET) and 22:00 UTC in summer (CEST).
    expect((await partitions(db, 'ev')).filter((p) => !p.is_default).map((p) => [p.partition, p.lower, p.upper])).toEqual([
      ['ev_2025_03', '2025-02-28 23:00:00', '2025-03-31 22:00:00'],
      ['ev_2025_04', '2025-03-31 22:00:00', '2025-04-30 22:00:00'],
    ]);
    // a message at 23:30 UTC on March 31 is April 1st in Berlin
    await db.exec(`insert into ev values (1, '2025-03-31 23:30:00+00')`);
    expect(await db.one(`select tableoid::regclass::text as p from ev`)).toEqual({ p: 'ev_2025_04' });
  });

  it('refuses to change the zone of a table that has partitions, and unknown zones', async () => {
    const db = await freshDb();
    await setClock(db, '2025-03-15 12:00:00+00');
    await maintain(db);
    await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_time_zone => 'Europe/Berlin')`), 'PK001');
    await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_time_zone => 'Mars/Olympus_Mons')`), 'PK001');
    expect(await db.one(`select time_zone from partkeeper.config`)).toEqual({ time_zone: 'UTC' });
  });

  it('works for timestamp and date keys, as plain wall-time months', async () => {
    const db = await freshDb();
    await db.exec(`
      create table ts_events (id int, at timestamp not null) partition by range (at);
      create table d_events (id int, day date not null) partition by range (day);
      set timezone = 'America/Los_Angeles';
    `);
    await db.query(`select partkeeper.register_table('ts_events'), partkeeper.register_table('d_events')`);
    await setClock(db, '2025-12-31 23:30:00+00');
    await maintain(db, 'ts_events');
    await maintain(db, 'd_events');
    const bounds = await db.query<{ b: string }>(
      `select pg_get_expr(relpartbound, oid) as b from pg_class where relname in ('ts_events_2026_01', 'd_events_2026_01') order by relname`,
    );
    expect(bounds.map((r) => r.b)).toEqual([
      "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')",
      "FOR VALUES FROM ('2026-01-01 00:00:00') TO ('2026-02-01 00:00:00')",
    ]);
    await db.exec(`insert into ts_events values (1, '2026-06-30 23:59:59.999999'); insert into d_events values (1, '2026-06-30')`);
    await maintain(db, 'ts_events');
    await maintain(db, 'd_events');
    expect(
      await db.query(
        `select tableoid::regclass::text as p from ts_events where id = 1 union all select tableoid::regclass::text from d_events where id = 1`,
      ),
    ).toEqual([{ p: 'ts_events_2026_06' }, { p: 'd_events_2026_06' }]);
    await expectSqlState(db.query(`select partkeeper.configure('d_events', p_time_zone => 'Europe/Paris')`), 'PK001');
  });
});

describe('partkeeper.now()', () => {
  it('reads the partkeeper.now setting, as UTC when it has no offset, and the real clock otherwise', async () => {
    const db = await freshDb();
    await db.exec(`set timezone = 'America/Los_Angeles'`);
    await setClock(db, '2025-09-01 00:00:00');
    expect(await db.one(`select partkeeper.now() = '2025-09-01 00:00:00+00' as utc`)).toEqual({ utc: true });
    await setClock(db, null);
    expect(await db.one(`select partkeeper.now() = now() as real`)).toEqual({ real: true });
  });

  it('rejects a clock that is not a timestamp with PK001', async () => {
    const db = await freshDb();
    await setClock(db, 'next tuesday');
    const err = await expectSqlState(db.query(`select maintain_livechat_partitions()`), 'PK001');
    expect(err.hint).toMatch(/partkeeper\.now/);
  });
});
