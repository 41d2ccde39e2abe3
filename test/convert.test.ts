// Online conversion of a plain table into a managed partitioned one and back (sql/functions/convert_*.sql):
// each step on both databases, the refusals, the dry run; on a server, writers running throughout
// (no failed statement, the converted table equal row by row to what the original would hold, no
// long wait at the swap) and a backend killed inside every step, then the step run again.
import { describe, expect, it } from 'vitest';
import { bundleScript, expectSqlState, freshDb, itServer, type Db, type TestDb } from '../harness/testing.ts';
import { cli, health, withRoles } from '../harness/support.ts';

const json = async <T = Record<string, unknown>>(db: Db, sql: string, params: unknown[] = []): Promise<T> =>
  (await db.one<{ r: T }>(sql, params)).r;
const step = (db: Db, name: string, table = 'public.events') => json(db, `select partkeeper.convert_${name}($1) as r`, [table]);

/** A plain table with what a conversion must carry: identity, a CHECK, a generated column, an index, grants, RLS. */
async function events(db: Db, rows: number, role?: string): Promise<void> {
  await db.exec(`
    create table events (id bigint generated always as identity primary key, room int not null check (room > 0), body text,
      created_at timestamptz not null default now(), doubled int generated always as (room * 2) stored);
    create index events_room_idx on events (room, created_at desc);
    alter table events enable row level security;
    create policy events_rooms on events for select to public using (room < 100);
    insert into events (room, body, created_at)
      select 1 + g % 7, 'message ' || g, timestamptz '2026-03-01' + (g % 2000) * interval '2 hours 7 minutes' from generate_series(1, ${rows}) g;
    analyze events;`);
  if (role) await db.exec(`grant select, insert on events to ${role}`);
}

/** Rows in one table and not the other, counted with duplicates: 0 when the two hold the same rows. */
async function difference(db: Db, a: string, b: string): Promise<number> {
  return Number(
    (
      await db.one<{ n: string }>(
        `select (select count(*) from (table ${a} except all table ${b}) x) + (select count(*) from (table ${b} except all table ${a}) y) as n`,
      )
    ).n,
  );
}

/** What a conversion must keep of a table, without names that follow the table's own. */
async function shape(db: Db, table: string): Promise<string[]> {
  const rows = await db.query<{ line: string }>(
    `select 'column ' || attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull || ' ' || attidentity::text || ' ' || attgenerated::text
            || coalesce(' ' || pg_get_expr(d.adbin, d.adrelid), '') as line
       from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where attrelid = $1::regclass and attnum > 0 and not attisdropped
     union all select 'check ' || pg_get_constraintdef(oid) from pg_constraint where conrelid = $1::regclass and contype = 'c'
     union all select 'index ' || regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') from pg_index
      where indrelid = $1::regclass and not indisprimary
     union all select 'policy ' || policyname || ' ' || cmd || ' ' || qual from pg_policies where (schemaname || '.' || tablename)::regclass = $1::regclass
     union all select 'rls ' || relrowsecurity || ' owner ' || relowner::regrole || ' acl ' || coalesce(relacl::text, '-') from pg_class where oid = $1::regclass
     order by 1`,
    [table],
  );
  return rows.map((r) => r.line);
}

/** The relations of schema public and the recorded conversions: what a refused step must leave as it was. */
async function everything(db: Db): Promise<string> {
  const { f } = await db.one<{ f: string }>(
    `select string_agg(c.relname || ':' || c.relkind::text || ':' || (select count(*) from pg_trigger t where t.tgrelid = c.oid), ',' order by c.relname)
            || '|' || (select count(*) from partkeeper.conversions) || '|' || (select count(*) from partkeeper.config) as f
       from pg_class c where c.relnamespace = 'public'::regnamespace`,
  );
  return f;
}

/** One write of each kind, with a key change across months among them. */
async function writeSome(db: Db, tag: string): Promise<void> {
  await db.exec(`
    insert into events (room, body, created_at) values (3, '${tag} new', '2026-04-02 10:00+00'), (4, '${tag} later', '2026-11-20 10:00+00');
    update events set body = body || ' ${tag}' where id in (select id from events order by id limit 3);
    update events set created_at = created_at + interval '45 days' where id = (select max(id) - 5 from events);
    delete from events where id in (select id from events order by id desc limit 2 offset 7);`);
}

