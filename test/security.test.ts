// Privileges, SECURITY DEFINER hygiene, hostile and wrong input, long names.
import { escapeLiteral } from 'pg';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { expectSqlState, freshDb, setClock } from '../harness/testing.ts';
import { maintenanceResult } from '../harness/invariants.ts';
import { defaultRows, fingerprint, health, maintain, partitions, rowsByPartition, status, withRoles } from '../harness/support.ts';

/** The functions partkeeper installs: everything in its schema and the three public wrappers. */
const OURS = `(p.pronamespace = 'partkeeper'::regnamespace
   or p.oid in ('public.create_monthly_partition(text,date)'::regprocedure, 'public.ensure_livechat_partitions()'::regprocedure,
                'public.maintain_livechat_partitions()'::regprocedure))`;

describe('privileges', () => {
  it("PUBLIC can execute none of partkeeper's functions and touch none of its tables", async () => {
    const db = await freshDb();
    expect(
      await db.query(
        `select p.oid::regprocedure::text as f from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        where ${OURS} and a.grantee = 0 and a.privilege_type = 'EXECUTE'`,
      ),
    ).toEqual([]);
    expect(
      await db.query(
        `select c.relname from pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        where c.relnamespace = 'partkeeper'::regnamespace and a.grantee = 0`,
      ),
    ).toEqual([]);
    expect(await db.one(`select has_schema_privilege('public', 'partkeeper', 'usage') as u`)).toEqual({ u: false });
  });

  it('has no SECURITY DEFINER function, and every function but the documented few pins its search_path', async () => {
    const db = await freshDb();
    expect(await db.query(`select p.oid::regprocedure::text as f from pg_proc p where ${OURS} and p.prosecdef`)).toEqual([]);
    // the procedures may not have one (they commit), key_value is inlined, and the functions that take
    // a table's name as text resolve it, or print one, in the caller's search_path (every function,
    // operator and type in them is schema-qualified)
    const unpinned = await db.query<{ f: string }>(
      `select p.oid::regprocedure::text as f from pg_proc p
        where ${OURS} and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false) order by 1`,
    );
    expect(unpinned.map((u) => u.f)).toEqual([
      'create_monthly_partition(text,date)',
      'ensure_livechat_partitions()',
      'partkeeper.configure(text,text,integer,interval,interval,interval,integer,integer,boolean,text,interval,text,name,boolean,text)',
      'partkeeper.convert_fill(regclass,integer,interval,integer,jsonb)',
      'partkeeper.create_partition(text,date)',
      'partkeeper.expired_partitions(text)',
      'partkeeper.key_value(text,regtype)',
      'partkeeper.maintain_table(text,boolean,integer)',
      'partkeeper.partition_bounds(text)',
      'partkeeper.register_table(text)',
      'partkeeper.resolve_table(text)',
      'partkeeper.run_maintenance(regclass,boolean,jsonb)',
      'partkeeper.run_maintenance(text,boolean,jsonb)',
      'partkeeper.unregister_table(text)',
    ]);
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
    // nothing ran for the app but the insert; maintenance finds the rows in the DEFAULT partition
    expect(await db.one(`select count(*)::int as n from partkeeper.pending`)).toEqual({ n: 0 });
    const run = await maintain(db);
    expect(run.rows_moved).toBe(2);
    expect(await defaultRows(db)).toBe(1);
  });

  it('a maintenance role maintains exactly the tables whose owning role it belongs to, and reads the state of all', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await withRoles(db, ['maint', 'owner', 'stranger'], async ({ maint, owner, stranger }) => {
      await db.exec(`grant create on schema public to ${owner}, ${stranger};
        set role ${owner}; create table owned (at timestamptz not null) partition by range (at); reset role;
        set role ${stranger}; create table foreign_t (at timestamptz not null) partition by range (at); reset role;`);
      await db.query(`select partkeeper.grant_maintenance($1), partkeeper.grant_maintenance($2)`, [maint, owner]);
      // the table owner registers and maintains its own table with partkeeper's rights
      await db.exec(`set role ${owner}`);
      expect((await db.one<{ r: { registered: boolean } }>(`select partkeeper.register_table('owned') as r`)).r.registered).toBe(true);
      expect((await maintain(db, 'owned')).status).toBe('ok');
      await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_premake => 9)`), 'PK007');
      // row-level security: partkeeper's state of other tables is read-only to it
      expect(await db.query(`update partkeeper.config set premake = 9 where parent = 'livechat_messages'::regclass returning 1`)).toEqual(
        [],
      );
      await expectSqlState(
        db.query(
          `insert into partkeeper.log (clock, parent, table_name, action) values (now(), 'livechat_messages'::regclass, 'x', 'forged')`,
        ),
        '42501',
      );
      await db.exec('reset role');

      // a maintenance role that belongs to no owner: monitoring only, and PK007 with the GRANT to run
      await db.exec(`set role ${maint}`);
      expect((await status(db)).tables).toHaveLength(2);
      expect((await health(db)).status).toMatch(/ok|warning|error/);
      expect((await db.query(`select * from partkeeper.partitions`)).length).toBeGreaterThan(0);
      const refused = await expectSqlState(db.query(`select ensure_livechat_partitions()`), 'PK007');
      expect(refused.hint).toMatch(new RegExp(`GRANT \\S+ TO ${maint}`));
      expect(await maintenanceResult(db, `select maintain_livechat_partitions() as r`)).toMatchObject({
        status: 'failed',
        error: { code: 'not_owner' },
      });
      await expectSqlState(db.query(`select create_monthly_partition('livechat_messages', '2027-01-01')`), 'PK007');
      await expectSqlState(db.query(`select partkeeper.register_table('foreign_t')`), 'PK007');
      await db.exec('reset role');

      // once it belongs to the owning role, it maintains that table, as the owner
      await db.exec(
        `grant ${owner} to ${maint}; alter table livechat_messages owner to ${owner}; alter table livechat_messages_default owner to ${owner}; set role ${maint}`,
      );
      expect(await db.one<{ r: string[] }>(`select ensure_livechat_partitions() as r`)).toEqual({
        r: ['livechat_messages_2025_09', 'livechat_messages_2025_10', 'livechat_messages_2025_11'],
      });
      expect(await db.query(`select create_monthly_partition('livechat_messages', '2027-01-01')`)).toEqual([
        { create_monthly_partition: 'livechat_messages_2027_01' },
      ]);
      await expectSqlState(db.query(`select create_monthly_partition('foreign_t', '2025-09-01')`), 'PK007');
      await db.exec('reset role');
      const owners = await db.query<{ owner: string }>(
        `select distinct pg_get_userbyid(c.relowner) as owner from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'livechat_messages'::regclass`,
      );
      expect(owners).toEqual([{ owner }]);
      expect(await db.one(`select premake from partkeeper.config where parent = 'livechat_messages'::regclass`)).toEqual({ premake: 2 });
      await db.exec(`reassign owned by ${owner} to current_user; drop table owned; drop table foreign_t`);
    });
  });

  it('never runs code the table owner wrote with more rights than the owner: triggers, index expressions, generated columns, CHECKs', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await withRoles(db, ['owner'], async ({ owner }) => {
      // every function the owner controls records who ran it, and tries to make the owner superuser
      await db.exec(`grant create on schema public to ${owner}; set role ${owner};
        create table ran_as (what text, who name);
        create function public.escalate(what text) returns boolean language plpgsql as $$
          begin
            insert into public.ran_as values (what, current_user);
            if (select rolsuper from pg_roles where rolname = current_user) then execute 'alter role ${owner} superuser'; end if;
            return true;
          end $$;
        create function public.escalate_imm(x text) returns text language plpgsql immutable as $$
          begin perform public.escalate('index or generated column'); return x; end $$;
        create function public.escalate_trg() returns trigger language plpgsql as $$
          begin perform public.escalate(tg_name); return coalesce(new, old); end $$;
        create table owned (id int, at timestamptz not null, body text,
          loud text generated always as (public.escalate_imm(body)) stored,
          check (public.escalate('check'))) partition by range (at);
        create index on owned (public.escalate_imm(body));
        create trigger t_del after delete on owned for each row execute function escalate_trg();
        create trigger t_ins before insert on owned for each row execute function escalate_trg();
        alter table owned enable always trigger t_del;
        reset role;`);
      await db.query(`select partkeeper.register_table('owned')`);
      await db.exec(`set role ${owner}; insert into owned (id, at, body) values (1, '2026-10-05', 'hello'); truncate ran_as; reset role`);
      // maintenance run by a superuser: premake (index builds) and a move (check, generated column, triggers)
      const run = await maintain(db, 'owned');
      expect(run.rows_moved).toBe(1);
      expect(await db.one(`select rolsuper from pg_roles where rolname = $1`, [owner])).toEqual({ rolsuper: false });
      const who = await db.query<{ who: string }>(`select distinct who from ran_as`);
      expect(who).toEqual([{ who: owner }]);
      // the triggers did not see the move
      expect(await db.query(`select what from ran_as where what like 't\\_%'`)).toEqual([]);
      await db.exec(
        `drop table owned; drop table ran_as; drop function public.escalate_trg(), public.escalate_imm(text), public.escalate(text)`,
      );
    });
  });
});

describe("owner code cannot leave the owner's rights", () => {
  it('not by resetting the role, setting another, or through RLS, a CHECK the planner folds, or a look-alike operator', async () => {
    const db = await freshDb();
    await setClock(db, '2027-01-10 00:00:00+00');
    await withRoles(db, ['evil', 'victim'], async ({ evil, victim }) => {
      // every path: a CHECK on the rows moved, an RLS policy on the DEFAULT read by maintenance, an
      // IMMUTABLE function in a partition CHECK that the planner folds while health() plans its query
      await db.exec(`grant create on schema public to ${evil}; create table victim_data (x int); alter table victim_data owner to ${victim};
        insert into victim_data values (1);
        set role ${evil};
        create table tried (how text, by_role name, super boolean);
        create function public.escape(how text) returns boolean language plpgsql as $$
          begin
            -- armed only for the runs below: in this session a superuser's SET ROLE could be left anyway
            if current_setting('pk.armed', true) is distinct from 'on' then return true; end if;
            begin perform set_config('role', 'none', true); exception when others then insert into tried values (how || ': reset role refused', current_user, false); end;
            begin perform set_config('role', '${victim}', true); exception when others then insert into tried values (how || ': set role refused', current_user, false); end;
            insert into tried values (how, current_user, (select rolsuper from pg_roles where rolname = current_user));
            if (select rolsuper from pg_roles where rolname = current_user) then execute 'alter role ${evil} superuser'; end if;
            return true;
          end $$;
        create function public.escape_imm() returns timestamptz language plpgsql immutable as $$
          begin perform public.escape('planner'); return '2000-01-01'; end $$;
        create table ev (id int, at timestamptz not null check (public.escape('check'))) partition by range (at);
        -- look-alike operators in public, better matches for an unknown literal than pg_catalog's
        create function public.jtxt(j jsonb, k text) returns text language plpgsql as $$ begin perform public.escape('operator'); return null; end $$;
        create operator public.#>> (leftarg = jsonb, rightarg = text, function = public.jtxt);
        create operator public.->> (leftarg = jsonb, rightarg = text, function = public.jtxt);
        reset role;`);
      await db.query(`select partkeeper.register_table('ev')`);
      await db.exec(`set role ${evil};
        alter table ev_default enable row level security; alter table ev_default force row level security;
        create policy p on ev_default using (public.escape('policy'));
        insert into ev values (1, '2026-12-05'), (2, '2099-01-01');
        create table ev_2030_01 partition of ev for values from ('2030-01-01') to ('2030-02-01');
        alter table ev_2030_01 add constraint c check (at > public.escape_imm());
        truncate tried;
        reset role`);
      // a superuser runs maintenance (moves December, reads the DEFAULT) and health() (plans a query)
      await db.exec(`set pk.armed = on`);
      const run = await maintain(db, 'ev');
      expect(run.rows_moved).toBe(1);
      await health(db);
      await status(db);
      // the original interface, called by a superuser whose search_path has public in it
      await db.query(
        `select ensure_livechat_partitions(), maintain_livechat_partitions(), create_monthly_partition('livechat_messages', '2027-01-01')`,
      );
      expect(await db.one(`select rolsuper from pg_roles where rolname = $1`, [evil])).toEqual({ rolsuper: false });
      expect(await db.query(`select distinct by_role::text as r, super from tried`)).toEqual([{ r: evil, super: false }]);
      const how = (await db.query<{ how: string }>(`select distinct how from tried order by 1`)).map((r) => r.how);
      expect(how).toContain('check: reset role refused');
      expect(how).toContain('policy: set role refused');
      expect(how.filter((h) => h.startsWith('operator'))).toEqual([]);
      expect(await db.one(`select count(*)::int as n from victim_data`)).toEqual({ n: 1 });
      await db.exec(`reset pk.armed; drop operator public.#>> (jsonb, text); drop operator public.->> (jsonb, text); drop function public.jtxt(jsonb, text);
        drop table ev; drop table tried; drop table victim_data; drop function public.escape_imm(), public.escape(text); revoke create on schema public from ${evil}`);
    });
  });
});

describe('bad input gets its own SQLSTATE and changes nothing', () => {
  async function state(db: Db) {
    return { parts: await partitions(db), log: await db.one(`select count(*)::int as n from partkeeper.log`), rows: await fingerprint(db) };
  }

  /** Every call a DBA names a table in, as psql sends it: NAME stands for the name, written as a literal. */
  const NAMING_CALLS = [
    `select create_monthly_partition(NAME, '2025-09-01')`,
    `select partkeeper.register_table(NAME)`,
    `select partkeeper.configure(NAME, p_premake => 3)`,
    `select partkeeper.configure('livechat_messages', p_template => NAME)`,
    `select partkeeper.unregister_table(NAME)`,
    `select partkeeper.maintain_table(NAME)`,
    `select partkeeper.maintain_table(p_parent => NAME, p_wait => true)`,
    `select partkeeper.create_partition(NAME, '2025-09-01')`,
    `call partkeeper.run_maintenance(NAME)`,
    `select * from partkeeper.partition_bounds(NAME)`,
    `select * from partkeeper.expired_partitions(NAME)`,
  ];
  const literal = (name: string | null) => (name === null ? 'null' : escapeLiteral(name));
  // a table whose name is the longest PostgreSQL keeps: a longer name given must not reach it
  const LONGEST = `l${'o'.repeat(61)}g`;

  it('hostile and wrong table names: PK002 with a hint naming the name, from every function that takes one, and nothing changed', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await db.exec(`create table ${LONGEST} (at timestamptz not null) partition by range (at)`);
    const before = { ...(await state(db)), config: await db.query('select parent::text from partkeeper.config order by 1') };
    const missing = ['no_such_table', 'public.no_such_table', 'no_such_schema.livechat_messages', 'Livechat_Messages_Typo'];
    const invalid = [
      'livechat_messages; drop table livechat_messages',
      "livechat_messages'); drop table livechat_messages; --",
      '"livechat_messages',
      'livechat messages',
      'a.b.c.d',
      'other_db.public.livechat_messages',
      `${LONGEST}_and_more`,
      'x'.repeat(10_000),
      '',
      '   ',
    ];
    for (const call of NAMING_CALLS) {
      for (const name of [...missing, ...invalid]) {
        const e = await expectSqlState(db.query(call.replace('NAME', literal(name))), 'PK002');
        expect(e.hint, `${call} with ${name.slice(0, 80)}`).toBeTruthy();
        if (missing.includes(name)) expect(e.hint).toContain(`'${name}'`);
      }
      // a name passed as a parameter, as a driver sends it
      await expectSqlState(db.query(call.replace('NAME', '$1'), ['no_such_table']), 'PK002');
      // NULL means every table to run_maintenance and "as it is" to configure's template
      if (!/run_maintenance|p_template/.test(call)) await expectSqlState(db.query(call.replace('NAME', 'null')), 'PK002');
    }
    expect({ ...(await state(db)), config: await db.query('select parent::text from partkeeper.config order by 1') }).toEqual(before);
  });

  it('each call that takes a table name as text has the parameters, defaults and result of its regclass form', async () => {
    const db = await freshDb();
    const pairs = await db.query<{ f: string; text: string; regclass: string; text_result: string | null; regclass_result: string | null }>(
      `select t.proname as f, pg_get_function_arguments(t.oid) as text, pg_get_function_arguments(r.oid) as regclass,
              pg_get_function_result(t.oid) as text_result, pg_get_function_result(r.oid) as regclass_result
         from pg_proc t join pg_proc r on r.pronamespace = t.pronamespace and r.proname = t.proname and r.prokind = t.prokind
        where t.pronamespace = 'partkeeper'::regnamespace and t.proargtypes[0] = 'text'::regtype and r.proargtypes[0] = 'regclass'::regtype
        order by 1`,
    );
    expect(pairs.map((p) => p.f)).toEqual([
      'configure',
      'create_partition',
      'expired_partitions',
      'maintain_table',
      'partition_bounds',
      'register_table',
      'run_maintenance',
      'unregister_table',
    ]);
    for (const p of pairs) {
      // a named argument finds both forms; CALL partkeeper.run_maintenance() with no table stays the regclass form
      const expected = p.regclass.replace(/regclass/g, 'text').replace('p_table text DEFAULT NULL::text', 'p_table text');
      expect({ f: p.f, arguments: p.text, result: p.text_result }).toEqual({ f: p.f, arguments: expected, result: p.regclass_result });
    }
  });

  it('a table named as text resolves as in your own queries: search_path, quotes, case, an OID', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await db.exec(`create schema "Chat Room"; create table "Chat Room"."Events" (at timestamptz not null) partition by range (at)`);
    const registered = await db.one<{ r: { table: string } }>(`select partkeeper.register_table('"Chat Room"."Events"') as r`);
    expect(registered.r.table).toBe('"Chat Room"."Events"');
    await db.exec(`set search_path = "Chat Room", public`);
    expect(await db.one(`select partkeeper.create_partition('"Events"', '2025-09-01') as p`)).toEqual({
      p: '"Chat Room"."Events_2025_09"',
    });
    expect(await db.one(`select count(*)::int as n from partkeeper.partition_bounds('LIVECHAT_MESSAGES')`)).toEqual({ n: 1 });
    await expectSqlState(db.query(`select partkeeper.maintain_table('Events')`), 'PK002');
    // a table dropped while registered is unregistered by its OID, given as text too
    const { oid } = await db.one<{ oid: string }>(`select '"Events"'::regclass::oid::text as oid`);
    await db.exec(`drop table "Events"`);
    expect(await db.one(`select partkeeper.unregister_table($1) as r`, [oid])).toEqual({
      r: { table: '"Chat Room"."Events"', unregistered: true },
    });
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
      // the cut part carries 6 hex digits of the md5 of the full name, so parents alike in their
      // first bytes never share a partition name
      expect(names.map((n) => n.replace(/^[mé]+_[0-9a-f]{6}/, ''))).toEqual(['_2025_09', '_2025_10', '_2025_11', '_default']);
    }
  });

  it('gives distinct partitions and DEFAULT partitions to parents whose names differ only after the cut', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    const common = `chat_${'x'.repeat(52)}`; // 57 bytes in common
    for (const t of [`${common}_eu`, `${common}_us`]) {
      await db.exec(`create table ${t} (at timestamptz not null) partition by range (at)`);
      expect(
        (await db.one<{ r: { default_partition: string } }>(`select partkeeper.register_table($1) as r`, [t])).r.default_partition,
      ).toMatch(/^public\.chat_x+_[0-9a-f]{6}_default$/);
      const run = await maintain(db, t);
      expect(run.status).toBe('ok');
      expect(run.created).toHaveLength(3);
    }
    const names = await db.query<{ n: string }>(`select partition_name as n from partkeeper.partitions order by 1`);
    expect(new Set(names.map((r) => r.n)).size).toBe(names.length);
  });
});
