// One step that cannot be done never stops the rest, and every failure is seen: refused
// retirements, periods whose partition cannot be made, keys PostgreSQL cannot compute with, a
// dropped table; retention and gap healing agree on what was retired.
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import { codes, defaultRows, fingerprint, health, maintain, maintainAll, partitions, status } from '../harness/support.ts';

const T = 'livechat_messages';
const months = async (db: Db) => (await partitions(db)).filter((p) => !p.is_default).map((p) => p.lower!.slice(0, 7));

describe('a refused step fails alone', () => {
  it('retention refused by a foreign key or a view: the new months are still made, and the run says failed with the reason', async () => {
    const db = await freshDb();
    await setClock(db, '2026-10-10 00:00:00+00');
    await maintain(db);
    // any foreign key that references the table makes PostgreSQL refuse DROP of a partition outright;
    // partkeeper detaches first, which only a referencing row can refuse
    await db.exec(`create table message_reactions (message_id bigint, message_created_at timestamptz,
        foreign key (message_id, message_created_at) references ${T} (id, created_at) on delete cascade);
      insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'old', '2026-10-05');
      insert into message_reactions select id, created_at from ${T};`);
    await setClock(db, '2027-01-10 00:00:00+00');
    await db.query(`select partkeeper.configure('${T}', p_retention => '2 months')`);
    const run = await maintain(db);
    expect(run.status).toBe('failed');
    expect(run.complete).toBe(false);
    expect(run.warnings).toEqual([
      expect.objectContaining({
        code: 'fk_violation',
        sqlstate: '23503',
        partition: `public.${T}_2026_10`,
        hint: expect.stringMatching(/reference/),
      }),
    ]);
    expect(run.created.map((c) => c.lower.slice(0, 7))).toEqual(['2027-01', '2027-02', '2027-03']);
    expect(await months(db)).toEqual(['2026-10', '2026-11', '2026-12', '2027-01', '2027-02', '2027-03']);
    expect(await db.one(`select count(*)::int as n from message_reactions`)).toEqual({ n: 1 });

    // without the referencing row the same foreign key lets it retire
    await db.exec(`delete from message_reactions`);
    expect((await maintain(db)).retired.map((r) => r.partition)).toEqual([`public.${T}_2026_10`]);

    // a view on a partition: DROP is refused (2BP01); the premake of the next month still happens
    await db.exec(`create view november as select * from ${T}_2026_11`);
    await setClock(db, '2027-02-10 00:00:00+00');
    const viewed = await maintain(db);
    expect(viewed.status).toBe('failed');
    expect(codes(viewed)).toEqual(['dependent_objects']);
    expect(viewed.warnings[0]).toMatchObject({ sqlstate: '2BP01', partition: `public.${T}_2026_11` });
    expect(viewed.created.map((c) => c.lower.slice(0, 7))).toEqual(['2027-04']);
    // and the failure is seen: last_run, health, the log, schema-qualified
    expect(await db.one(`select status, result ->> 'complete' as complete from partkeeper.last_run`)).toEqual({
      status: 'failed',
      complete: 'false',
    });
    const h = await health(db);
    expect(h.status).toBe('error');
    expect(h.checks.find((c) => c.check === 'last_run')).toMatchObject({
      status: 'error',
      table: `public.${T}`,
      message: expect.stringMatching(/\[dependent_objects\]/),
    });
    expect(
      await db.one(
        `select table_name, detail ->> 'status' as status from partkeeper.log where action = 'maintain' order by id desc limit 1`,
      ),
    ).toEqual({ table_name: `public.${T}`, status: 'failed' });
  });

  it('a period whose partition cannot be made fails alone: the other periods move and premake happens', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    // the name of October's partition is taken by an unrelated table
    await db.exec(`create table ${T}_2026_10 (note text);
      insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'october', '2026-10-05'), (1, 1, 'november', '2026-11-05')`);
    const before = await fingerprint(db);
    const run = await maintain(db);
    expect(run.status).toBe('failed');
    expect(run.warnings).toEqual([
      expect.objectContaining({ code: 'conflict', sqlstate: 'PK006', period: '2026-10-01T00:00:00+00:00' }),
      expect.objectContaining({ code: 'rows_in_default' }),
    ]);
    expect(run.created.map((c) => c.lower.slice(0, 7))).toEqual(['2027-01', '2027-02', '2027-03', '2026-11', '2026-12']);
    expect(run.rows_moved).toBe(1);
    expect(run.left_in_default).toEqual([expect.objectContaining({ period: '2026-10-01T00:00:00+00:00', rows: 1, reason: 'conflict' })]);
    expect(await fingerprint(db)).toEqual(before);
  });

  it('keys PostgreSQL can store but not compute with stay in DEFAULT with their own reason, and never stop a run', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await db.exec(`create table ev (id int, at timestamptz) partition by range (at);
      create table days (id int, on_day date) partition by range (on_day);
      create table local (id int, at timestamp) partition by range (at)`);
    for (const t of ['ev', 'days', 'local']) await db.query(`select partkeeper.register_table($1)`, [t]);
    await db.exec(`insert into ev values (1, 'infinity'), (2, '-infinity'), (3, '294276-12-31 23:59:59+00'), (4, '4713-01-01 00:00:00+00 BC'),
        (5, null), (6, '2026-12-05'), (7, '2099-06-01');
      insert into days values (1, 'infinity'), (2, '-infinity'), (3, '5874897-12-31'), (4, '4713-01-01 BC'), (5, '2026-12-05');
      insert into local values (1, 'infinity'), (2, '-infinity'), (3, '294276-12-31 23:59:59'), (4, '2026-12-05')`);
    for (const t of ['ev', 'days', 'local']) {
      const run = await maintain(db, t);
      expect(run.status, t).toBe('warning');
      expect(run.complete, t).toBe(true);
      expect(codes(run), t).toEqual(['rows_in_default']);
      expect(run.rows_moved, t).toBe(1);
      expect(
        run.created.map((c) => c.lower.slice(0, 7)),
        t,
      ).toEqual(['2027-01', '2027-02', '2027-03', '2026-12']);
    }
    const reasons = (await maintain(db, 'ev')).left_in_default.map((l) => [l.period, l.rows, l.reason]);
    expect(reasons).toEqual([
      [null, 1, 'null_key'],
      [null, 1, 'out_of_range'],
      ['-infinity', 1, 'infinite_key'],
      ['4713-01-01T00:00:00+00:00 BC', 1, 'before_window'],
      ['2099-06-01T00:00:00+00:00', 1, 'after_window'],
      ['infinity', 1, 'infinite_key'],
    ]);
    expect(await defaultRows(db, 'ev')).toBe(6);
  });

  it('a registered table that was dropped is reported by name: failed run, health error, and the others are maintained', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await db.exec(`create schema app; create table app.events (at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('app.events')`);
    const oid = (await db.one<{ o: number }>(`select 'app.events'::regclass::oid::int as o`)).o;
    await db.exec(`drop table app.events`);
    const all = await maintainAll(db);
    expect(all.status).toBe('failed');
    expect(all.tables.map((t) => [t.table, t.status, 'error' in t ? (t.error?.code ?? null) : null])).toEqual([
      ['app.events', 'failed', 'table_missing'],
      [`public.${T}`, 'ok', null],
    ]);
    const h = await health(db);
    expect(h.checks.find((c) => c.check === 'table_exists')).toMatchObject({
      status: 'error',
      table: 'app.events',
      fix: `SELECT partkeeper.unregister_table(${oid}); as the installing role or a superuser.`,
    });
    expect((await status(db)).tables.map((t) => [t.table, t.exists])).toEqual([
      ['app.events', false],
      [`public.${T}`, true],
    ]);
    expect(await db.one(`select partkeeper.unregister_table(${oid}) ->> 'table' as t`)).toEqual({ t: 'app.events' });
    expect((await health(db)).checks.some((c) => c.check === 'table_exists')).toBe(false);
  });
});