describe('converting a plain table online', () => {
  it('each step on its own, with writes between them; the swap; undo carries back what was written since', async () => {
    const db = await freshDb();
    await events(db, 1500);
    const before = await shape(db, 'events');
    await db.exec('create table expected as table events');
    const mirror = async (tag: string) => {
      await writeSome(db, tag);
      await db.exec('truncate expected; insert into expected table events');
    };

    const prepared = await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    expect(prepared).toMatchObject({
      step: 'prepared',
      already: false,
      twin: 'public.events_twin',
      key_columns: ['id'],
      twin_key: ['id', 'created_at'],
    });
    // the twin: partitioned by the column, registered, with a partition for every month of the data and the premake ones
    expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events_twin'::regclass`)).k).toBe('p');
    // March to July 2026: the months of the rows
    expect((prepared.partitions as string[]).length).toBe(5);
    expect(await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`)).toMatchObject({ already: true });
    await mirror('a');
    // before capture, nothing reaches the twin
    expect(Number((await db.one<{ n: string }>('select count(*) as n from events_twin')).n)).toBe(0);

    expect(await step(db, 'capture')).toMatchObject({ step: 'capturing', already: false });
    expect(await step(db, 'capture')).toMatchObject({ already: true });
    await mirror('b');
    await expectSqlState(step(db, 'verify'), 'PK015');
    const first = await json(db, `select partkeeper.convert_fill_batch('events', 400) as r`);
    expect(first).toMatchObject({ read: 400, done: false });
    await mirror('c');
    const { p_result } = await db.one<{ p_result: Record<string, unknown> }>(
      `call partkeeper.convert_fill('events', 400, '0', null, null)`,
    );
    expect(p_result).toMatchObject({ done: true, step: 'filled' });
    await mirror('d');
    const verified = await step(db, 'verify');
    expect(verified).toMatchObject({ equal: true, step: 'verified', mismatched: [] });
    expect(await difference(db, 'events', 'events_twin')).toBe(0);

    // a verify that finds a difference says where, and the swap is refused
    await db.exec(`alter table events disable trigger partkeeper_capture; update events set body = 'drift' where id = 10;
                   alter table events enable trigger partkeeper_capture`);
    expect(await step(db, 'verify')).toMatchObject({
      equal: false,
      step: 'filled',
      mismatched: [{ period: '2026-03-01 00:00:00+00', rows: expect.any(Number) }],
    });
    await expectSqlState(step(db, 'swap'), 'PK015');
    await db.exec(`update events set body = 'message 10' where id = 10`);
    expect(await step(db, 'verify')).toMatchObject({ equal: true });

    const swapped = await step(db, 'swap');
    expect(swapped).toMatchObject({ step: 'swapped', retired: 'public.events_retired' });
    expect(await step(db, 'swap')).toMatchObject({ already: true });
    expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('p');
    expect(await difference(db, 'events', 'expected')).toBe(0);
    // the same columns, defaults, identity, checks, indexes, policies, owner and grants
    expect(await shape(db, 'events')).toEqual(before);
    // partitions named after the table, registered and maintained under its name
    const parts = await db.query<{ p: string }>(`select partition::text as p from partkeeper.partition_bounds('events') order by 1`);
    expect(parts.map((p) => p.p)).toContain('events_2026_03');
    expect(parts.map((p) => p.p)).toContain('events_default');
    expect((await db.one<{ t: string }>(`select table_name as t from partkeeper.config where parent = 'events'::regclass`)).t).toBe(
      'public.events',
    );
    // identity continues after the original's last value
    const { id } = await db.one<{ id: string }>(
      `insert into events (room, body, created_at) values (5, 'after swap', '2026-05-05') returning id`,
    );
    expect(Number(id)).toBeGreaterThan(
      Number((await db.one<{ m: string }>('select max(id) as m from events_retired where body <> $1', ['after swap'])).m),
    );
    await mirror('e');
    // every write since the swap reached the retired table too
    expect(await difference(db, 'events_retired', 'expected')).toBe(0);

    const undone = await step(db, 'undo');
    expect(undone).toMatchObject({ undone_from: 'swapped' });
    expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
    expect(await difference(db, 'events', 'expected')).toBe(0);
    expect(await shape(db, 'events')).toEqual(before);
    expect(
      await db.query(
        `select from pg_class where relname like 'events\\_%' and relkind in ('r', 'p') and relnamespace = 'public'::regnamespace`,
      ),
    ).toEqual([]);
    expect(await db.query(`select from pg_trigger where tgrelid = 'events'::regclass`)).toEqual([]);
    const again = await db.one<{ id: string }>(`insert into events (room, body) values (6, 'after undo') returning id`);
    expect(Number(again.id)).toBeGreaterThan(Number(id));
  });

  it('undo before the swap drops the twin and leaves the table as it was', async () => {
    const db = await freshDb();
    await events(db, 300);
    await db.exec('create table expected as table events');
    const before = await everything(db);
    for (const upTo of ['prepare', 'capture', 'fill']) {
      await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
      if (upTo !== 'prepare') await step(db, 'capture');
      if (upTo === 'fill') await json(db, `select partkeeper.convert_fill_batch('events', 100) as r`);
      expect(await step(db, 'undo')).toMatchObject({ undone_from: upTo === 'prepare' ? 'prepared' : 'capturing' });
      expect(await everything(db)).toBe(before);
      expect(await difference(db, 'events', 'expected')).toBe(0);
    }
  });

  it('finish, then unpartition back into a plain table, online in the same way', async () => {
    const db = await freshDb();
    await events(db, 800);
    const before = await shape(db, 'events');
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    for (const s of ['capture', 'fill_batch', 'verify', 'swap', 'finish']) await step(db, s);
    expect(await step(db, 'finish')).toMatchObject({ already: true, step: 'finished' });
    expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
    await db.exec('drop table events_retired; create table expected as table events');

    const prepared = await json(db, `select partkeeper.convert_prepare('events', p_unpartition => true) as r`);
    expect(prepared).toMatchObject({ direction: 'unpartition', twin: 'public.events_twin', key_columns: ['id', 'created_at'] });
    await step(db, 'capture');
    await writeSome(db, 'u');
    await db.exec('truncate expected; insert into expected table events');
    await db.one(`call partkeeper.convert_fill('events', 250, '0', null, null)`);
    expect(await step(db, 'verify')).toMatchObject({ equal: true });
    await step(db, 'swap');
    await writeSome(db, 'v');
    await db.exec('truncate expected; insert into expected table events');
    expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
    expect(await difference(db, 'events', 'expected')).toBe(0);
    expect(await difference(db, 'events_retired', 'expected')).toBe(0);
    await step(db, 'finish');
    // the retired partitioned table is no longer maintained; the plain one keeps what the original had
    expect(await db.query(`select from partkeeper.config where parent = 'events_retired'::regclass`)).toEqual([]);
    expect((await shape(db, 'events')).filter((l) => !l.startsWith('index'))).toEqual(before.filter((l) => !l.startsWith('index')));
  });

  it('serial columns: the sequence follows the table that holds the name, through the swap and back', async () => {
    const db = await freshDb();
    await db.exec(`create table tickets (id serial primary key, no bigint generated by default as identity, at timestamptz not null, note text);
                   insert into tickets (at, note) select timestamptz '2026-05-01' + g * interval '1 day', 'n' || g from generate_series(1, 50) g`);
    await json(db, `select partkeeper.convert_prepare('tickets', 'at') as r`);
    for (const s of ['capture', 'fill_batch', 'verify', 'swap']) await step(db, s, 'public.tickets');
    const owned = async () =>
      await db.one<{ s: string | null; p: string }>(
        `select pg_get_serial_sequence('tickets', 'id') as s, relkind::text as p from pg_class where oid = 'tickets'::regclass`,
      );
    expect(await owned()).toEqual({ s: 'public.tickets_id_seq', p: 'p' });
    expect(await db.one(`insert into tickets (at) values ('2026-05-03') returning id, no`)).toEqual({ id: 51, no: '51' });
    await step(db, 'undo', 'public.tickets');
    expect(await owned()).toEqual({ s: 'public.tickets_id_seq', p: 'r' });
    expect(await db.one(`insert into tickets (at) values ('2026-05-04') returning id, no`)).toEqual({ id: 52, no: '52' });
  });

  it('refuses what it cannot convert with a code and a hint, and changes nothing', async () => {
    const db = await freshDb();
    await events(db, 50);
    await db.exec(`
      create table nokey (id int, created_at timestamptz not null);
      create table wrongtype (id int primary key, created_at text);
      create table nulls (id int primary key, created_at timestamptz); insert into nulls values (1, null);
      create table uniq (id int primary key, created_at timestamptz not null, code text unique);
      create table referenced (id int primary key, created_at timestamptz not null);
      create table referencing (id int references referenced);
      create table triggered (id int primary key, created_at timestamptz not null);
      create function nothing() returns trigger language plpgsql as 'begin return new; end';
      create trigger t before insert on triggered for each row execute function nothing();
      create table viewed (id int primary key, created_at timestamptz not null);
      create view a_view as select * from viewed;
      create table published (id int primary key, created_at timestamptz not null);
      create publication pub for table published;`);
    const before = await everything(db);
    const cases: [string, string | null, string][] = [
      ['missing_table', 'created_at', 'PK002'],
      ['livechat_messages', 'created_at', 'PK003'],
      ['nokey', 'created_at', 'PK003'],
      ['wrongtype', 'created_at', 'PK003'],
      ['events', 'body', 'PK003'],
      ['events', 'no_such_column', 'PK003'],
      ['events', null, 'PK001'],
      ['nulls', 'created_at', 'PK003'],
      ['uniq', 'created_at', 'PK003'],
      ['referenced', 'created_at', 'PK014'],
      ['triggered', 'created_at', 'PK014'],
      ['viewed', 'created_at', 'PK014'],
      ['published', 'created_at', 'PK014'],
    ];
    for (const [table, column, code] of cases) {
      const e = await expectSqlState(db.query(`select partkeeper.convert_prepare(to_regclass($1), $2)`, [table, column]), code);
      expect(e.hint, `${table}: hint`).toBeTruthy();
    }
    await expectSqlState(db.query(`select partkeeper.convert_prepare('events', p_unpartition => true)`), 'PK003');
    for (const s of ['capture', 'fill_batch', 'verify', 'swap', 'undo', 'finish']) await expectSqlState(step(db, s), 'PK015');
    expect(await everything(db)).toBe(before);
  });

  it('--dry-run prints the statements of a step and changes nothing', async () => {
    const db = await freshDb();
    await events(db, 100);
    const before = await everything(db);
    const dry = await json<{ statements: string[] }>(
      db,
      `select partkeeper.convert_prepare('events', 'created_at', p_dry_run => true) as r`,
    );
    expect(dry.statements[0]).toMatch(/^create table public\.events_twin \(like public\.events .*\) partition by range \(created_at\)$/);
    expect(dry.statements.join(';')).toMatch(/create index on public\.events_twin USING btree \(room, created_at DESC\)/);
    expect(await everything(db)).toBe(before);
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    const mid = await everything(db);
    for (const s of ['capture', 'undo']) {
      const r = await json<{ statements: string[] }>(db, `select partkeeper.convert_${s}('events', true) as r`);
      expect(r.statements.length).toBeGreaterThan(0);
      expect(await everything(db)).toBe(mid);
    }
  });

  it('a role that owns the table converts it; a role that does not gets PK007', async () => {
    const db = await freshDb();
    await withRoles(db, ['owner', 'stranger'], async ({ owner, stranger }) => {
      await db.exec(
        `grant create on schema public to ${owner}; select partkeeper.grant_maintenance('${owner}'); select partkeeper.grant_maintenance('${stranger}')`,
      );
      await db.exec(`set role ${owner}`);
      await events(db, 200);
      await db.exec(`reset role; set role ${stranger}`);
      await expectSqlState(db.query(`select partkeeper.convert_prepare('public.events', 'created_at')`), 'PK007');
      await db.exec(`reset role; set role ${owner}`);
      await json(db, `select partkeeper.convert_prepare('public.events', 'created_at') as r`);
      await step(db, 'capture');
      await db.one(`call partkeeper.convert_fill('public.events', 100, '0', null, null)`);
      expect(await step(db, 'verify')).toMatchObject({ equal: true });
      await step(db, 'swap');
      expect((await db.one<{ o: string }>(`select relowner::regrole::text as o from pg_class where oid = 'events'::regclass`)).o).toBe(
        owner,
      );
      // the owner drops the retired table before finish: its writes go on, and it finishes the conversion
      await db.exec('drop table events_retired');
      await writeSome(db, 'owner');
      expect(await step(db, 'finish')).toMatchObject({ step: 'finished', retired_dropped: true });
      await db.exec('reset role; drop table events');
    });
  });
});

/** The conversion's recorded step, or null when none is recorded. */
async function recordedStep(db: Db, table = 'public.events'): Promise<string | null> {
  return (await db.query<{ step: string }>('select step from partkeeper.conversions where table_name = $1', [table]))[0]?.step ?? null;
}

/** Every SQL call a hint names, in order. */
const calls = (hint: string | undefined) => [...(hint ?? '').matchAll(/\b(?:SELECT|CALL) partkeeper\.[a-z_]+\([^;]*\);/g)].map((m) => m[0]);

/** The health() check of the conversion of a table, if any. */
async function conversionCheck(db: Db, table = 'public.events') {
  return (await health(db)).checks.filter((c) => c.check === 'conversion' && c.table === table);
}

describe('a conversion left half-way, and what sees it', () => {
  it('a step run out of order names the one call to run next, and that call runs', async () => {
    const db = await freshDb();
    await events(db, 300);
    // nothing under way: how to start, in the direction the table allows
    let e = await expectSqlState(step(db, 'capture'), 'PK015');
    expect(calls(e.hint)).toEqual([expect.stringMatching(/^SELECT partkeeper\.convert_prepare\('public\.events', /)]);
    e = await expectSqlState(step(db, 'capture', 'livechat_messages'), 'PK015');
    expect(calls(e.hint)).toEqual([`SELECT partkeeper.convert_prepare('public.livechat_messages', p_unpartition => true);`]);

    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    // at each step a wrong one is refused; the hint's one call is the next step, and running it moves on
    for (const [wrong, next, after] of [
      ['swap', 'convert_capture', 'capturing'],
      ['verify', 'convert_fill', 'filled'],
      ['swap', 'convert_verify', 'verified'],
      ['finish', 'convert_swap', 'swapped'],
    ] as const) {
      e = await expectSqlState(step(db, wrong), 'PK015');
      expect(calls(e.hint), `${wrong} at ${await recordedStep(db)}`).toEqual([
        expect.stringContaining(`partkeeper.${next}('public.events')`),
      ]);
      await db.exec(calls(e.hint)[0]!);
      expect(await recordedStep(db)).toBe(after);
    }
    // after the swap: finish next, or undo instead; each a call of its own
    e = await expectSqlState(step(db, 'capture'), 'PK015');
    expect(calls(e.hint)).toEqual([
      `SELECT partkeeper.convert_finish('public.events');`,
      `SELECT partkeeper.convert_undo('public.events');`,
    ]);
    await db.exec(calls(e.hint)[0]!);
    expect(await recordedStep(db)).toBe('finished');
    // finished: nothing is left; going back is a conversion the other way
    e = await expectSqlState(step(db, 'undo'), 'PK015');
    expect(calls(e.hint)).toEqual([`SELECT partkeeper.convert_prepare('public.events', p_unpartition => true);`]);
    await db.exec(calls(e.hint)[0]!);
    expect(await recordedStep(db)).toBe('prepared');
  });

  it('prepare refuses a conversion the other way, or by another column, while one is under way', async () => {
    const db = await freshDb();
    await events(db, 100);
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    const before = await everything(db);
    for (const e of [
      await expectSqlState(db.query(`select partkeeper.convert_prepare('events', p_unpartition => true)`), 'PK015'),
      await expectSqlState(db.query(`select partkeeper.convert_prepare('events', 'body')`), 'PK015'),
    ])
      expect(calls(e.hint)).toEqual([
        `SELECT partkeeper.convert_capture('public.events');`,
        `SELECT partkeeper.convert_undo('public.events');`,
      ]);
    expect(await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`)).toMatchObject({ already: true });
    expect(await json(db, `select partkeeper.convert_prepare('events') as r`)).toMatchObject({ already: true });
    expect(await everything(db)).toBe(before);
  });

  it('the retired table dropped before finish: writes go on, undo refuses, finish ends it and says so', async () => {
    const db = await freshDb();
    await events(db, 400);
    await db.exec('create table expected as table events');
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    for (const s of ['capture', 'fill_batch', 'verify', 'swap']) await step(db, s);
    await db.exec('drop table events_retired');
    // the carry-back trigger finds nothing to carry to: the application's writes do not fail
    await writeSome(db, 'gone');
    await db.exec('truncate expected; insert into expected table events');
    expect(await conversionCheck(db)).toEqual([
      expect.objectContaining({ status: 'error', message: expect.stringMatching(/public\.events_retired/) }),
    ]);
    const e = await expectSqlState(step(db, 'undo'), 'PK002');
    expect(e.message).toMatch(/public\.events_retired/);
    expect(calls(e.hint)).toEqual([`SELECT partkeeper.convert_finish('public.events');`]);
    expect(await step(db, 'finish')).toMatchObject({
      step: 'finished',
      already: false,
      retired: 'public.events_retired',
      retired_dropped: true,
    });
    expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
    expect(await db.query(`select from pg_proc where proname = 'events_pk_capture'`)).toEqual([]);
    expect(await conversionCheck(db)).toEqual([]);
    await writeSome(db, 'after');
    expect(await step(db, 'finish')).toMatchObject({ already: true });

    // the same after unpartition, whose retired table is registered until finish
    await json(db, `select partkeeper.convert_prepare('events', p_unpartition => true) as r`);
    for (const s of ['capture', 'fill_batch', 'verify', 'swap']) await step(db, s);
    await db.exec('drop table events_retired');
    await writeSome(db, 'gone again');
    expect(await step(db, 'finish')).toMatchObject({ step: 'finished', retired_dropped: true });
    expect(await db.query(`select table_name from partkeeper.config where table_name like '%events%'`)).toEqual([]);
    expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
  });

  it('the twin dropped before the swap: writes go on, and undo ends the conversion', async () => {
    const db = await freshDb();
    await events(db, 200);
    await db.exec('create table expected as table events');
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    await step(db, 'capture');
    await db.exec('drop table events_twin');
    await writeSome(db, 'no twin');
    await db.exec('truncate expected; insert into expected table events');
    expect(await conversionCheck(db)).toEqual([
      expect.objectContaining({
        status: 'error',
        message: expect.stringMatching(/public\.events_twin/),
        fix: expect.stringMatching(/--undo/),
      }),
    ]);
    // every step forward says so and names the undo, instead of building statements for a table that is gone
    const before = await everything(db);
    for (const forward of [
      `select partkeeper.convert_capture('events')`,
      `call partkeeper.convert_fill('events', 1000, '0')`,
      `select partkeeper.convert_verify('events')`,
      `select partkeeper.convert_swap('events')`,
      `select partkeeper.convert_finish('events')`,
    ]) {
      const e = await expectSqlState(db.exec(forward), 'PK002');
      expect(e.message, forward).toMatch(/twin of public\.events was dropped/);
      expect(e.hint, forward).toContain(`SELECT partkeeper.convert_undo('public.events');`);
      expect(e.hint, forward).toContain('partkeeper convert public.events --undo');
    }
    expect(await everything(db)).toBe(before);
    expect(await step(db, 'undo')).toMatchObject({ undone_from: 'capturing' });
    expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
    expect(await db.query(`select from pg_proc where proname = 'events_pk_capture'`)).toEqual([]);
    expect(await db.query('select from partkeeper.conversions')).toEqual([]);
    expect(await db.query(`select table_name from partkeeper.config where table_name like '%events%'`)).toEqual([]);
    expect(await difference(db, 'events', 'expected')).toBe(0);
  });

  it('health() names a conversion under way: its table, step, since when and the command that continues it', async () => {
    const db = await freshDb();
    await events(db, 200);
    expect(await conversionCheck(db)).toEqual([]);
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    // a step taken in the last hour: a conversion being run
    const [running] = await conversionCheck(db);
    expect(running).toMatchObject({ status: 'info', message: expect.stringMatching(/step prepared/) });
    expect(running!.fix).toMatch(/partkeeper convert public\.events\b/);
    expect(calls(running!.fix!)).toContain(`SELECT partkeeper.convert_capture('public.events');`);
    for (const s of ['capture', 'fill_batch', 'verify', 'swap']) await step(db, s);
    // no step for hours: left half-way, with a trigger copying every write
    await db.exec(
      `update partkeeper.conversions set started_at = timestamptz '2026-01-02 03:04:05+00', updated_at = clock_timestamp() - interval '3 hours'`,
    );
    const [left] = await conversionCheck(db);
    expect(left).toMatchObject({ status: 'warning', message: expect.stringMatching(/step swapped since .*2026-01-02 03:04:05/) });
    expect(left!.message).toMatch(/public\.events_retired/);
    expect(left!.fix).toMatch(/partkeeper convert public\.events --finish/);
    expect(calls(left!.fix!)).toEqual([
      `SELECT partkeeper.convert_finish('public.events');`,
      `SELECT partkeeper.convert_undo('public.events');`,
    ]);
    // a monitoring role sees it as well
    await withRoles(db, ['watcher'], async ({ watcher }) => {
      await db.exec(`select partkeeper.grant_monitoring('${watcher}'); set role ${watcher}`);
      expect(await conversionCheck(db)).toEqual([left]);
    });
    await step(db, 'finish');
    expect(await conversionCheck(db)).toEqual([]);
  });

  it('uninstall refuses (PK013) while a conversion is under way, names it, and changes nothing', async () => {
    const db = await freshDb();
    await events(db, 100);
    await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
    await step(db, 'capture');
    const before = await everything(db);
    const e = await expectSqlState(db.exec(bundleScript(undefined, 'sql/uninstall.sql')), 'PK013');
    expect(e.message).toMatch(/public\.events/);
    expect(e.hint).toMatch(/partkeeper convert public\.events --finish/);
    expect(e.hint).toMatch(/--undo/);
    expect(await everything(db)).toBe(before);
    expect(await db.one(`select to_regnamespace('partkeeper') is not null as kept`)).toEqual({ kept: true });
    // a finished conversion is only a record: uninstall goes ahead
    for (const s of ['fill_batch', 'verify', 'swap', 'finish']) await step(db, s);
    await db.exec(bundleScript(undefined, 'sql/uninstall.sql'));
    expect(await db.one(`select to_regnamespace('partkeeper') is null as gone`)).toEqual({ gone: true });
    expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
  });
});

