// Intervals other than a month, and changing a table's interval going forward.
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import { gaps, maintain, misplacedRows, partitions } from '../harness/support.ts';

async function eventsTable(db: Db, name: string, interval: string): Promise<void> {
  await db.exec(`create table ${name} (id bigint generated always as identity, at timestamptz not null) partition by range (at)`);
  await db.query(`select partkeeper.register_table($1)`, [name]);
  await db.query(`select partkeeper.configure($1, p_part_interval => $2)`, [name, interval]);
}

/** Runs maintenance until it creates nothing more (max_create_per_run spreads a catch-up over runs). */
async function settle(db: Db, table: string): Promise<void> {
  for (let i = 0; i < 50 && (await maintain(db, table)).created.length > 0; i++);
}

describe('partition intervals', () => {
  it('day, week (ISO, Monday), quarter and year: bounds and names that sort in time order', async () => {
    const db = await freshDb();
    await setClock(db, '2026-03-04 12:00:00+00'); // a Wednesday
    const expected: Record<string, [string, string, string][]> = {
      e_day: [
        ['e_day_2026_03_04', '2026-03-04 00:00:00', '2026-03-05 00:00:00'],
        ['e_day_2026_03_05', '2026-03-05 00:00:00', '2026-03-06 00:00:00'],
        ['e_day_2026_03_06', '2026-03-06 00:00:00', '2026-03-07 00:00:00'],
      ],
      e_week: [
        ['e_week_2026_03_02', '2026-03-02 00:00:00', '2026-03-09 00:00:00'],
        ['e_week_2026_03_09', '2026-03-09 00:00:00', '2026-03-16 00:00:00'],
        ['e_week_2026_03_16', '2026-03-16 00:00:00', '2026-03-23 00:00:00'],
      ],
      e_quarter: [
        ['e_quarter_2026_q1', '2026-01-01 00:00:00', '2026-04-01 00:00:00'],
        ['e_quarter_2026_q2', '2026-04-01 00:00:00', '2026-07-01 00:00:00'],
        ['e_quarter_2026_q3', '2026-07-01 00:00:00', '2026-10-01 00:00:00'],
      ],
      e_year: [
        ['e_year_2026', '2026-01-01 00:00:00', '2027-01-01 00:00:00'],
        ['e_year_2027', '2027-01-01 00:00:00', '2028-01-01 00:00:00'],
        ['e_year_2028', '2028-01-01 00:00:00', '2029-01-01 00:00:00'],
      ],
    };
    for (const [table, parts] of Object.entries(expected)) {
      await eventsTable(db, table, table.slice(2));
      await maintain(db, table);
      const got = (await partitions(db, table)).filter((p) => !p.is_default).map((p) => [p.partition, p.lower, p.upper]);
      expect(got).toEqual(parts);
    }
  });

  it('a weekly table in a zone with daylight saving time: weeks start at local Monday midnight', async () => {
    const db = await freshDb();
    await eventsTable(db, 'e_week', 'week');
    await db.query(`select partkeeper.configure('e_week', p_time_zone => 'America/New_York')`);
    await setClock(db, '2026-03-05 12:00:00+00'); // DST starts Sunday 2026-03-08 in New York
    await maintain(db, 'e_week');
    expect((await partitions(db, 'e_week')).filter((p) => !p.is_default).map((p) => [p.lower, p.upper])).toEqual([
      ['2026-03-02 05:00:00', '2026-03-09 04:00:00'], // 167 hours: the week loses one
      ['2026-03-09 04:00:00', '2026-03-16 04:00:00'],
      ['2026-03-16 04:00:00', '2026-03-23 04:00:00'],
    ]);
  });

  it('monthly to weekly and back: contiguous through both changes and a clock jump, rows in place', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-20 00:00:00+00');
    await maintain(db); // 2026-01 .. 2026-03, monthly
    await db.query(`select partkeeper.configure('livechat_messages', p_part_interval => 'week')`);
    expect(await db.one(`select interval_since from partkeeper.config`)).toEqual({ interval_since: '2026-04-01 00:00:00+00' });

    await setClock(db, '2026-05-13 00:00:00+00'); // a jump of four months
    await db.query(`insert into livechat_messages (room_id, sender_id, body, created_at)
                    select 1, 1, 'm', timestamptz '2026-01-01 00:00+00' + g * interval '37 hours' from generate_series(0, 150) g`);
    await settle(db, 'livechat_messages');
    let parts = (await partitions(db)).filter((p) => !p.is_default);
    expect(gaps(parts)).toEqual([]);
    expect(parts.slice(0, 4).map((p) => [p.partition, p.lower, p.upper])).toEqual([
      ['livechat_messages_2026_01', '2026-01-01 00:00:00', '2026-02-01 00:00:00'],
      ['livechat_messages_2026_02', '2026-02-01 00:00:00', '2026-03-01 00:00:00'],
      ['livechat_messages_2026_03', '2026-03-01 00:00:00', '2026-04-01 00:00:00'],
      ['livechat_messages_2026_04_01', '2026-04-01 00:00:00', '2026-04-06 00:00:00'], // clipped at the change, to the next Monday
    ]);
    for (const p of parts.slice(4)) expect(Date.parse(`${p.upper}Z`) - Date.parse(`${p.lower}Z`)).toBe(7 * 86_400_000);

    await db.query(`select partkeeper.configure('livechat_messages', p_part_interval => 'month')`);
    const weeklyEnd = parts.at(-1)!.upper!;
    await setClock(db, '2026-09-02 00:00:00+00');
    await settle(db, 'livechat_messages');
    parts = (await partitions(db)).filter((p) => !p.is_default);
    expect(gaps(parts)).toEqual([]);
    const after = parts.filter((p) => p.lower! >= weeklyEnd);
    expect(after[0]!.lower).toBe(weeklyEnd); // a clipped month from the last week's end, named by its first day
    expect(after[0]!.partition).toBe(`livechat_messages_${weeklyEnd.slice(0, 10).replace(/-/g, '_')}`);
    expect(after.slice(1).every((p) => p.lower!.endsWith('-01 00:00:00') && p.upper!.endsWith('-01 00:00:00'))).toBe(true);
    expect(await misplacedRows(db)).toBe(0);
    expect(await db.one(`select count(*)::int as n from only livechat_messages_default`)).toEqual({ n: 0 });
    // names sort in time order
    const names = parts.map((p) => p.partition);
    expect([...names].sort()).toEqual(names);
    expect(await db.query(`select part_interval from partkeeper.interval_history order by until`)).toEqual([
      { part_interval: 'month' },
      { part_interval: 'week' },
    ]);
  });

  it('create_partition takes the start of a period, and unknown intervals are refused', async () => {
    const db = await freshDb();
    await eventsTable(db, 'e_week', 'week');
    await expectSqlState(db.query(`select partkeeper.create_partition('e_week', '2026-03-04')`), 'PK001');
    expect(await db.one(`select partkeeper.create_partition('e_week', '2026-03-02') as p`)).toEqual({ p: 'public.e_week_2026_03_02' });
    await expectSqlState(db.query(`select partkeeper.configure('e_week', p_part_interval => 'fortnight')`), 'PK001');
    expect(await db.one(`select part_interval from partkeeper.config where parent = 'e_week'::regclass`)).toEqual({
      part_interval: 'week',
    });
  });
});
