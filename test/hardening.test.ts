// What a DBA trying to break partkeeper found, each as a kind: roles that must be able to watch or
// maintain and could not, roles that could do more than they should, time zones whose midnight
// happens twice, settings that made every run fail, ranges made again after retention.
import { describe, expect, it } from 'vitest';
import { applyBundle, expectSqlState, freshDb, itServer, setClock } from '../harness/testing.ts';
import { codes, defaultRows, health, maintain, partitions, runMaintenance, status, withRoles } from '../harness/support.ts';

const T = 'livechat_messages';

describe('roles do what they are documented to do', () => {
  it('a monitoring role reads status() and health() of every table, including ones it may not maintain', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await maintain(db);
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'parked', '2099-01-01')`);
    await maintain(db);
    await withRoles(db, ['mon'], async ({ mon }) => {
      await db.query('select partkeeper.grant_monitoring($1)', [mon]);
      await db.exec(`set role ${mon}`);
      expect((await status(db)).tables).toEqual([expect.objectContaining({ table: `public.${T}`, default_rows: 1 })]);
      const { checks } = await health(db);
      expect(checks.find((c) => c.check === 'pruning')).toMatchObject({ status: 'info' });
      expect(checks.find((c) => c.check === 'default_rows')).toMatchObject({ status: 'warning' });
      // the troubleshooting check, the table named as text
      expect(await db.query(`select partition::text from partkeeper.partition_bounds('${T}') where is_default`)).toEqual([
        { partition: `${T}_default` },
      ]);
      await expectSqlState(db.query(`select partkeeper.maintain_table('${T}')`), '42501');
      await db.exec('reset role');
    });
  });

  it('a NOINHERIT maintenance role maintains tables in schemas it has no USAGE on, through the scheduled procedure', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await withRoles(db, ['owner', 'maint'], async ({ owner, maint }) => {
      await db.exec(`create schema chat authorization ${owner}; alter role ${maint} noinherit; grant ${owner} to ${maint};
        set role ${owner}; create table chat.msgs (at timestamptz not null) partition by range (at); reset role`);
      await db.query('select partkeeper.grant_maintenance($1), partkeeper.grant_maintenance($2)', [owner, maint]);
      await db.exec(`set role ${owner}; select partkeeper.register_table('chat.msgs'); reset role`);
      await db.exec(`set role ${maint}`);
      const r = await runMaintenance(db);
      await db.exec('reset role');
      expect(r.tables.find((t) => t.table === 'chat.msgs')).toMatchObject({
        status: 'ok',
        created: expect.arrayContaining([expect.anything()]),
      });
      expect(await db.one(`select has_schema_privilege($1, 'chat', 'usage') as u`, [maint])).toEqual({ u: false });
      await db.exec('drop schema chat cascade');
    });
  });

  it("maintenance by a role that may not maintain a table leaves that table's last run and log alone, also as a member of partkeeper's owner", async () => {
    const db = await freshDb({ bundle: false });
    await setClock(db, '2027-01-10 00:00:00+00');
    await withRoles(db, ['installer', 'maint', 'other'], async ({ installer, maint, other }) => {
      // installed by a table owner, whose maintenance role is a member of it (the README's setup): row-level
      // security does not apply to that member, as partkeeper's tables are its owner's
      await db.exec(`grant create on database ${db.name} to ${installer}; grant create on schema public to ${installer}, ${other};
        grant ${installer} to ${maint}; set role ${installer}`);
      await applyBundle(db);
      await db.exec('reset role');
      await db.query('select partkeeper.grant_maintenance($1), partkeeper.grant_maintenance($2)', [maint, other]);
      await db.exec(`set role ${other}; create table events (at timestamptz not null) partition by range (at);
        select partkeeper.register_table('events'); select partkeeper.maintain_table('events'); reset role`);
      const before = await db.one(`select status, result from partkeeper.last_run where parent = 'events'::regclass`);
      const logged = await db.one<{ n: number }>(`select count(*)::int as n from partkeeper.log where table_name = 'public.events'`);
      await db.exec(`set role ${maint}`);
      const r = await runMaintenance(db);
      await db.exec('reset role');
      expect(r.tables.find((t) => t.table === 'public.events')).toMatchObject({
        status: 'failed',
        error: { code: 'not_owner', sqlstate: 'PK007' },
      });
      expect(await db.one(`select status, result from partkeeper.last_run where parent = 'events'::regclass`)).toEqual(before);
      expect(await db.one(`select count(*)::int as n from partkeeper.log where table_name = 'public.events'`)).toEqual(logged);
      await db.exec(`drop table events; revoke create on database ${db.name} from ${installer}`);
    });
  });

  it("the log cannot be written in another table's or another role's name, nor maintenance of another's table kept busy", async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await withRoles(db, ['owner', 'app'], async ({ owner, app }) => {
      await db.exec(
        `grant create on schema public to ${owner}; set role ${owner}; create table mine (at timestamptz not null) partition by range (at); reset role`,
      );
      await db.query('select partkeeper.grant_maintenance($1)', [owner]);
      await db.exec(`set role ${owner}; select partkeeper.register_table('mine')`);
      // its own table: the row is stamped with its login role, now, and the table's real name
      await db.exec(`insert into partkeeper.log (clock, parent, table_name, action, run_by, logged_at)
                     values (now(), 'mine'::regclass, 'public.${T}', 'forged', 'pg_monitor', '2000-01-01')`);
      // no table: refused; another table: refused
      await expectSqlState(
        db.exec(`insert into partkeeper.log (clock, table_name, action) values (now(), 'public.${T}', 'retire')`),
        '42501',
      );
      await expectSqlState(
        db.exec(`insert into partkeeper.log (clock, parent, action) values (now(), '${T}'::regclass, 'retire')`),
        '42501',
      );
      await db.exec('reset role');
      const forged = await db.one<{ table_name: string; stamped: boolean; old: boolean }>(
        `select table_name, run_by = session_user as stamped, logged_at < '2001-01-01' as old from partkeeper.log where action = 'forged'`,
      );
      expect(forged).toEqual({ table_name: 'public.mine', stamped: true, old: false });
      // an application role cannot hold the lock that makes maintenance say "busy"
      await db.exec(`grant select, insert on ${T} to ${app}; set role ${app}`);
      await expectSqlState(db.query(`select from partkeeper.config for update`), '42501');
      await db.exec('reset role');
      await db.exec(`drop table mine; revoke create on schema public from ${owner}`);
    });
  });
});

describe('time zones and settings', () => {
  it('a row at a local midnight that happens twice is placed in the partition whose bounds hold it', async () => {
    const db = await freshDb();
    // Havana leaves DST at 01:00 on 2026-11-01, back to 00:00: 00:30 happens twice. The first
    // 00:30 (04:30 UTC) is still before November's first instant, 05:00 UTC.
    await db.exec(`create table hav (id int, at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('hav')`);
    await db.query(`select partkeeper.configure('hav', p_time_zone => 'America/Havana')`);
    await setClock(db, '2026-11-10 00:00:00+00');
    await maintain(db, 'hav');
    await db.exec(`insert into hav values (1, '2026-11-01 04:30+00'), (2, '2026-11-01 05:30+00')`);
    const run = await maintain(db, 'hav');
    expect(run).toMatchObject({ status: 'ok', complete: true, rows_moved: 1, default_rows: 0 });
    expect(await db.query(`select id, tableoid::regclass::text as p from hav order by id`)).toEqual([
      { id: 1, p: 'hav_2026_10' },
      { id: 2, p: 'hav_2026_11' },
    ]);
  });

  it('refuses drain windows that would make every run plan centuries, and a row far ahead makes its own partition, not every one before it', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await expectSqlState(db.query(`select partkeeper.configure('${T}', p_drain_window_ahead => '300000 years')`), 'PK001');
    await db.query(`select partkeeper.configure('${T}', p_part_interval => 'day', p_premake => 2)`);
    await maintain(db);
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'early', '2027-11-20 12:00+00')`);
    const run = await maintain(db);
    expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });
    expect(run.created.map((c) => c.lower.slice(0, 10))).toEqual(['2027-11-20']);
    expect((await partitions(db)).filter((p) => !p.is_default)).toHaveLength(4);
  });

  it('refuses a retention schema the owner cannot create in', async () => {
    const db = await freshDb();
    await withRoles(db, ['owner'], async ({ owner }) => {
      await db.exec(`create schema attic; alter table ${T} owner to ${owner}`);
      const e = await expectSqlState(
        db.query(
          `select partkeeper.configure('${T}', p_retention => '1 year', p_retention_mode => 'detach', p_retention_schema => 'attic')`,
        ),
        'PK001',
      );
      expect(e.hint).toBe(`Detached partitions move there as the table's owner: GRANT CREATE ON SCHEMA attic TO ${owner};`);
      await db.exec(`alter table ${T} owner to current_user; drop schema attic`);
    });
  });
});