/** Server only: writers that insert, update and delete, each write also applied to `expected` in the same statement. */
function writers(db: TestDb, n: number) {
  let stop = false;
  const failures: string[] = [];
  const waits: { at: number; ms: number }[] = [];
  let done = 0;
  const run = async () => {
    const c = await db.connect();
    let i = 0;
    while (!stop) {
      const op = i++ % 4;
      const started = Date.now();
      try {
        if (op === 0 || op === 3)
          await c.query(
            `with i as (insert into events (room, body, created_at) values (1 + floor(random() * 7), 'w', timestamptz '2026-03-01' + random() * interval '180 days') returning *)
             insert into expected select * from i`,
          );
        else if (op === 1)
          await c.query(
            `with u as (update events set body = body || '+', created_at = case when random() < 0.2 then created_at + interval '31 days' else created_at end
                          where id = (select floor(random() * (select last_value from events_id_seq))::bigint + 1) returning *)
             update expected e set body = u.body, created_at = u.created_at from u where e.id = u.id`,
          );
        else
          await c.query(
            `with d as (delete from events where id = (select floor(random() * (select last_value from events_id_seq))::bigint + 1) returning id)
             delete from expected e using d where e.id = d.id`,
          );
        done++;
      } catch (e) {
        failures.push(String((e as Error).message));
      }
      waits.push({ at: started, ms: Date.now() - started });
    }
  };
  const all = Array.from({ length: n }, run);
  return {
    failures,
    waits,
    done: () => done,
    async stop() {
      stop = true;
      await Promise.all(all);
    },
  };
}

