// Moving rows out of the DEFAULT partition on tables shaped like real chat schemas: foreign keys that
// reference the table, the owner's triggers of every kind, generated columns and expression indexes
// that resolve names through search_path, NOT VALID constraints, replica identity. After any run,
// every other table is exactly as before and no trigger or foreign-key action saw the move.
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { DbError, describeServer, freshDb, itServer, setClock } from '../harness/testing.ts';
import { codes, defaultRows, fingerprint, maintain, maintainResult, rowsByPartition, settle } from '../harness/support.ts';

const T = 'livechat_messages';

/** Every row of every table but the managed one (and partkeeper's own), as one comparable value. */
async function everythingElse(db: Db): Promise<Record<string, string>> {
  const tables = await db.query<{ t: string }>(
    `select format('%I.%I', n.nspname, c.relname) as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition and n.nspname not in ('pg_catalog', 'information_schema', 'partkeeper')
        and n.nspname not like 'pg_toast%' and c.oid <> '${T}'::regclass order by 1`,
  );
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    out[t] = (
      await db.one<{ f: string }>(`select count(*) || ':' || coalesce(md5(string_agg(x::text, ',' order by x::text)), '') as f from ${t} x`)
    ).f;
  }
  return out;
}

/** A message in a month without partition (October 2026 at a clock of January 2027: inside the drain window). */
async function waitingMessage(db: Db): Promise<void> {
  await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'Café crème', '2026-10-05 12:00+00')`);
}

async function clock(db: Db): Promise<void> {
  await setClock(db, '2027-01-10 00:00:00+00');
}

describe('a move changes no data anyone can observe', () => {
  for (const action of ['cascade', 'set null', 'set default', 'no action', 'restrict', 'no action deferrable initially deferred']) {
    it(`a foreign key referencing the table, on delete ${action}: the referencing row stays as it was`, async () => {
      const db = await freshDb();
      await clock(db);
      await db.exec(`create table message_reactions (id int primary key, message_id bigint default 0, message_created_at timestamptz default '2000-01-01',
          emoji text, foreign key (message_id, message_created_at) references ${T} (id, created_at) on delete ${action})`);
      await waitingMessage(db);
      await db.exec(`insert into message_reactions select 1, id, created_at, 'heart' from ${T}`);
      const [others, rows] = [await everythingElse(db), await fingerprint(db)];
      const run = await maintain(db);
      expect(run).toMatchObject({ status: 'ok', complete: true, rows_moved: 1 });
      expect(await everythingElse(db)).toEqual(others);
      expect(await fingerprint(db)).toEqual(rows);
      expect(await rowsByPartition(db)).toEqual({ [`${T}_2026_10`]: 1 });
      // the key still holds, and keeps being enforced on the new partition
      await db.exec(`delete from message_reactions; insert into message_reactions select 1, id, created_at, 'heart' from ${T}`);
      await expect(db.exec(`insert into message_reactions values (2, 42, '2026-10-05 12:00+00', 'x')`)).rejects.toThrow(
        /violates foreign key/,
      );
    });
  }

  it("the owner's triggers of every kind and mode see nothing: counters, audit, guards that refuse or skip deletes, always and replica triggers", async () => {
    const db = await freshDb();
    await clock(db);
    await db.exec(`
      create table rooms (id bigint primary key, message_count bigint not null default 0);
      create table audit (at timestamptz default clock_timestamp(), what text);
      insert into rooms values (1);
      create function count_up() returns trigger language plpgsql as $$ begin update rooms set message_count = message_count + 1 where id = new.room_id; return null; end $$;
      create function count_down() returns trigger language plpgsql as $$ begin update rooms set message_count = message_count - 1 where id = old.room_id; return null; end $$;
      create function audit_row() returns trigger language plpgsql as $$ begin insert into audit (what) values (tg_name || ' ' || tg_op || ' ' || tg_level); return coalesce(new, old); end $$;
      create function audit_stmt() returns trigger language plpgsql as $$ begin insert into audit (what) values (tg_name || ' ' || tg_op || ' statement'); return null; end $$;
      create function refuse() returns trigger language plpgsql as $$ begin raise exception 'messages are append-only'; end $$;
      create function skip() returns trigger language plpgsql as $$ begin return null; end $$;
      create trigger count_up after insert on ${T} for each row execute function count_up();
      create trigger count_down after delete on ${T} for each row execute function count_down();
      create trigger audit_before before insert or update or delete on ${T} for each row execute function audit_row();
      create trigger audit_after after insert or update or delete on ${T} for each row execute function audit_row();
      create trigger audit_stmt after insert or update or delete on ${T} for each statement execute function audit_stmt();
      create trigger audit_default_stmt after delete on ${T}_default for each statement execute function audit_stmt();
      create trigger always_audit after delete on ${T} for each row execute function audit_row();
      create trigger replica_audit after delete on ${T} for each row execute function audit_row();
      alter table ${T} enable always trigger always_audit;
      alter table ${T} enable replica trigger replica_audit;`);
    await waitingMessage(db);
    // guards installed after the insert: one refuses deletes, the other skips them
    await db.exec(`create trigger refuse_delete before delete on ${T} for each row execute function refuse();
                   create trigger skip_delete before delete on ${T}_default for each row execute function skip();`);
    expect(await db.one(`select message_count::int from rooms`)).toEqual({ message_count: 1 });
    const [others, rows] = [await everythingElse(db), await fingerprint(db)];
    const modes = await db.query(
      `select tgname, tgenabled from pg_trigger where tgrelid = '${T}_default'::regclass and not tgisinternal order by 1`,
    );

    const run = await maintain(db);
    expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });
    expect(await everythingElse(db)).toEqual(others);
    expect(await fingerprint(db)).toEqual(rows);
    expect(await db.one(`select message_count::int from rooms`)).toEqual({ message_count: 1 });
    // every trigger is back in its mode, on the DEFAULT partition and, cloned, on the new one
    expect(
      await db.query(`select tgname, tgenabled from pg_trigger where tgrelid = '${T}_default'::regclass and not tgisinternal order by 1`),
    ).toEqual(modes);
    expect(
      await db.query(`select tgname, tgenabled from pg_trigger where tgrelid = '${T}_2026_10'::regclass and not tgisinternal order by 1`),
    ).toEqual(modes.filter((m) => !['audit_default_stmt', 'skip_delete'].includes((m as { tgname: string }).tgname)));
    // and they still fire for the application
    await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'after', '2026-10-06 00:00+00')`);
    expect(await db.one(`select message_count::int from rooms`)).toEqual({ message_count: 2 });
    await expect(db.exec(`delete from ${T}`)).rejects.toThrow(/append-only/);
  });

  it("generated columns, expression indexes and triggers that resolve names through search_path behave as in the owner's sessions", async () => {
    const db = await freshDb();
    await clock(db);
    // the common unaccent wrapper: an SQL function that calls another by its unqualified name
    await db.exec(`
      create function public.strip_accents(text) returns text language sql immutable as $$ select translate($1, 'éèêà', 'eeea') $$;
      create function public.f_unaccent(text) returns text language sql immutable as $$ select strip_accents(lower($1)) $$;
      alter table ${T} add column body_search text generated always as (public.f_unaccent(body)) stored;
      create table deleted_messages (id bigint);
      create function public.log_delete() returns trigger language plpgsql as $$ begin insert into deleted_messages values (old.id); return null; end $$;
      create trigger log_delete after delete on ${T} for each row execute function log_delete();`);
    await waitingMessage(db);
    const run = await maintain(db);
    expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });
    expect(await db.one(`select body_search from ${T}_2026_10`)).toEqual({ body_search: 'cafe creme' });
    expect(await db.one(`select count(*)::int as n from deleted_messages`)).toEqual({ n: 0 });
    // the trigger still works in the application's sessions
    await db.exec(`delete from ${T} where body = 'Café crème'`);
    expect(await db.one(`select count(*)::int as n from deleted_messages`)).toEqual({ n: 1 });
  });

  it('an expression index through such a wrapper: partkeeper makes the partition exactly when CREATE TABLE ... PARTITION OF can', async () => {
    const db = await freshDb();
    await clock(db);
    await db.exec(`
      create function public.strip_accents(text) returns text language sql immutable as $$ select translate($1, 'éèêà', 'eeea') $$;
      create function public.f_unaccent(text) returns text language sql immutable as $$ select strip_accents(lower($1)) $$;`);
    // PostgreSQL 17+ builds indexes with a restricted search_path: there the wrapper cannot be
    // indexed at all, on the parent either, whoever asks
    const indexed = await db.exec(`create index on ${T} (public.f_unaccent(body))`).then(
      () => null,
      (e: { code?: string }) => e.code ?? 'error',
    );
    const { v } = await db.one<{ v: number }>(`select current_setting('server_version_num')::int as v`);
    expect(indexed).toBe(v >= 170000 ? '42883' : null);
    if (indexed) return;
    // what PostgreSQL itself does with this index in the owner's session
    const plain = await db
      .exec(`begin; create table probe partition of ${T} for values from ('2031-01-01') to ('2031-02-01'); rollback`)
      .then(
        () => null,
        (e: { code?: string }) => e.code ?? 'error',
      );
    await waitingMessage(db);
    const run = await maintain(db);
    if (plain === null) {
      expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });
      await db.exec('set enable_seqscan = off');
      expect(await db.one(`select count(*)::int as n from ${T} where public.f_unaccent(body) = 'cafe creme'`)).toEqual({ n: 1 });
    } else {
      expect(plain).toBe('42883');
      expect(run.status).toBe('failed');
      expect(run.warnings.filter((w) => w.sqlstate === '42883').length).toBeGreaterThan(0);
      expect(await defaultRows(db)).toBe(1);
    }
  });

  it("an old row that breaks a NOT VALID CHECK still moves, and new partitions take the parent's replica identity and constraint states", async () => {
    const db = await freshDb();
    await clock(db);
    await waitingMessage(db);
    await db.exec(`alter table ${T} add constraint body_short check (length(body) < 5) not valid;
                   alter table ${T} replica identity full;`);
    const run = await maintain(db);
    expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });
    expect(await defaultRows(db)).toBe(0);
    const parts = await db.query<{ rel: string; ident: string; valid: boolean }>(
      `select c.relname as rel, c.relreplident as ident, k.convalidated as valid
         from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_constraint k on k.conrelid = c.oid and k.conname = 'body_short'
        where i.inhparent = '${T}'::regclass order by 1`,
    );
    expect(parts.find((p) => p.rel === `${T}_2026_10`)).toEqual({ rel: `${T}_2026_10`, ident: 'f', valid: false });
    // 2026-11, 2026-12 (gaps) and 2027-01 .. 2027-03 (premake), made empty: validated, as
    // CREATE TABLE ... PARTITION OF makes them
    expect(parts.filter((p) => p.rel !== `${T}_2026_10` && p.rel !== `${T}_default`).map((p) => [p.ident, p.valid])).toEqual(
      Array(5).fill(['f', true]),
    );
    // the DEFAULT partition was aligned with the parent's replica identity by the run
    expect(parts.find((p) => p.rel === `${T}_default`)!.ident).toBe('f');
  });

  it('per-partition settings follow the newest partition, or a template table', async () => {
    const db = await freshDb();
    await setClock(db, '2026-11-10 00:00:00+00');
    await maintain(db);
    await db.exec(
      `alter table ${T}_2027_01 set (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_enabled = false)`,
    );
    await setClock(db, '2026-12-10 00:00:00+00');
    await maintain(db);
    const options = async (rel: string) =>
      db.one(
        `select c.reloptions as r, t.reloptions as toast from pg_class c left join pg_class t on t.oid = c.reltoastrelid where c.oid = '${rel}'::regclass`,
      );
    expect(await options(`${T}_2027_02`)).toEqual({
      r: ['fillfactor=70', 'autovacuum_vacuum_scale_factor=0.01'],
      toast: ['autovacuum_enabled=false'],
    });
    await db.exec(`create table chat_template (like ${T}) with (fillfactor = 50)`);
    await db.query(`select partkeeper.configure('${T}', p_template => 'chat_template')`);
    await setClock(db, '2027-01-10 00:00:00+00');
    await maintain(db);
    expect(await options(`${T}_2027_03`)).toEqual({ r: ['fillfactor=50'], toast: null });
  });

  it('rows wait, with the GRANT to run, when a foreign key needs session_replication_role and the maintaining role may not set it', async () => {
    const db = await freshDb();
    await clock(db);
    const owner = `pk_owner_${Math.random().toString(16).slice(2, 8)}`;
    await db.exec(`create role ${owner}; grant create on schema public to ${owner};
      alter table ${T} owner to ${owner}; alter table ${T}_default owner to ${owner};
      create table message_reactions (message_id bigint, message_created_at timestamptz,
        foreign key (message_id, message_created_at) references ${T} (id, created_at) on delete cascade);
      alter table message_reactions owner to ${owner};`);
    await db.query(`select partkeeper.grant_maintenance($1)`, [owner]);
    const { v } = await db.one<{ v: number }>(`select current_setting('server_version_num')::int as v`);
    try {
      await waitingMessage(db);
      await db.exec(`insert into message_reactions select id, created_at from ${T}`);
      const [others, rows] = [await everythingElse(db), await fingerprint(db)];
      await db.exec(`set role ${owner}`);
      const run = await maintain(db);
      await db.exec('reset role');
      expect(run.status).toBe('warning');
      expect(run.complete).toBe(false);
      const refused = run.warnings.find((w) => w.code === 'replica_role_required')!;
      expect(refused).toMatchObject({ sqlstate: 'PK009', period: '2026-10-01T00:00:00+00:00' });
      expect(refused.hint).toContain(`GRANT SET ON PARAMETER session_replication_role TO ${owner};`);
      expect(run.left_in_default).toEqual([
        expect.objectContaining({ period: '2026-10-01T00:00:00+00:00', rows: 1, reason: 'replica_role_required' }),
      ]);
      expect(codes(run)).toEqual(['replica_role_required', 'rows_in_default']);
      // the premake months were still made; nothing else changed
      expect(run.created.map((c) => c.partition)).toEqual([
        `public.${T}_2027_01`,
        `public.${T}_2027_02`,
        `public.${T}_2027_03`,
        `public.${T}_2026_11`,
        `public.${T}_2026_12`,
      ]);
      expect(await everythingElse(db)).toEqual(others);
      expect(await fingerprint(db)).toEqual(rows);
      expect(await defaultRows(db)).toBe(1);

      // PostgreSQL 14 has no parameter privileges: there only a superuser moves these rows
      if (v >= 150000) await db.exec(`grant set on parameter session_replication_role to ${owner}; set role ${owner}`);
      const granted = await maintain(db);
      await db.exec('reset role');
      expect(granted).toMatchObject({ status: 'ok', rows_moved: 1 });
      expect(await everythingElse(db)).toEqual(others);
    } finally {
      await db.exec(`reset role; ${v >= 150000 ? `revoke set on parameter session_replication_role from ${owner};` : ''}
        reassign owned by ${owner} to current_user; revoke create on schema public from ${owner}; drop owned by ${owner}; drop role ${owner}`);
    }
  });
  it('a table the owner may not lock, referencing the managed one, is left to ATTACH: partitions are still made and rows still move', async () => {
    const db = await freshDb();
    await clock(db);
    const suffix = Math.random().toString(16).slice(2, 8);
    const [owner, other] = [`pk_owner_${suffix}`, `pk_other_${suffix}`];
    await db.exec(`create role ${owner}; create role ${other}; grant create on schema public to ${owner}, ${other};
      alter table ${T} owner to ${owner}; alter table ${T}_default owner to ${owner};
      grant references on ${T} to ${other};
      set role ${other};
      create table others_reactions (message_id bigint, message_created_at timestamptz,
        foreign key (message_id, message_created_at) references ${T} (id, created_at) on delete cascade);
      reset role;`);
    try {
      await waitingMessage(db);
      await db.exec(`insert into others_reactions select id, created_at from ${T}`);
      const locks = await db.one<{ s: string[] }>(
        `select array(select (x).sql from unnest(partkeeper.ddl_locks('${T}', 'attach')) x) as s`,
      );
      expect(locks.s).toEqual([`lock table public.${T} in share mode`, `lock table public.${T}_default in access exclusive mode`]);
      await db.exec(`grant update on others_reactions to ${owner}`);
      const granted = await db.one<{ s: string[] }>(
        `select array(select (x).sql from unnest(partkeeper.ddl_locks('${T}', 'move')) x) as s`,
      );
      expect(granted.s).toEqual([
        `lock table public.others_reactions in share row exclusive mode`,
        `lock table public.${T} in access exclusive mode`,
        `lock table public.${T}_default in access exclusive mode`,
      ]);
      const detach = await db.one<{ s: string[] }>(
        `select array(select (x).sql from unnest(partkeeper.ddl_locks('${T}', 'detach')) x) as s`,
      );
      expect(detach.s).toEqual([
        `lock table public.others_reactions in access exclusive mode`,
        `lock table public.${T} in access exclusive mode`,
        `lock table public.${T}_default in access exclusive mode`,
      ]);
      await db.exec(`revoke update on others_reactions from ${owner}`);
      const others = await everythingElse(db);
      const run = await maintain(db);
      expect(run).toMatchObject({ status: 'ok', complete: true, rows_moved: 1 });
      expect(await everythingElse(db)).toEqual(others);
    } finally {
      await db.exec(`drop table others_reactions; reassign owned by ${owner}, ${other} to current_user;
        revoke create on schema public from ${owner}, ${other}; drop owned by ${owner}, ${other}; drop role ${owner}, ${other}`);
    }
  });
});