describe('what retention retired stays retired', () => {
  it('a partition is not made by hand in a retired range, and one restored there is left to the DBA', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-10 00:00:00+00');
    await maintain(db);
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'january', '2026-01-11')`);
    await db.query(`select partkeeper.configure('${T}', p_retention => '1 month')`);
    await setClock(db, '2026-04-10 00:00:00+00');
    expect((await maintain(db)).retired.map((r) => r.partition)).toEqual([`public.${T}_2026_01`, `public.${T}_2026_02`]);
    await expectSqlState(db.query(`select create_monthly_partition('${T}', '2026-01-01')`), 'PK001');
    // a restore brings January back; retention does not take it again
    await db.exec(
      `create table restored (like ${T}); insert into restored (id, room_id, sender_id, body, created_at) values (1, 1, 1, 'january', '2026-01-11')`,
    );
    await db.query(`select partkeeper.attach_restored('${T}', 'restored', '2026-01-01', '2026-02-01')`);
    const run = await maintain(db);
    expect(run.retired).toEqual([]);
    expect(await db.one(`select count(*)::int as n from ${T} where created_at < '2026-02-01'`)).toEqual({ n: 1 });
  });

  it('a partition restored below the retired range is not the next to expire, and a settled table stays settled', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-10 00:00:00+00');
    await maintain(db);
    await db.query(`select partkeeper.configure('${T}', p_retention => '1 month')`);
    await setClock(db, '2026-04-10 00:00:00+00');
    expect((await maintain(db)).retired.map((r) => r.partition)).toEqual([`public.${T}_2026_01`, `public.${T}_2026_02`]);
    await db.exec(`create table restored (like ${T})`);
    await db.query(`select partkeeper.attach_restored('${T}', 'restored', '2026-02-01', '2026-03-01')`);
    // retention never takes February again: March is the next to expire, and at a time still ahead
    const next = { partition: `public.${T}_2026_03`, at: '2026-05-01T00:00:00+00:00' };
    const run = await maintain(db);
    expect(run).toMatchObject({ status: 'ok', complete: true, retired: [], next_expiry: next });
    expect((await status(db)).tables[0]).toMatchObject({ retention: { next_expiry: next } });
    // so the next runs may take the settled shortcut until then
    expect(await db.one(`select inputs ->> 'expires_at' as at from partkeeper.last_run`)).toEqual({ at: next.at });
  });

  it("a table made LIKE ... INCLUDING ALL is attached on every version: the parent's identity numbers the rows", async () => {
    // PostgreSQL 17+ refuses to attach a table with an identity column of its own; before 17 it would
    // keep its own sequence. Either way the restored partition must use the parent's.
    const db = await freshDb();
    await setClock(db, '2026-03-10 00:00:00+00');
    await maintain(db);
    await db.exec(
      `create table restored (like ${T} including all);
       insert into restored (room_id, sender_id, body, created_at) values (1, 1, 'january', '2026-01-11'), (1, 1, 'january', '2026-01-12')`,
    );
    await db.query(`select partkeeper.attach_restored('${T}', 'restored', '2026-01-01', '2026-02-01')`);
    expect(await db.one(`select count(*)::int as n from ${T} where created_at < '2026-02-01'`)).toEqual({ n: 2 });
    // the table's own identity sequence is gone
    expect(
      await db.one(
        `select count(*)::int as n from pg_depend d join pg_class s on s.oid = d.objid
          where d.refobjid = 'restored'::regclass and s.relkind = 'S'`,
      ),
    ).toEqual({ n: 0 });
    const { next } = await db.one<{ next: string }>(`select nextval(pg_get_serial_sequence('${T}', 'id'))::text as next`);
    const { id, rel } = await db.one<{ id: string; rel: string }>(
      `insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'later', '2026-01-20') returning id::text, tableoid::regclass::text as rel`,
    );
    expect({ id, rel }).toEqual({ id: String(Number(next) + 1), rel: 'restored' });
  });
});

describe('a race is transient, not a failure', () => {
  itServer(
    'a row committed into the DEFAULT partition while its month is premade: warning rows_arrived, and the next run moves it',
    async () => {
      const db = await freshDb();
      await db.query(`select partkeeper.configure('${T}', p_lock_timeout => '2s')`);
      await setClock(db, '2027-01-10 00:00:00+00');
      await maintain(db);
      await setClock(db, '2027-02-10 00:00:00+00'); // needs 2027-04
      const writer = await db.connect();
      await writer.exec(`begin; insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'early', '2027-04-02')`);
      const m = await db.connect();
      await setClock(m, '2027-02-10 00:00:00+00');
      // maintenance waits for the writer at its SHARE lock; the writer commits; the ATTACH then finds the row
      const running = maintain(m);
      await new Promise((r) => setTimeout(r, 300));
      await writer.exec('commit');
      const run = await running;
      expect(run.status).toBe('warning');
      expect(codes(run)).toContain('rows_arrived');
      expect(await defaultRows(db)).toBe(1);
      const next = await maintain(m);
      expect(next).toMatchObject({ status: 'ok', rows_moved: 1 });
    },
  );
});