describe('converting under load, and after killed backends [server]', () => {
  // 200,000 rows: the fill takes forty batches of 5,000 while the writers write, so every
  // step meets concurrent changes; a conversion of 5M rows is measured in bench/conversion.ts
  itServer(
    'writers insert, update and delete throughout: no failed statement, the result equal row by row, no long wait at the swap',
    async () => {
      const db = await freshDb();
      await events(db, 200_000);
      await db.exec('create table expected as table events');
      const w = writers(db, 4);
      await new Promise((r) => setTimeout(r, 300));
      await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);
      await step(db, 'capture');
      await db.one(`call partkeeper.convert_fill('events', 5000, '0', null, null)`);
      const verified = await step(db, 'verify');
      expect(verified).toMatchObject({ equal: true });
      const swapStart = Date.now();
      await step(db, 'swap');
      const swapEnd = Date.now();
      await new Promise((r) => setTimeout(r, 500));
      await w.stop();
      expect(w.failures).toEqual([]);
      expect(w.done()).toBeGreaterThan(100);
      expect(await difference(db, 'events', 'expected')).toBe(0);
      expect(await difference(db, 'events_retired', 'expected')).toBe(0);
      const atSwap = w.waits.filter((x) => x.at + x.ms >= swapStart && x.at <= swapEnd);
      const longest = Math.max(0, ...atSwap.map((x) => x.ms));
      const lockTimeout = 500;
      expect(longest).toBeLessThan(lockTimeout);
    },
    180_000,
  );

  itServer(
    'a backend killed inside each step loses nothing; the step run again finishes it',
    async () => {
      const db = await freshDb();
      await events(db, 3000);
      await db.exec('create table expected as table events');
      const blocker = await db.connect();
      // a fresh session each time: the killed one is gone
      const kill = async (sql: string, lock: string) => {
        await blocker.exec(`begin; ${lock}`);
        const victim = await db.connect();
        const { pid } = await victim.one<{ pid: number }>('select pg_backend_pid() as pid');
        const running = victim.query(sql).then(
          () => 'finished',
          (e: unknown) => String(e),
        );
        // a relation lock, or a row lock (which waits on the holder's transaction)
        for (let i = 0; ; i++) {
          const { waiting } = await db.one<{ waiting: boolean }>(
            `select coalesce((select wait_event_type = 'Lock' from pg_stat_activity where pid = $1), false) as waiting`,
            [pid],
          );
          if (waiting) break;
          if (i > 500) throw new Error(`${sql}: never waited for a lock`);
          await new Promise((r) => setTimeout(r, 5));
        }
        await db.query('select pg_terminate_backend($1)', [pid]);
        expect(await running).toMatch(/terminat/);
        await blocker.exec('rollback');
      };
      const mirror = async (tag: string) => {
        await writeSome(db, tag);
        await db.exec('truncate expected; insert into expected table events');
      };
      // each blocker holds a lock the step needs, so the step is surely inside its transaction when killed
      await kill(`select partkeeper.convert_prepare('events', 'created_at')`, 'lock table events in access exclusive mode');
      expect(await db.query('select from partkeeper.conversions')).toEqual([]);
      expect(await db.query(`select from pg_class where relname = 'events_twin'`)).toEqual([]);
      await json(db, `select partkeeper.convert_prepare('events', 'created_at') as r`);

      await kill(`select partkeeper.convert_capture('events')`, 'insert into events (room) values (1)');
      expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]);
      await step(db, 'capture');
      await mirror('k1');

      // fill: batches commit one by one; the kill comes while a batch waits for a row a writer holds
      await kill(`call partkeeper.convert_fill('events', 500, '0', null, null)`, `select from events where id = 1800 for update`);
      const copied = Number((await db.one<{ n: string }>('select rows_copied as n from partkeeper.conversions')).n);
      expect(copied).toBeGreaterThanOrEqual(1400);
      expect(copied).toBeLessThan(2000);
      await mirror('k2');
      await db.one(`call partkeeper.convert_fill('events', 500, '0', null, null)`);
      expect(await step(db, 'verify')).toMatchObject({ equal: true });

      await kill(`select partkeeper.convert_swap('events')`, 'lock table events in row exclusive mode');
      expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
      await mirror('k3');
      await step(db, 'swap');
      await mirror('k4');
      expect(await difference(db, 'events', 'expected')).toBe(0);

      await kill(`select partkeeper.convert_undo('events')`, 'lock table events in row exclusive mode');
      expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('p');
      await step(db, 'undo');
      expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
      expect(await difference(db, 'events', 'expected')).toBe(0);
    },
    60_000,
  );

  itServer(
    'the command line: convert, progress and the result; --dry-run; --undo; unpartition',
    async () => {
      const db = await freshDb();
      await events(db, 2000);
      await db.exec('create table expected as table events');
      const url = ['--database-url', db.url!];
      const dry = await cli('convert', 'events', '--column', 'created_at', '--dry-run', ...url);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/^create table public\.events_twin/m);
      expect(await db.query('select from partkeeper.conversions')).toEqual([]);
      const bad = await cli('convert', 'events', ...url);
      expect(bad).toMatchObject({ code: 1 });
      expect(bad.stderr).toMatch(/error PK001/);
      const run = await cli('convert', 'events', '--column', 'created_at', '--batch-size', '300', '--progress', ...url);
      expect(run.stderr).toMatch(/fill: 2,000 rows copied/);
      expect(run.stderr).toMatch(/verify: 2,000 rows .*: equal/);
      expect(run).toMatchObject({ code: 0, stdout: 'events: conversion at step swapped\n' });
      expect(await difference(db, 'events', 'expected')).toBe(0);
      expect(await cli('convert', 'events', '--undo', ...url)).toMatchObject({ code: 0 });
      expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
      expect(await cli('convert', 'events', '-c', 'created_at', '--finish', ...url)).toMatchObject({
        code: 0,
        stdout: 'events: conversion at step finished\n',
      });
      await db.exec('drop table events_retired');
      expect(await cli('unpartition', 'events', '--finish', ...url)).toMatchObject({
        code: 0,
        stdout: 'events: conversion at step finished\n',
      });
      expect((await db.one<{ k: string }>(`select relkind::text as k from pg_class where oid = 'events'::regclass`)).k).toBe('r');
      expect(await difference(db, 'events', 'expected')).toBe(0);
    },
    60_000,
  );
});
