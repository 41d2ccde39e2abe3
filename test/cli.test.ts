// The partkeeper command line, in-process on both databases: --pglite DIR or --database-url.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { doctorOutputSchema, maintainOutputSchema, statusOutputSchema } from '../src/outputs.ts';
import type { Db } from '../src/db.ts';
import { openPglite } from '../src/pglite.ts';
import { openPostgres } from '../src/postgres.ts';
import { freshDb, itServer, repoRoot, target } from '../harness/testing.ts';
import { cli } from '../harness/support.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A database for the CLI to work on, with the bundle NOT installed, and a way to look inside. */
async function workspace(): Promise<{ args: string[]; sql: <T>(fn: (db: Db) => Promise<T>) => Promise<T> }> {
  if (target === 'pglite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-cli-'));
    dirs.push(dir);
    // PGlite keeps one process per data dir: open it only between commands
    return {
      args: ['--pglite', dir],
      sql: async (fn) => {
        const db = await openPglite({ dataDir: dir });
        try {
          return await fn(db);
        } finally {
          await db.close();
        }
      },
    };
  }
  const db = await freshDb({ bundle: false });
  return { args: ['--database-url', db.url!], sql: (fn) => fn(db) };
}

describe('partkeeper command line', () => {
  it('apply installs, then upgrades in place, printing the versions and what it made', async () => {
    const w = await workspace();
    const first = await cli('apply', ...w.args);
    expect(first).toMatchObject({ code: 0, stdout: 'partkeeper none -> 0.1.0\n' });
    expect(first.stderr).toMatch(/^notice: partkeeper: created public\.livechat_messages$/m);
    expect(first.stderr).toMatch(
      /^notice: partkeeper: made the partitions of public\.livechat_messages for now and the premake periods: (public\.livechat_messages_\d{4}_\d{2}(, )?){3}$/m,
    );
    expect(await cli('apply', ...w.args)).toMatchObject({ code: 0, stdout: 'partkeeper 0.1.0 -> 0.1.0\n' });
  }, 60_000);

  it('apply --no-reference-table creates no table; uninstall removes partkeeper and keeps tables and rows', async () => {
    const w = await workspace();
    const applied = await cli('apply', '--no-reference-table', ...w.args);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toMatch(/public\.livechat_messages not created \(partkeeper\.create_reference_table is off\)/);
    await w.sql(async (db) => {
      expect(await db.one(`select to_regclass('public.livechat_messages') is null as none`)).toEqual({ none: true });
      await db.exec(`create table ev (at timestamptz not null) partition by range (at);
                     select partkeeper.register_table('public.ev'); select partkeeper.create_partition('public.ev', '2025-01-01');
                     insert into ev values ('2025-01-02'), ('2031-01-01')`);
    });
    expect((await cli('uninstall', ...w.args)).code).toBe(64); // without --yes
    const removed = await cli('uninstall', '--yes', ...w.args);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toMatch(/partkeeper: removed from database .*Kept, with every partition and row: public\.ev\./);
    expect(removed.stderr).not.toMatch(/drop cascades/);
    await w.sql(async (db) => {
      expect(await db.one(`select to_regnamespace('partkeeper') is null as gone`)).toEqual({ gone: true });
      expect(
        await db.query(`select proname from pg_proc where proname in ('maintain_livechat_partitions', 'create_monthly_partition')`),
      ).toEqual([]);
      expect(await db.query(`select tableoid::regclass::text as p, count(*)::int as n from ev group by 1 order by 1`)).toEqual([
        { p: 'ev_2025_01', n: 1 },
        { p: 'ev_default', n: 1 },
      ]);
    });
    expect((await cli('uninstall', '--yes', ...w.args)).stderr).toMatch(/not installed in database .*; nothing to remove/);
  }, 60_000);

  it('maintain: exit 0 healthy, 2 with rows left in DEFAULT, 1 for a table it cannot maintain; --json', async () => {
    const w = await workspace();
    await cli('apply', ...w.args);
    const first = await cli('maintain', ...w.args);
    expect(first.code).toBe(0);
    // install made the current partitions already
    expect(first.stdout).toMatch(/^public\.livechat_messages: ok: 0 partition\(s\) created, 0 row\(s\) moved, 0 retired/m);
    await w.sql((db) =>
      db.exec(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'bogus', '2099-01-01')`),
    );
    const warned = await cli('maintain', ...w.args, '--json');
    expect(warned.code).toBe(2);
    const json = maintainOutputSchema.parse(JSON.parse(warned.stdout));
    expect(json).toMatchObject({ format: 'partkeeper-maintain/1', status: 'warning', tables: [{ status: 'warning', default_rows: 1 }] });
    // in text, the period left in DEFAULT with its reason, on its own line
    const text = await cli('maintain', ...w.args);
    expect(text.stdout).toMatch(/^ {2}left in DEFAULT: 1 row\(s\) of \[2099-01-01, 2099-02-01\), since .*: after_window: /m);
    const failed = await cli('maintain', ...w.args, '--table', 'no_such_table');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^partkeeper maintain: error PK002: table 'no_such_table' does not exist$/m);
    expect(failed.stderr).toMatch(/^hint: No table 'no_such_table' is visible with search_path = /m);
  }, 60_000);

  it('status prints partitions as text, JSON and Prometheus metrics', async () => {
    const w = await workspace();
    await cli('apply', ...w.args);
    await cli('maintain', ...w.args);
    const text = await cli('status', ...w.args);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/livechat_messages \(UTC months, premake 2\): 3 partitions/);
    expect(text.stdout).toMatch(/livechat_messages_default\s+DEFAULT/);
    const json = statusOutputSchema.parse(JSON.parse((await cli('status', ...w.args, '--json')).stdout));
    expect(text.stdout).toMatch(/^ {2}retention: none, partitions are kept/m);
    expect(json.tables[0]).toMatchObject({ partition_count: 3, last_run: { status: 'ok' } });
    const prom = (await cli('status', ...w.args, '--prometheus')).stdout.trim().split('\n');
    // the exposition format ignores empty lines; prom-client puts one between metric families
    for (const line of prom.filter((l) => l !== ''))
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?(e[+-]?\d+)?)$/);
    expect(prom).toContain('partkeeper_partitions{table="public.livechat_messages"} 3');
    expect(prom).toContain('partkeeper_default_rows{table="public.livechat_messages"} 0');
    expect(prom).toContain('partkeeper_health_state{state="ok"} 1');
  }, 60_000);

  it('doctor passes a healthy setup and flags a broken one with its fix', async () => {
    const w = await workspace();
    await cli('apply', ...w.args);
    await cli('maintain', ...w.args);
    const healthy = await cli('doctor', ...w.args);
    expect(healthy.stdout).toMatch(/all checks passed/);
    expect(healthy.code).toBe(0);
    await w.sql((db) => db.exec(`alter table livechat_messages detach partition livechat_messages_default`));
    const broken = await cli('doctor', ...w.args);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/\[FAIL\] default_partition public\.livechat_messages: no DEFAULT partition/);
    expect(broken.stdout).toMatch(/fix: SELECT partkeeper\.maintain_table\('public\.livechat_messages'\); re-creates it\./);
    const json = doctorOutputSchema.parse(JSON.parse((await cli('doctor', ...w.args, '--json')).stdout));
    expect(json.status).toBe('error');
  }, 60_000);

  itServer("connections show as PGAPPNAME when it is set, else as 'partkeeper'; the URL's application_name wins", async () => {
    const db = await freshDb();
    const name = async (url: string) => {
      const c = await openPostgres(url);
      try {
        return (await c.one<{ n: string }>(`select current_setting('application_name') as n`)).n;
      } finally {
        await c.close();
      }
    };
    const saved = process.env.PGAPPNAME;
    try {
      delete process.env.PGAPPNAME;
      expect(await name(db.url!)).toBe('partkeeper');
      process.env.PGAPPNAME = 'chat-maintenance';
      expect(await name(db.url!)).toBe('chat-maintenance');
      expect(await name(`${db.url!}&application_name=from-url`)).toBe('from-url');
    } finally {
      if (saved === undefined) delete process.env.PGAPPNAME;
      else process.env.PGAPPNAME = saved;
    }
  });

  it('against an older bundle that lacks a function it calls, says to upgrade with apply', async () => {
    const w = await workspace();
    await cli('apply', ...w.args);
    // what an older install looks like to this command line: a function doctor calls is missing
    await w.sql((db) => db.exec('drop function partkeeper.worst_check_status(text[])'));
    const r = await cli('doctor', ...w.args, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^partkeeper doctor: error 42883: function partkeeper\.worst_check_status/m);
    expect(r.stderr).toMatch(
      /^hint: The partkeeper installed in this database is older than this command line: upgrade it with `partkeeper apply`/m,
    );
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: '42883', hint: expect.stringMatching(/partkeeper apply/) });
    expect((await cli('apply', ...w.args)).code).toBe(0);
    expect((await cli('doctor', ...w.args)).code).not.toBe(1);
  }, 60_000);

  it('reports wrong usage with 64 and database errors with SQLSTATE and hint, never a stack trace', async () => {
    expect((await cli('frobnicate')).code).toBe(64);
    expect((await cli('maintain', '--frequency', '3')).code).toBe(64);
    const w = await workspace();
    const r = await cli('maintain', ...w.args); // bundle not installed
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^partkeeper maintain: error 3F000: schema "partkeeper" does not exist/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  itServer(
    'maintain exits 2 when a lock cannot be had, and the next run completes',
    async () => {
      const w = await workspace();
      // the partitions are left to maintenance, which then has work to do
      await cli('apply', '--no-premake', ...w.args);
      const db = await openPostgres(w.args[1]);
      try {
        await db.query(`select partkeeper.configure('livechat_messages', p_lock_timeout => '100ms', p_lock_retries => 1)`);
        await db.exec('begin; lock table livechat_messages in row exclusive mode');
        const blocked = await cli('maintain', ...w.args);
        expect(blocked.code).toBe(2);
        expect(blocked.stdout).toMatch(/warning \[lock_timeout\]: /);
        await db.exec('commit');
        expect((await cli('maintain', ...w.args)).code).toBe(0);
      } finally {
        await db.close();
      }
    },
    60_000,
  );

  it('runs as the npx binary', () => {
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'bin/partkeeper.mjs'), '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^usage: partkeeper <command>/);
    expect(out).toMatch(/ doctor /);
  });
});
