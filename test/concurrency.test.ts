// Several sessions at once: only a real server can show these (PGlite has one connection).
import { expect } from 'vitest';
import type { MaintenanceRun } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { parseInstant } from '../harness/instant.ts';
import { catchUp, Checker, Ledger } from '../harness/invariants.ts';
import { insertSql, random } from '../harness/simulate/index.ts';
import { DbError, describeServer, expectSqlState, freshDb, itServer, setClock, type TestDb } from '../harness/testing.ts';
import { codes, defaultRows, maintain, maintainResult, settle, waitForLockWait } from '../harness/support.ts';

describeServer('concurrent sessions (PostgreSQL server)', () => {
  itServer(
    'load: inserts of random months never fail or get lost while two sessions run maintenance in a loop',
    async () => {
      const db = await freshDb();
      await db.query(`select partkeeper.configure('livechat_messages', p_max_create_per_run => 2,
                      p_drain_window_back => '4 years', p_drain_window_ahead => '4 years', p_lock_timeout => '200ms', p_lock_retries => 5)`);
      const inserters = await Promise.all(Array.from({ length: 6 }, () => db.connect()));
      const maintainers = await Promise.all(Array.from({ length: 2 }, () => db.connect()));
      const deadlocksBefore = await db.one<{ n: number }>(
        `select deadlocks::int as n from pg_stat_database where datname = current_database()`,
      );

      // every row in the ledger: which rows must exist is known exactly, not just how many
      const ledger = new Ledger();
      const rnd = random(20250901);
      const from = parseInstant('2024-01-01T00:00:00Z');
      const zones = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Europe/Berlin', 'Australia/Lord_Howe', 'Pacific/Kiritimati'];
      await Promise.all(inserters.map((c, i) => c.exec(`set timezone = '${zones[i]}'`)));
      let stop = false;
      let inserted = 0;
      const failures: string[] = [];
      const insertLoop = async (c: Db) => {
        // Any failure fails the test; stopping at the first also keeps a dead connection, whose
        // calls fail at once, from spinning this loop without ever yielding to the maintainers.
        while (!stop && failures.length === 0) {
          // 2024-01 .. 2026-12: most months have no partition when the row arrives
          const row = { id: ledger.allocate(), at: from + BigInt(Math.floor(rnd() * 1095 * 86_400e6)) };
          try {
            await c.query(insertSql('livechat_messages', [row]));
            ledger.commit([row]);
            inserted++;
          } catch (e) {
            failures.push(e instanceof DbError ? `${e.code} ${e.message}` : String(e));
          }
        }
      };
      const statuses: Record<string, number> = {};
      const codesSeen: Record<string, number> = {};
      // Sweeps of the clock over 2024-01 .. 2026-12 (so also jumps back), until 20 000 inserts raced
      // them: a count, not a time, so a slow machine runs longer instead of proving less.
      const maintainLoop = async (c: Db, offset: number) => {
        for (let pass = 0; pass < 2 || (inserted < 20_000 && failures.length === 0); pass++) {
          for (let m = 0; m < 36; m++) {
            const month = (m + offset) % 36;
            await setClock(c, `${2024 + Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}-15 00:00:00+00`);
            // busy, when the other session holds the table, is one of the outcomes counted here
            const run = await maintainResult(c);
            statuses[run.status] = (statuses[run.status] ?? 0) + 1;
            for (const w of 'warnings' in run ? run.warnings : []) codesSeen[w.code] = (codesSeen[w.code] ?? 0) + 1;
          }
        }
      };
      const loads = inserters.map(insertLoop);
      await Promise.all(maintainers.map((c, i) => maintainLoop(c, i * 18)));
      stop = true;
      await Promise.all(loads);

      // backends report their statistics when they exit
      await Promise.all([...inserters, ...maintainers].map((c) => c.close()));
      expect(failures).toEqual([]);
      const checker = new Checker(db, { table: 'livechat_messages', ledger });
      expect((await checker.check()).violations).toEqual([]);
      // a last run at the end of the range places whatever arrived after the loops' last runs
      await setClock(db, '2026-12-15 00:00:00+00');
      const last = await catchUp(db, 'livechat_messages');
      expect(last.violation).toBeUndefined();
      const { violations, facts } = await checker.check(last.run);
      expect(violations).toEqual([]);
      expect(facts.rows).toBe(inserted);
      expect(await defaultRows(db)).toBe(0);
      await db.exec('select pg_stat_clear_snapshot()');
      const deadlocksAfter = await db.one<{ n: number }>(
        `select deadlocks::int as n from pg_stat_database where datname = current_database()`,
      );
      expect(deadlocksAfter.n - deadlocksBefore.n).toBe(0);
      // runs that were not turned away as busy did work (most runs meet the other session's lock)
      expect((statuses.ok ?? 0) + (statuses.warning ?? 0)).toBeGreaterThan(0);
      const made = facts.partitions.filter((p) => !p.isDefault).length;
      console.info(
        `load: ${inserted} inserts from ${inserters.length} sessions in ${zones.length} zones, 0 failed, 0 lost, 0 deadlocks; ` +
          `${made} partitions; maintenance runs by status ${JSON.stringify(statuses)}, warnings by code ${JSON.stringify(codesSeen)}; every invariant held`,
      );
    },
    120_000,
  );

  itServer('a long reader delays maintenance but inserts keep flowing, and a later run completes', async () => {
    const db = await freshDb();
    await db.query(`select partkeeper.configure('livechat_messages', p_lock_timeout => '100ms', p_lock_retries => 2)`);
    await setClock(db, '2025-09-10 00:00:00+00');
    await maintain(db);
    const reader = await db.connect();
    const writer = await db.connect();
    const maint = await db.connect();
    await setClock(maint, '2025-10-10 00:00:00+00'); // needs 2025-12
    // an open-ended report in a long transaction: it holds every partition, the DEFAULT included
    await reader.exec(`begin; select count(*) from livechat_messages where created_at >= '2025-01-01'`);

    let inserts = 0;
    let stop = false;
    const writing = (async () => {
      while (!stop) {
        await writer.query(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'w', '2025-09-11')`);
        inserts++;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const before = inserts;
    const run: MaintenanceRun = await maintain(maint);
    const during = inserts - before;
    stop = true;
    await writing;

    expect(run.status).toBe('warning');
    expect(run.created).toEqual([]);
    expect(codes(run)).toContain('lock_timeout');
    expect(run.complete).toBe(false);
    expect(during).toBeGreaterThan(0);
    expect(await db.one(`select count(*) from partkeeper.log where action = 'maintain' and detail->>'status' = 'warning'`)).toEqual({
      count: '1',
    });

    await reader.exec('commit');
    const later = await maintain(maint);
    expect(later.status).toBe('ok');
    expect(later.created.map((c) => c.partition)).toEqual(['public.livechat_messages_2025_12']);
    expect(await db.one(`select count(*)::int as n from livechat_messages where body = 'w'`)).toEqual({ n: inserts });
  });

  itServer(
    'a maintenance backend killed in the middle of moving rows loses nothing; the next run finishes',
    async () => {
      const db = await freshDb();
      await db.query(`select partkeeper.configure('livechat_messages', p_lock_timeout => '30s')`);
      await setClock(db, '2025-10-10 00:00:00+00');
      await maintain(db);
      // 100k rows waiting in DEFAULT for 2026-01 (no partition: the horizon ends with 2025-12)
      await db.exec(`insert into livechat_messages (room_id, sender_id, body, created_at)
                   select g % 50, g % 7, 'waiting ' || g, timestamptz '2026-01-01 00:00+00' + g * interval '10 seconds'
                     from generate_series(1, 100000) g`);
      const total = await db.one(`select count(*)::int as n, sum(id)::text as ids from livechat_messages`);
      expect(await defaultRows(db)).toBe(100000);

      // A reader of the DEFAULT partition parks maintenance on its ATTACH, after the rows were moved
      // under an ACCESS EXCLUSIVE lock on the parent (no reader can plan a query of it meanwhile).
      const reader = await db.connect();
      await reader.exec(`begin; select count(*) from only livechat_messages_default`);
      const victim = await db.connect();
      await setClock(victim, '2026-01-10 00:00:00+00'); // 2026-01 is the first month it makes
      const pid = await victim.backendPid();
      const run = settle(maintain(victim));
      await waitForLockWait(db, pid, 'livechat_messages_default');
      const { moved } = await db.one<{ moved: boolean }>(
        `select exists (select from pg_locks where pid = $1 and locktype = 'relation' and mode = 'AccessExclusiveLock' and granted
                        and relation = 'livechat_messages'::regclass) as moved`,
        [pid],
      );
      expect(moved).toBe(true);
      expect((await db.one<{ t: boolean }>('select pg_terminate_backend($1) as t', [pid])).t).toBe(true);
      const outcome = await run;
      expect(outcome.ok).toBe(false);
      await reader.exec('commit');

      expect(await db.one(`select count(*)::int as n, sum(id)::text as ids from livechat_messages`)).toEqual(total);
      expect(await defaultRows(db)).toBe(100000);
      expect(await db.one(`select to_regclass('livechat_messages_2026_01') is null as absent`)).toEqual({ absent: true });

      await setClock(db, '2026-01-10 00:00:00+00');
      const next = await maintain(db);
      expect(next.rows_moved).toBe(100000);
      expect(next.status).toBe('ok');
      expect(await defaultRows(db)).toBe(0);
      expect(await db.one(`select count(*)::int as n, sum(id)::text as ids from livechat_messages`)).toEqual(total);
    },
    60_000,
  );

  itServer('run_maintenance commits each table before the next: a table waiting for a lock holds nothing of the others', async () => {
    const db = await freshDb();
    // tables run in name order: livechat_messages, then z_events
    await db.exec(`create table z_events (at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('z_events')`);
    await db.query(`select partkeeper.configure('z_events', p_lock_timeout => '20s', p_lock_retries => 0)`);
    await db.exec(`alter database ${db.name} set partkeeper.now = '2025-04-10 00:00:00+00'`);
    const reader = await db.connect();
    await reader.exec('begin; select count(*) from z_events_default'); // z_events cannot attach yet
    const runner = await db.connect();
    const pid = await runner.backendPid();
    const call = settle(runner.exec('call partkeeper.run_maintenance()'));
    await waitForLockWait(db, pid, 'z_events_default');
    // while z_events waits, livechat_messages' partitions are committed and its locks released
    expect(await db.one(`select count(*)::int as n from partkeeper.partition_bounds('livechat_messages') where not is_default`)).toEqual({
      n: 3,
    });
    expect(
      await db.one(`select count(*)::int as n from pg_locks where pid = $1 and relation = 'livechat_messages'::regclass`, [pid]),
    ).toEqual({ n: 0 });
    await reader.exec('commit');
    expect((await call).ok).toBe(true);
    expect(await db.one(`select count(*)::int as n from partkeeper.partition_bounds('z_events') where not is_default`)).toEqual({ n: 3 });
  });

  itServer('two maintenance runs at once: the second returns busy at once, or waits when asked to', async () => {
    const db: TestDb = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    const a = await db.connect();
    const b = await db.connect();
    for (const c of [a, b]) await setClock(c, '2025-09-10 00:00:00+00');
    await a.exec('begin');
    const first = await maintain(a);
    expect(first.created).toHaveLength(3);

    const second = await maintainResult(b);
    expect(second.status).toBe('busy');
    expect(await db.one(`select count(*)::int as n from partkeeper.log where action = 'busy'`)).toEqual({ n: 1 });
    // ensure_livechat_partitions waits for the running one, within lock_timeout
    await expectSqlState(b.query('select ensure_livechat_partitions()'), 'PK005');

    const waiting = settle(b.query<{ e: string[] }>('select ensure_livechat_partitions() as e'));
    await a.exec('commit');
    const ensured = await waiting;
    expect(ensured.ok && ensured.value).toEqual([
      { e: ['livechat_messages_2025_09', 'livechat_messages_2025_10', 'livechat_messages_2025_11'] },
    ]);
  });

  itServer('an uncommitted insert into a month without partition holds maintenance off that month, then is placed', async () => {
    const db = await freshDb();
    await db.query(`select partkeeper.configure('livechat_messages', p_lock_timeout => '100ms', p_lock_retries => 1)`);
    await setClock(db, '2025-09-10 00:00:00+00');
    const writer = await db.connect();
    await writer.exec(
      `begin; insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'in flight', '2025-10-05')`,
    );
    const blocked = await maintain(db);
    expect(codes(blocked)).toContain('lock_timeout');
    await writer.exec('commit');
    const run = await maintain(db);
    expect(run.status).toBe('ok');
    expect(await db.one(`select tableoid::regclass::text as p from livechat_messages`)).toEqual({ p: 'livechat_messages_2025_10' });
  });
});
