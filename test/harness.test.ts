import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../src/postgres.ts';
import { bundleHash } from '../harness/installed.ts';
import { startServer } from '../harness/server.ts';
import {
  adminDb,
  DbError,
  describeServer,
  expectSqlState,
  freshDb,
  itServer,
  manifestFiles,
  repoRoot,
  setClock,
  setDatabaseClock,
  target,
} from '../harness/testing.ts';

// The harness itself: every assertion here must be able to fail on either backend.
describe(`harness on ${target}`, () => {
  it('query, one, exec and transaction round-trip', async () => {
    const db = await freshDb({ bundle: false });
    expect(db.kind).toBe(target);
    await db.exec(`create table t (id int primary key, v text); insert into t values (1, 'a');`);
    expect(await db.query('select v from t where id = $1', [1])).toEqual([{ v: 'a' }]);
    const got = await db.transaction(async (tx) => {
      await tx.query('insert into t values ($1, $2)', [2, 'b']);
      return tx.one<{ n: number }>('select count(*)::int as n from t');
    });
    expect(got.n).toBe(2);
    expect(await db.query('select id from t order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    await expect(db.one('select id from t')).rejects.toThrow(/exactly one row, got 2/);
    await expect(db.one('select id from t where false')).rejects.toThrow(/exactly one row, got 0/);
    // query() is one statement on both backends (extended protocol).
    await expectSqlState(db.query('select 1; select 2'), '42601');
  });

  it('a failed statement inside transaction rolls back and the db stays usable', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec('create table t (id int primary key)');
    const err = await expectSqlState(
      db.transaction(async (tx) => {
        await tx.query('insert into t values (1)');
        await tx.query('insert into t values (1)');
      }),
      '23505',
    );
    expect(err.constraint).toBe('t_pkey');
    expect(err.detail).toMatch(/already exists/);
    expect(await db.query('select * from t')).toEqual([]);
    // Not stuck in an aborted transaction (PGlite's single connection would be).
    await db.query('insert into t values (2)');
    expect(await db.query('select id from t')).toEqual([{ id: 2 }]);
    // A JS exception rolls back too, and nested transactions are savepoints.
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into t values (3)');
        await expectSqlState(
          tx.transaction(() => tx.query('insert into t values (2)')),
          '23505',
        );
        await tx.query('insert into t values (4)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await db.transaction(async (tx) => {
      await tx.query('insert into t values (5)');
      await expectSqlState(
        tx.transaction(() => tx.query('insert into t values (5)')),
        '23505',
      );
      await tx.query('insert into t values (6)');
    });
    expect((await db.query<{ id: number }>('select id from t order by id')).map((r) => r.id)).toEqual([2, 5, 6]);
    // A script that opens its own transaction and fails is ended, not left aborted.
    await expectSqlState(db.exec('begin; insert into t values (7); select 1/0; commit;'), '22012');
    expect(await db.one('select count(*)::int as n from t where id = 7')).toEqual({ n: 0 });
  });

  it('values come back the same on both backends: date/time, int8, numeric as printed text', async () => {
    const db = await freshDb({ bundle: false });
    const row = await db.one(`select '2024-03-10 01:30:00+00'::timestamptz as tz, '2024-03-10 01:30'::timestamp as ts,
      '2024-03-10'::date as d, '1 mon 2 days'::interval as iv, 9007199254740993::int8 as big, 1.50::numeric as n,
      array['2024-01-01 00:00+00'::timestamptz, null] as tzs, '{"a":[1,2]}'::jsonb as j, 42 as i, true as b, null::text as z`);
    expect(row).toEqual({
      tz: '2024-03-10 01:30:00+00',
      ts: '2024-03-10 01:30:00',
      d: '2024-03-10',
      iv: '1 mon 2 days',
      big: '9007199254740993',
      n: '1.50',
      tzs: ['2024-01-01 00:00:00+00', null],
      j: { a: [1, 2] },
      i: 42,
      b: true,
      z: null,
    });
    expect(await db.one(`select $1::timestamp as ts, $1::timestamptz as tz`, [new Date('2024-05-06T07:08:09Z')])).toEqual({
      ts: '2024-05-06 07:08:09',
      tz: '2024-05-06 07:08:09+00',
    });
    await db.exec(`set timezone = 'America/New_York'`);
    expect((await db.one<{ tz: string }>(`select '2024-03-10 12:00+00'::timestamptz as tz`)).tz).toBe('2024-03-10 08:00:00-04');
  });

  it('errors keep SQLSTATE and fields: division by zero is DbError 22012', async () => {
    const db = await freshDb({ bundle: false });
    const err = await expectSqlState(db.query('select 1/0'), '22012');
    expect(err).toBeInstanceOf(DbError);
    expect(err.message).toBe('division by zero');
    expect(err.severity).toBe('ERROR');
    const raised = await expectSqlState(
      db.exec(`do $$ begin raise exception 'nope' using errcode = 'P0001', detail = 'the detail', hint = 'the hint'; end $$`),
      'P0001',
    );
    expect([raised.message, raised.detail, raised.hint]).toEqual(['nope', 'the detail', 'the hint']);
    // expectSqlState itself must fail on success and on another code.
    await expect(expectSqlState(db.query('select 1'), '22012')).rejects.toThrow(/succeeded/);
    await expect(expectSqlState(db.query('select 1/0'), '23505')).rejects.toThrow(/got 22012/);
  });

  it('notices are collected and the fake clock is a session setting', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec(`do $$ begin raise notice 'hello %', 1; raise warning 'careful'; end $$`);
    expect(db.notices.map((n) => [n.severity, n.message])).toEqual([
      ['NOTICE', 'hello 1'],
      ['WARNING', 'careful'],
    ]);
    await setClock(db, '2030-01-01 00:00+00');
    expect(await db.one(`select current_setting('partkeeper.now') as now`)).toEqual({ now: '2030-01-01 00:00+00' });
    await setClock(db, null);
    expect(await db.one(`select current_setting('partkeeper.now') as now`)).toEqual({ now: '' });
    await setDatabaseClock(db, db.name, `2031-02-03 04:05+00`);
    const cfg = await db.query<{ c: string[] }>(
      `select setconfig as c from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = $1)`,
      [db.name],
    );
    expect(cfg).toEqual([{ c: ['partkeeper.now=2031-02-03 04:05+00'] }]);
    await setDatabaseClock(db, db.name, null);
    expect(
      await db.query(`select 1 from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = $1)`, [db.name]),
    ).toEqual([]);
  });

  it('each fresh database is empty and independent', async () => {
    const a = await freshDb({ bundle: false });
    const b = await freshDb({ bundle: false });
    await a.exec('create table only_in_a (x int)');
    expect(await b.query(`select to_regclass('only_in_a') as r`)).toEqual([{ r: null }]);
    if (target === 'pglite') await expect(a.connect()).rejects.toThrow(/single connection/);
  });

  it('freshDb installs the current bundle by default', async () => {
    const bare = await freshDb({ bundle: false });
    const db = await freshDb();
    const count = `select count(*)::int as n from pg_proc p join pg_namespace s on s.oid = p.pronamespace
                   where s.nspname not in ('pg_catalog', 'information_schema')`;
    expect(await bare.one(count)).toEqual({ n: 0 });
    expect((await db.one<{ n: number }>(count)).n).toBeGreaterThan(0);
  });

  it('the installed state tests copy is keyed by every file of the bundle: an edit anywhere makes a new one', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'partkeeper-bundle-'));
    try {
      cpSync(path.join(repoRoot, 'sql'), path.join(root, 'sql'), { recursive: true });
      expect(bundleHash(root)).toBe(bundleHash());
      // a file the manifest does not name is not part of the bundle
      writeFileSync(path.join(root, 'sql', 'unlisted.sql'), 'select 1;\n');
      expect(bundleHash(root)).toBe(bundleHash());
      const last = manifestFiles(root).at(-1)!;
      appendFileSync(path.join(root, last), '-- edited\n');
      expect(bundleHash(root)).not.toBe(bundleHash());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  describeServer('server sessions', () => {
    itServer("two connections see each other's committed rows, not uncommitted ones", async () => {
      const db = await freshDb({ bundle: false });
      const other = await db.connect();
      await db.exec('create table t (x int)');
      await db.transaction(async (tx) => {
        await tx.query('insert into t values (1)');
        expect(await other.query('select x from t')).toEqual([]);
      });
      expect(await other.query('select x from t')).toEqual([{ x: 1 }]);
      await other.query('insert into t values (2)');
      expect(await db.query('select x from t order by x')).toEqual([{ x: 1 }, { x: 2 }]);
      expect(await db.backendPid()).not.toBe(await other.backendPid());
    });

    itServer('a backend terminated from another session fails its next queries', async () => {
      const db = await freshDb({ bundle: false });
      const victim = await db.connect();
      const pid = await victim.backendPid();
      // With a timeout, pg_terminate_backend waits until the backend is gone.
      expect(await db.one('select pg_terminate_backend($1, 5000) as ok', [pid])).toEqual({ ok: true });
      // Racing the FATAL message, the first failure may be a bare reset (08006).
      const first = await victim.query('select 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(first).toBeInstanceOf(DbError);
      expect(['57P01', '08006']).toContain((first as DbError).code);
      // Once the client has read the FATAL message, the reason is the server's.
      const other = await db.connect();
      const pid2 = await other.backendPid();
      await db.query('select pg_terminate_backend($1, 5000)', [pid2]);
      await new Promise((r) => setTimeout(r, 100));
      const err = await expectSqlState(other.query('select 1'), '57P01');
      expect(err.message).toMatch(/terminating connection/);
      await expectSqlState(other.exec('select 1'), '57P01');
      expect(await db.one('select 1 as one')).toEqual({ one: 1 });
    });

    itServer('drop() terminates remaining sessions and removes the database', async () => {
      const db = await freshDb({ bundle: false });
      const other = await db.connect();
      await other.query('select 1');
      const admin = await adminDb();
      await db.drop();
      expect(await admin.query('select 1 from pg_database where datname = $1', [db.name])).toEqual([]);
    });

    itServer('a private server survives an immediate-shutdown restart with its committed data', async () => {
      const server = await startServer({ pgCron: false });
      try {
        const db = await openPostgres(server.url());
        await db.exec('create table t (x int); insert into t values (1)');
        await server.restart('immediate');
        await expect(db.query('select 1')).rejects.toBeInstanceOf(DbError);
        await db.close();
        const again = await openPostgres(server.url());
        expect(await again.query('select x from t')).toEqual([{ x: 1 }]);
        await again.close();
      } finally {
        await server.stop();
      }
      expect(existsSync(server.dataDir)).toBe(false);
    });
  });

  it('leaves Node errors with five-capital codes (EFBIG, EPERM) alone: only server errors become DbError', () => {
    const fileError = Object.assign(new Error('file too large'), { code: 'EFBIG' });
    expect(DbError.from(fileError)).toBe(fileError);
    const serverError = Object.assign(new Error('division by zero'), { code: '22012', severity: 'ERROR' });
    expect(DbError.from(serverError)).toBeInstanceOf(DbError);
  });
});