describe('retention and gap healing agree', () => {
  it('retires oldest first, and never makes a retired range again: not as a gap, not for late rows, not for premake', async () => {
    const db = await freshDb();
    await setClock(db, '2026-06-10 00:00:00+00');
    await db.query(`select partkeeper.configure('${T}', p_drain_window_back => '3 years', p_premake => 1)`);
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at)
                   select 1, 1, 'x', d from generate_series(timestamptz '2026-01-15', '2026-06-09', interval '1 month') d`);
    await maintain(db);
    expect(await months(db)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07']);
    await db.query(`select partkeeper.configure('${T}', p_retention => '2 months', p_require_archive => true)`);
    // archives of February and March only: January has none, so nothing newer may retire either
    for (const m of ['02', '03']) {
      await db.query(`select partkeeper.record_archive('${T}_2026_${m}', '/archives/${m}', 'partkeeper-archive/1', 1, 10, 'sha256:00')`);
    }
    const kept = await maintain(db);
    expect(kept.retired).toEqual([]);
    expect(kept.warnings.filter((w) => w.code === 'expired_kept').map((w) => [w.partition, w.reason])).toEqual([
      [`public.${T}_2026_01`, 'archive_missing'],
    ]);
    // January archived too: all three go, oldest first
    await db.query(`select partkeeper.record_archive('${T}_2026_01', '/archives/01', 'partkeeper-archive/1', 1, 10, 'sha256:00')`);
    const retired = await maintain(db);
    expect(retired.retired.map((r) => r.partition.slice(-7))).toEqual(['2026_01', '2026_02', '2026_03']);
    expect(await db.one(`select retired_before from partkeeper.config`)).toEqual({ retired_before: '2026-04-01 00:00:00+00' });

    // a late row of a retired month stays in DEFAULT, said why; a clock back there makes nothing
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'late', '2026-02-20')`);
    const late = await maintain(db);
    expect(late.created).toEqual([]);
    expect(late.left_in_default).toEqual([expect.objectContaining({ period: '2026-02-01T00:00:00+00:00', reason: 'retired' })]);
    await setClock(db, '2026-02-10 00:00:00+00');
    await db.query(`select partkeeper.configure('${T}', p_retention => '0')`);
    const back = await maintain(db);
    expect(back.created).toEqual([]);
    expect(await months(db)).toEqual(['2026-04', '2026-05', '2026-06', '2026-07']);
  });

  it('an archive that holds more rows than the partition now does is never advised to be replaced', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-10 00:00:00+00');
    await maintain(db);
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) select 1, 1, 'x', '2026-01-11' from generate_series(1, 5)`);
    await db.query(`select partkeeper.record_archive('${T}_2026_01', '/archives/01', 'partkeeper-archive/1', 5, 10, 'sha256:00')`);
    await db.exec(`delete from ${T} where ctid in (select ctid from ${T} limit 2)`);
    await db.query(`select partkeeper.configure('${T}', p_retention => '1 month', p_require_archive => true)`);
    await setClock(db, '2026-03-10 00:00:00+00');
    const run = await maintain(db);
    const kept = run.warnings.find((w) => w.code === 'expired_kept')!;
    expect(kept).toMatchObject({ reason: 'archive_larger', partition: `public.${T}_2026_01` });
    expect(kept.message).toMatch(/its archive holds 5 rows, more than the 3 /);
    expect(kept.message).not.toMatch(/archive it again/);
    await expectSqlState(
      db.query(`select partkeeper.record_archive('${T}_2026_01', '/a', 'partkeeper-archive/1', 5, 10, 'sha256:00')`),
      'PK006',
    );
  });
});
