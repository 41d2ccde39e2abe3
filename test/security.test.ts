// Privileges, SECURITY DEFINER hygiene, hostile and wrong input, long names.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from '../harness/db.ts';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import { defaultRows, fingerprint, maintain, partitions, rowsByPartition } from './support.ts';

/** Roles are cluster-wide on a server: unique names, dropped when the test ends. */
async function withRoles(db: Db, names: string[], fn: (roles: Record<string, string>) => Promise<void>): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const roles = Object.fromEntries(names.map((n) => [n, `pk_${n}_${suffix}`]));
  for (const r of Object.values(roles)) await db.exec(`create role ${r}`);
  try {
    await fn(roles);
  } finally {
    await db.exec('reset role');
    for (const r of Object.values(roles)) await db.exec(`drop owned by ${r}; drop role ${r}`);
  }
}

/** The functions partkeeper installs: everything in its schema and the three public wrappers. */
const OURS = `(p.pronamespace = 'partkeeper'::regnamespace
   or p.oid in ('public.create_monthly_partition(text,date)'::regprocedure, 'public.ensure_livechat_partitions()'::regprocedure,
                'public.maintain_livechat_partitions()'::regprocedure))`;

describe('privileges', () => {
  it('PUBLIC can execute none of partkeeper\'s functions and touch none of its tables', async () => {
    const db = await freshDb();
    expect(await db.query(
      `select p.oid::regprocedure::text as f from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        where ${OURS} and a.grantee = 0 and a.privilege_type = 'EXECUTE'`,
    )).toEqual([]);
    expect(await db.query(
      `select c.relname from pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        where c.relnamespace = 'partkeeper'::regnamespace and a.grantee = 0`,
    )).toEqual([]);
    expect(await db.one(`select has_schema_privilege('public', 'partkeeper', 'usage') as u`)).toEqual({ u: false });
  });

  it('every SECURITY DEFINER function pins its search_path', async () => {
    const db = await freshDb();
    const definers = await db.query<{ f: string; config: string[] | null }>(
      `select p.oid::regprocedure::text as f, p.proconfig as config from pg_proc p where ${OURS} and p.prosecdef`,
    );
    expect(definers.map((d) => d.f).sort()).toEqual([
      'partkeeper.create_partition(regclass,date)',
      'partkeeper.ensure_partition_exists()',
      'partkeeper.health(bigint,bigint,bigint,interval,integer)',
      'partkeeper.maintain_all()',
      'partkeeper.maintain_table(regclass,boolean,integer)',
      'partkeeper.status()',
    ]);
    for (const d of definers) expect(d.config).toContain('search_path=pg_catalog, pg_temp');
  });

  it('an insert-only application role inserts rows of any date, and can do nothing else', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await maintain(db);
    await withRoles(db, ['app'], async ({ app }) => {
      await db.exec(`grant select, insert on livechat_messages to ${app}; set role ${app}`);
      await db.query(
        `insert into livechat_messages (room_id, sender_id, body, created_at)
         values (1, 1, 'now', '2025-09-10'), (1, 1, 'future', '2026-05-01'), (1, 1, 'past', '2024-12-31 23:59:59.999999+00'), (1, 1, 'bogus', '2999-01-01')`,
      );
      expect(await db.one(`select count(*)::int as n from livechat_messages`)).toEqual({ n: 4 });
      await expectSqlState(db.query(`select maintain_livechat_partitions()`), '42501');
      await expectSqlState(db.query(`select create_monthly_partition('livechat_messages', '2026-05-01')`), '42501');
      await expectSqlState(db.query(`select partkeeper.maintain_table('livechat_messages')`), '42501');
      await expectSqlState(db.query(`select * from partkeeper.pending`), '42501');
      await db.exec('reset role');
    });
    // the trigger recorded the missing months for the app; maintenance places them
    expect(await db.one(`select count(*)::int as n from partkeeper.pending`)).toEqual({ n: 3 });
    await maintain(db);
    expect(await defaultRows(db)).toBe(1);
  });

  it('a maintenance role granted by grant_maintenance maintains registered tables without owning them', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await db.exec(`create table other (at timestamptz not null) partition by range (at)`);
    await withRoles(db, ['maint'], async ({ maint }) => {
      await db.query(`select partkeeper.grant_maintenance($1)`, [maint]);
      await db.exec(`set role ${maint}`);
      expect((await db.one<{ r: { status: string } }>(`select maintain_livechat_partitions() as r`)).r.status).toBe('ok');
      expect(await db.query(`select create_monthly_partition('livechat_messages', '2027-01-01')`)).toEqual([
        { create_monthly_partition: 'livechat_messages_2027_01' },
      ]);
      // what it may not do: touch tables that are not registered, register, or reconfigure
      await expectSqlState(db.query(`select create_monthly_partition('other', '2025-09-01')`), 'PK007');
      await expectSqlState(db.query(`select partkeeper.register_table('other')`), '42501');
      await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_premake => 9)`), '42501');
      await db.exec('reset role');
    });
    const owners = await db.query<{ owner: string }>(
      `select distinct pg_get_userbyid(c.relowner) as owner from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'livechat_messages'::regclass`,
    );
    expect(owners).toEqual([{ owner: (await db.one<{ u: string }>('select current_user as u')).u }]);
    expect(await db.one(`select premake from partkeeper.config where parent = 'livechat_messages'::regclass`)).toEqual({ premake: 2 });
  });
});

describe('bad input gets its own SQLSTATE and changes nothing', () => {
  async function state(db: Db) {
    return { parts: await partitions(db), log: await db.one(`select count(*)::int as n from partkeeper.log`), rows: await fingerprint(db) };
  }

  it('hostile and wrong table names', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    const before = await state(db);
    for (const name of ['livechat_messages; drop table livechat_messages', 'livechat_messages\'); drop table livechat_messages; --',
      '"livechat_messages', 'no_such_table', 'a.b.c.d', 'other_db.public.livechat_messages']) {
      await expectSqlState(db.query(`select create_monthly_partition($1, '2025-09-01')`, [name]), 'PK002');
    }
    await expectSqlState(db.query(`select create_monthly_partition(null, '2025-09-01')`), 'PK001');
    await expectSqlState(db.query(`select create_monthly_partition('  ', '2025-09-01')`), 'PK001');
    expect(await state(db)).toEqual(before);
  });

  it('NULL, infinite, mid-month and out-of-range dates', async () => {
    const db = await freshDb();
    const before = await state(db);
    for (const d of [null, 'infinity', '-infinity', '2025-09-15', '2025-02-28', '10000-01-01']) {
      const err = await expectSqlState(db.query(`select create_monthly_partition('livechat_messages', $1::date)`, [d]), 'PK001');
      expect(err.hint).toBeTruthy();
    }
    expect(await state(db)).toEqual(before);
  });

  it('tables partkeeper cannot manage', async () => {
    const db = await freshDb();
    await db.exec(`
      create table plain (at timestamptz);
      create table by_list (at timestamptz not null, k text) partition by list (k);
      create table by_expr (at timestamp not null) partition by range (date_trunc('day', at));
      create table by_int (n int) partition by range (n);
      create table by_two (a timestamptz, b timestamptz) partition by range (a, b);
      create view a_view as select 1 as x;
    `);
    for (const t of ['plain', 'by_list', 'by_expr', 'by_int', 'by_two', 'a_view']) {
      await expectSqlState(db.query(`select create_monthly_partition($1, '2025-09-01')`, [t]), 'PK003');
      await expectSqlState(db.query(`select partkeeper.register_table($1)`, [t]), 'PK003');
    }
    expect(await db.one(`select count(*)::int as n from partkeeper.config`)).toEqual({ n: 1 });
  });

  it('a table name full of quotes and spaces is quoted everywhere', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    const name = `Robert'); DROP TABLE "x"; --`;
    await db.exec(`create table "${name.replace(/"/g, '""')}" ("when" timestamptz not null, "a b" int) partition by range ("when")`);
    const ident = (await db.one<{ q: string }>('select quote_ident($1) as q', [name])).q;
    await db.query(`select partkeeper.register_table($1)`, [ident]);
    await db.query(`insert into ${ident} values ('2026-07-01', 1), ('2025-09-10', 2)`);
    await maintain(db, ident);
    expect(await rowsByPartition(db, ident)).toEqual({
      [(await db.one<{ q: string }>('select quote_ident($1) as q', [`${name}_2025_09`])).q]: 1,
      [(await db.one<{ q: string }>('select quote_ident($1) as q', [`${name}_2026_07`])).q]: 1,
    });
  });
});

describe('long names', () => {
  it('shorten the table part by bytes, keep the suffix, and never collide', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    const ascii = 'm'.repeat(62);
    const multibyte = 'é'.repeat(31); // 62 bytes: cutting must not split a character
    for (const t of [ascii, multibyte]) {
      await db.exec(`create table "${t}" (at timestamptz not null) partition by range (at)`);
      await db.query(`select partkeeper.register_table($1)`, [`"${t}"`]);
      await maintain(db, `"${t}"`);
      const names = (await partitions(db, `"${t}"`)).map((p) => p.partition.replace(/"/g, ''));
      expect(names).toHaveLength(4);
      expect(new Set(names).size).toBe(4);
      for (const n of names) {
        expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
        expect(n.startsWith(t.slice(0, 20))).toBe(true);
      }
      expect(names.map((n) => n.replace(/^[mé]+/, ''))).toEqual(['_2025_09', '_2025_10', '_2025_11', '_default']);
    }
  });
});
