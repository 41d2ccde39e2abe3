// Faults only a real server has: the server shut down immediately in the middle of maintenance (on a
// throwaway cluster of this test's own, never the shared one), and roles that log in as themselves.
// The load, the long reader and the terminated backend are in concurrency.test.ts.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Db } from '../src/db.ts';
import { parseInstant } from '../harness/instant.ts';
import { catchUp, Checker, Ledger, maintainSql, maintenanceResult, type LedgerRow } from '../harness/invariants.ts';
import { openPostgres } from '../src/postgres.ts';
import { startServer } from '../harness/server.ts';
import { insertSql, random } from '../harness/simulate/index.ts';
import { applyBundle, describeServer, expectSqlState, freshDb, itServer, setClock } from '../harness/testing.ts';
import { asRole, defaultRows, settle, waitForLockWait } from '../harness/support.ts';

const T = 'livechat_messages';
const run = (db: Db) => maintenanceResult(db, maintainSql(T));

describeServer('faults (PostgreSQL server)', () => {
  itServer(
    'an immediate shutdown while maintenance moves rows out of DEFAULT, then a restart: no row lost, the next run finishes',
    async () => {
      const server = await startServer({ pgCron: false });
      const sessions: Db[] = [];
      const connect = async () => {
        const c = await openPostgres(server.url());
        sessions.push(c);
        return c;
      };
      try {
        const db = await connect();
        // the test's clock is set after install: no partitions by the real one
        await db.exec('set partkeeper.premake_on_install = off');
        await applyBundle(db);
        await db.query(`select partkeeper.configure('${T}', p_lock_timeout => '30s')`);
        await setClock(db, '2025-10-10 00:00:00+00');
        await run(db);
        // 30 000 rows of January 2026 wait in DEFAULT: the horizon ends with December
        const n = 30_000;
        await db.exec(`insert into ${T} (id, room_id, sender_id, body, created_at) overriding system value
                     select g, g % 50, g % 7, 'waiting ' || g, timestamptz '2026-01-01 00:00+00' + g * interval '10 seconds'
                       from generate_series(1, ${n}) g`);
        const ledger = new Ledger();
        const january = parseInstant('2026-01-01T00:00:00Z');
        ledger.commit(Array.from({ length: n }, (_, i): LedgerRow => ({ id: i + 1, at: january + BigInt(i + 1) * 10_000_000n })));
        expect((await new Checker(db, { table: T, ledger }).check()).violations).toEqual([]);

        // A reader of DEFAULT parks maintenance on its ATTACH, after the rows were moved in its transaction
        // (under ACCESS EXCLUSIVE on the parent).
        const reader = await connect();
        await reader.exec(`begin; select count(*) from only ${T}_default`);
        const victim = await connect();
        await setClock(victim, '2026-01-10 00:00:00+00'); // January is the first month it makes
        const pid = await victim.backendPid();
        const moving = settle(run(victim));
        await waitForLockWait(db, pid, `${T}_default`);
        const { moved } = await db.one<{ moved: boolean }>(
          `select exists (select from pg_locks where pid = $1 and mode = 'AccessExclusiveLock' and granted and relation = '${T}'::regclass) as moved`,
          [pid],
        );
        expect(moved).toBe(true);

        await server.restart('immediate');
        expect((await moving).ok).toBe(false);
        await Promise.allSettled(sessions.splice(0).map((c) => c.close()));

        // after crash recovery: every row still there, once, in DEFAULT; no half-made partition
        const after = await connect();
        const checker = new Checker(after, { table: T, ledger });
        expect((await checker.check()).violations).toEqual([]);
        expect(await defaultRows(after)).toBe(n);
        expect(await after.one(`select to_regclass('${T}_2026_01') is null as absent`)).toEqual({ absent: true });

        await setClock(after, '2026-01-10 00:00:00+00');
        const next = await run(after);
        expect(next).toMatchObject({ status: 'ok', rows_moved: n });
        expect((await checker.check(next)).violations).toEqual([]);
        expect(await defaultRows(after)).toBe(0);
        console.info(
          `immediate shutdown mid-move: ${n} rows moved and rolled back by crash recovery, 0 lost; the next run moved ${n}; every invariant held`,
        );
      } finally {
        await Promise.allSettled(sessions.map((c) => c.close()));
        await server.stop();
      }
    },
    120_000,
  );

  itServer(
    'an insert-only application role and a maintenance role, each logging in as itself, do their jobs and nothing more',
    async () => {
      const db = await freshDb();
      const suffix = randomBytes(3).toString('hex');
      const [owner, app, maint] = [`pk_owner_${suffix}`, `pk_app_${suffix}`, `pk_maint_${suffix}`];
      const password = randomBytes(12).toString('hex');
      const logins: Db[] = [];
      try {
        // the table belongs to a role nobody logs in as; the maintenance role may act as it (membership)
        // but, NOINHERIT, has none of its rights outside partkeeper
        await db.exec(`create role ${owner}; create role ${app} login password '${password}';
                     create role ${maint} login noinherit password '${password}'; grant ${owner} to ${maint};
                     alter table ${T} owner to ${owner}; alter table ${T}_default owner to ${owner}; grant create on schema public to ${owner};
                     grant select, insert on ${T} to ${app}; create table other (at timestamptz not null) partition by range (at)`);
        await db.query('select partkeeper.grant_maintenance($1)', [maint]);
        const login = async (role: string) => {
          const c = await openPostgres(asRole(db.url!, role, password));
          logins.push(c);
          return c;
        };
        const appDb = await login(app);
        const maintDb = await login(maint);
        expect(await maintDb.one('select session_user::text as s, current_user::text as c')).toEqual({ s: maint, c: maint });

        // the scheduled job, as the maintenance role: the months from its clock
        await setClock(maintDb, '2025-09-10 00:00:00+00');
        await maintDb.exec('call partkeeper.run_maintenance()');
        // the application, from a Los Angeles session: rows of any date, most in months without a partition
        await appDb.exec(`set timezone = 'America/Los_Angeles'`);
        const ledger = new Ledger();
        const rnd = random(7);
        // 2024-10 .. 2026-08, inside the drain window of a clock at 2025-09-10; and one from a broken clock
        const from = parseInstant('2024-10-01T00:00:00Z');
        for (let batch = 0; batch < 20; batch++) {
          const rows = Array.from({ length: 10 }, () => ({ id: ledger.allocate(), at: from + BigInt(Math.floor(rnd() * 700 * 86_400e6)) }));
          await appDb.query(insertSql(T, rows));
          ledger.commit(rows);
        }
        const bogus = [{ id: ledger.allocate(), at: parseInstant('2099-01-01T00:00:00Z') }];
        await appDb.query(insertSql(T, bogus));
        ledger.commit(bogus);
        // the maintenance role places them, and the owner checks every invariant
        const caught = await catchUp(maintDb, T);
        expect(caught.violation).toBeUndefined();
        expect((await new Checker(db, { table: T, ledger }).check(caught.run)).violations).toEqual([]);
        expect(await defaultRows(db)).toBe(1);
        // logged in as itself, the log names it for what it did; what it made belongs to the owner
        expect(await db.query(`select distinct run_by::text as who from partkeeper.log where action = 'create_partition'`)).toEqual([
          { who: maint },
        ]);
        expect(
          await db.query(`select distinct pg_get_userbyid(c.relowner)::text as o from pg_inherits i join pg_class c on c.oid = i.inhrelid
                              where i.inhparent = '${T}'::regclass`),
        ).toEqual([{ o: owner }]);

        // and nothing more: the application role
        let refused = 0;
        for (const sql of [
          `select * from partkeeper.log`,
          `select * from partkeeper.pending`,
          'call partkeeper.run_maintenance()',
          `select partkeeper.maintain_table('${T}')`,
          'select maintain_livechat_partitions()',
          `select create_monthly_partition('${T}', '2027-01-01')`,
          `update ${T} set body = 'changed'`,
          `delete from ${T}`,
          `truncate ${T}_default`,
          `drop table ${T}_2025_09`,
          `alter table ${T} detach partition ${T}_2025_09`,
          `create table ${T}_2031_01 partition of ${T} for values from ('2031-01-01') to ('2031-02-01')`,
        ])
          refused += Number(Boolean(await expectSqlState(appDb.query(sql), '42501')));
        // the maintenance role: no rows and no DDL of its own, no rewriting partkeeper's history
        for (const sql of [
          `select count(*) from ${T}`,
          insertSql(T, [{ id: 9999, at: parseInstant('2025-09-10T00:00:00Z') }]),
          `delete from ${T}`,
          `truncate ${T}_default`,
          `drop table ${T}_2025_09`,
          `alter table ${T} detach partition ${T}_2025_09`,
          'delete from partkeeper.log',
          `update partkeeper.log set action = 'forged'`,
        ])
          refused += Number(Boolean(await expectSqlState(maintDb.query(sql), '42501')));
        // a table whose owning role it does not belong to: refused, with the GRANT that would allow it
        for (const sql of [
          `select partkeeper.create_partition('other', '2025-09-01')`,
          `select create_monthly_partition('other', '2025-09-01')`,
          `select partkeeper.register_table('other')`,
        ]) {
          refused += Number(Boolean(await expectSqlState(maintDb.query(sql), 'PK007')));
        }
        expect(await db.one(`select premake from partkeeper.config where parent = '${T}'::regclass`)).toEqual({ premake: 2 });
        console.info(
          `roles: ${ledger.size} rows inserted by ${app}, ${caught.runs} catch-up run(s) by ${maint} as ${owner}; ${refused} refusals as expected; every invariant held`,
        );
      } finally {
        await Promise.allSettled(logins.map((c) => c.close()));
        await db.exec(`reassign owned by ${owner} to current_user; revoke create on schema public from ${owner};
                     drop owned by ${app}, ${maint}, ${owner}; drop role ${app}, ${maint}, ${owner}`);
      }
    },
  );
});