describeServer('a move and the application writing around it (PostgreSQL server)', () => {
  for (const held of ['rooms', 'message_reactions'] as const) {
    itServer(
      `a transaction that holds ${held} and then writes a message while a move runs is not its deadlock victim`,
      async () => {
        const db = await freshDb();
        await clock(db);
        await db.exec(`create table rooms (id bigint primary key, messages int not null default 0);
          insert into rooms (id) select g from generate_series(1, 5) g;
          alter table ${T} add foreign key (room_id) references rooms;
          create table message_reactions (message_id bigint, message_created_at timestamptz, emoji text,
            foreign key (message_id, message_created_at) references ${T} (id, created_at))`);
        // a lock_timeout longer than deadlock_timeout (1 s), as a DBA may set it
        await db.query(`select partkeeper.configure('${T}', p_lock_timeout => '2s', p_lock_retries => 5)`);
        await maintain(db);
        await db.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 1, 'now', '2027-01-05 12:00+00');
          insert into message_reactions select id, created_at, 'heart' from ${T}`);
        await waitingMessage(db);
        // the move builds the new partition's indexes under its locks; this one takes 0.4 s for the
        // waiting row, so the move holds the table that long before its ATTACH
        await db.exec(`create function slow_key(t timestamptz) returns timestamptz language plpgsql immutable as
            $f$ begin if t < '2026-11-01' then perform pg_sleep(0.4); end if; return t; end $f$;
          create index on ${T} (slow_key(created_at))`);
        const writer = await db.connect();
        const maintainer = await db.connect();
        try {
          const { pid } = await maintainer.one<{ pid: number }>('select pg_backend_pid() as pid');
          await clock(maintainer);
          await writer.exec('begin');
          if (held === 'rooms') await writer.exec('update rooms set messages = messages + 1 where id = 1');
          // marking reactions seen: no foreign-key check, so the transaction holds message_reactions alone
          else await writer.exec(`update message_reactions set emoji = 'seen'`);
          const run = maintainResult(maintainer);
          // until maintenance holds the table, or waits for the one the transaction holds
          for (let i = 0; ; i++) {
            const { busy } = await db.one<{ busy: boolean }>(
              `select exists (select from pg_locks where pid = $1 and ((relation = '${T}'::regclass and mode = 'AccessExclusiveLock' and granted)
                               or (relation = '${held}'::regclass and not granted))) as busy`,
              [pid],
            );
            if (busy) break;
            if (i > 500) throw new Error('maintenance never took the table');
            await new Promise((r) => setTimeout(r, 5));
          }
          const write = await settle(
            writer.exec(`insert into ${T} (room_id, sender_id, body, created_at) values (1, 2, 'and then', '2027-01-06 12:00+00')`),
          );
          await writer.exec(write.ok ? 'commit' : 'rollback');
          const result = await run;
          expect(write.ok ? 'written' : String((write.error as DbError).code ?? write.error)).toBe('written');
          expect(result).toMatchObject({ status: 'ok', rows_moved: 1 });
          expect(await rowsByPartition(db)).toMatchObject({ [`${T}_2026_10`]: 1 });
        } finally {
          await writer.close();
          await maintainer.close();
        }
      },
      30_000,
    );
  }

  itServer(
    'writers to the tables around the managed one, in any lock order, are never the deadlock victim of a move or a retirement',
    async () => {
      const db = await freshDb();
      await setClock(db, '2027-04-10 00:00:00+00');
      // the shape of a chat schema: rooms the messages belong to, reactions that reference messages
      await db.exec(`create table rooms (id bigint primary key, messages int not null default 0);
        insert into rooms (id) select g from generate_series(1, 50) g;
        alter table ${T} add foreign key (room_id) references rooms;
        create table message_reactions (id bigint generated always as identity primary key, message_id bigint not null,
          message_created_at timestamptz not null, emoji text,
          foreign key (message_id, message_created_at) references ${T} (id, created_at) on delete cascade)`);
      await db.query(
        // a lock_timeout longer than deadlock_timeout (1 s), as a DBA may set it: partkeeper must still give up first
        `select partkeeper.configure('${T}', p_drain_window_ahead => '4 years', p_lock_timeout => '500ms', p_lock_retries => 20)`,
      );
      await maintain(db);
      // four older months, to retire one by one as the clock moves on
      for (const m of ['2026-12', '2027-01', '2027-02', '2027-03']) {
        await db.query(`select partkeeper.create_partition('${T}', date '${m}-01')`);
      }
      await db.query(`select partkeeper.configure('${T}', p_retention => '4 months')`);
      const deadlocks = async () =>
        (
          await db.one<{ n: number }>(
            `select pg_stat_clear_snapshot(), deadlocks::int as n from pg_stat_database where datname = current_database()`,
          )
        ).n;
      const deadlocksBefore = await deadlocks();
      const known: [string, string][] = (
        await db.query<{ id: string; at: string }>(
          `insert into ${T} (room_id, sender_id, body, created_at) select 1 + g % 50, 1, 'hello', '2027-06-05 12:00+00'::timestamptz + g * interval '1 s'
             from generate_series(1, 200) g returning id::text, created_at::text as at`,
        )
      ).map((r) => [r.id, r.at]);
      const pick = () => known[Math.floor(Math.random() * known.length)]!;
      const room = () => 1 + Math.floor(Math.random() * 50);
      // each writer keeps its own order of locks, as applications do
      const writes: Record<string, (c: Db) => Promise<void>> = {
        // a reaction to any message, one waiting in the DEFAULT partition included
        reaction: async (c) => {
          const [id, at] = pick();
          await c.query('insert into message_reactions (message_id, message_created_at, emoji) values ($1, $2, $3)', [id, at, 'heart']);
        },
        // the reactions table first, then the messages
        reactionThenMessage: async (c) => {
          const [id, at] = pick();
          await c.exec('begin');
          await c.query('insert into message_reactions (message_id, message_created_at, emoji) values ($1, $2, $3)', [id, at, 'seen']);
          await c.query(`insert into ${T} (room_id, sender_id, body, created_at) values ($1, 2, 'reply', '2027-06-06 12:00+00')`, [room()]);
          await c.exec('commit');
        },
        // the messages first, then a reaction to the new one
        messageThenReaction: async (c) => {
          await c.exec('begin');
          const m = await c.one<{ id: string; at: string }>(
            `insert into ${T} (room_id, sender_id, body, created_at) values ($1, 3, 'hi', '2027-06-07 12:00+00') returning id::text, created_at::text as at`,
            [room()],
          );
          await c.query('insert into message_reactions (message_id, message_created_at, emoji) values ($1, $2, $3)', [m.id, m.at, 'wave']);
          await c.exec('commit');
        },
        // the room's counter first, then the message (the referenced table, then the managed one)
        roomThenMessage: async (c) => {
          const r = room();
          await c.exec('begin');
          await c.query('update rooms set messages = messages + 1 where id = $1', [r]);
          await c.query(`insert into ${T} (room_id, sender_id, body, created_at) values ($1, 4, 'yo', '2027-06-08 12:00+00')`, [r]);
          await c.exec('commit');
        },
      };
      const writers = await Promise.all(
        Object.keys(writes)
          .flatMap((kind) => [kind, kind])
          .map(async (kind) => ({ kind, c: await db.connect() })),
      );
      const done: Record<string, number> = {};
      const failures: string[] = [];
      let stop = false;
      const loops = writers.map(async ({ kind, c }) => {
        while (!stop && failures.length === 0) {
          try {
            await writes[kind]!(c);
            done[kind] = (done[kind] ?? 0) + 1;
            // a few milliseconds between transactions, as a busy application leaves them (writers of
            // opposite lock orders that never pause would always hold one of the tables, and
            // maintenance, which gives way to them, could wait for its locks without end)
            await new Promise((r) => setTimeout(r, Math.random() * 10));
          } catch (e) {
            failures.push(`${kind}: ${e instanceof DbError ? `${e.code} ` : ''}${(e as Error).message}`);
            await c.exec('rollback').catch(() => undefined);
          }
        }
      });

      // Months ahead of premake, each filled in the DEFAULT partition and then moved while the writers
      // run; and each time the clock moves a month on, so one month past retention retires (its DETACH
      // locks the reactions too).
      let moved = 0;
      let retired = 0;
      const run = async () => {
        const r = await maintain(db);
        moved += r.rows_moved;
        retired += r.retired.length;
      };
      const months = 4;
      for (let i = 0; i < months && failures.length === 0; i++) {
        // each month of the clock retires one of them
        await setClock(db, `2027-0${5 + i}-10 00:00:00+00`);
        const month = `${2027 + Math.floor((9 + i) / 12)}-${String(((9 + i) % 12) + 1).padStart(2, '0')}`;
        const rows = await db.query<{ id: string; at: string }>(
          `insert into ${T} (room_id, sender_id, body, created_at) select 1 + g % 50, 5, 'later', '${month}-01 00:00+00'::timestamptz + g * interval '1 min'
             from generate_series(1, 3000) g returning id::text, created_at::text as at`,
        );
        known.push(...rows.slice(0, 100).map((r): [string, string] => [r.id, r.at]));
        for (let n = 0; n < 10 && failures.length === 0 && ((await defaultRows(db)) > 0 || retired < i + 1); n++) await run();
      }
      stop = true;
      await Promise.all(loops);
      await Promise.all(writers.map(({ c }) => c.close()));

      expect(failures).toEqual([]);
      expect(moved).toBe(months * 3000);
      expect(retired).toBe(months);
      expect(await defaultRows(db)).toBe(0);
      for (const kind of Object.keys(writes)) expect(done[kind], kind).toBeGreaterThan(0);
      const reactions = (done.reaction ?? 0) + (done.reactionThenMessage ?? 0) + (done.messageThenReaction ?? 0);
      expect((await db.one<{ n: number }>('select count(*)::int as n from message_reactions')).n).toBe(reactions);
      expect((await db.one<{ n: number }>('select sum(messages)::int as n from rooms')).n).toBe(done.roomThenMessage);
      expect((await deadlocks()) - deadlocksBefore).toBe(0);
      console.info(`moves of ${moved} rows around writes ${JSON.stringify(done)}: 0 failed, 0 deadlocks`);
    },
    180_000,
  );
});
