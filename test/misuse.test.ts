// The command line under ordinary mistakes, as a separate process under a time limit: each case ends
// with a clear message and its exit code, never a hang or a stack trace.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, connection } from '../src/cli.ts';
import { errorOutputSchema } from '../src/outputs.ts';
import { openPglite } from '../src/pglite.ts';
import { freshDb, target } from '../harness/testing.ts';
import { runChild } from '../harness/child.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'partkeeper-misuse-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** No stack trace, no driver warning: what cron would mail. */
const clean = (stderr: string) => {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/DeprecationWarning|EPIPE/);
};

/** A database with partkeeper installed, as command-line arguments. */
async function installed(): Promise<string[]> {
  if (target === 'pglite') {
    const dir = path.join(tempDir(), 'db');
    const r = await runChild(['apply', '--pglite', dir], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return ['--pglite', dir];
  }
  const db = await freshDb();
  return ['--database-url', db.url!];
}

/**
 * A stand-in server that asks for a password the way `kind` says (SCRAM, or in clear text), records
 * the startup parameters and the password it receives, and then refuses the login with 28P01.
 */
async function passwordServer(kind: 'scram' | 'cleartext') {
  const seen: { params?: Record<string, string>; password?: string } = {};
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    let started = false;
    s.on('error', () => {});
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!started && buf.length >= 4 && buf.length >= buf.readInt32BE(0)) {
        const parts = buf.subarray(8, buf.readInt32BE(0)).toString('utf8').split('\0');
        seen.params = {};
        for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) seen.params[parts[i]!] = parts[i + 1]!;
        started = true;
        buf = Buffer.alloc(0);
        if (kind === 'scram') {
          const mech = Buffer.from('SCRAM-SHA-256\0\0');
          const m = Buffer.alloc(9);
          m.write('R');
          m.writeInt32BE(8 + mech.length, 1);
          m.writeInt32BE(10, 5);
          s.write(Buffer.concat([m, mech]));
        } else {
          const m = Buffer.alloc(9);
          m.write('R');
          m.writeInt32BE(8, 1);
          m.writeInt32BE(3, 5);
          s.write(m);
        }
        return;
      }
      if (started && buf.length >= 5 && buf[0] === 'p'.charCodeAt(0)) {
        seen.password = buf.subarray(5, 1 + buf.readInt32BE(1) - 1).toString('utf8');
        const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed (stand-in server)\0\0');
        const e = Buffer.alloc(5);
        e.write('E');
        e.writeInt32BE(4 + fields.length, 1);
        s.end(Buffer.concat([e, fields]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('the command line under misuse', () => {
  let args: string[];
  beforeAll(async () => {
    args = await installed();
  }, 180_000);

  it('--version prints the version and starts fast', async () => {
    const r = await runChild(['--version'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ code: 0, timedOut: false });
    expect(r.stdout).toMatch(/^partkeeper \d+\.\d+\.\d+\n$/);
  });

  it('status | head: a closed stdout ends the command quietly, without an EPIPE stack', async () => {
    const r = await runChild(['status', ...args], {
      timeoutMs: 60_000,
      // the reader goes away before the first line is written, as `head -0` would
      during: (child) => child.stdout?.destroy(),
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    clean(r.stderr);
  }, 70_000);

  it('a server that asks for a password when none is given: an error at once, no hang', async () => {
    const fake = await passwordServer('scram');
    try {
      const r = await runChild(['status', '--database-url', `postgres://alice@127.0.0.1:${fake.port}/app`], {
        timeoutMs: 15_000,
        env: { PGPASSWORD: undefined, PGPASSFILE: path.join(tempDir(), 'none') },
      });
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error 28P01: the server asks for a password for user "alice" and none was given/);
      expect(r.stderr).toMatch(/hint: .*PGPASSWORD/);
      clean(r.stderr);
    } finally {
      await fake.close();
    }
  });

  it("a password from the password file is sent, without the driver's deprecation warning", async () => {
    const fake = await passwordServer('cleartext');
    const passfile = path.join(tempDir(), 'pgpass');
    writeFileSync(passfile, `127.0.0.1:${fake.port}:app:alice:s3cret\n`, { mode: 0o600 });
    try {
      const r = await runChild(['status', '--database-url', `postgres://alice@127.0.0.1:${fake.port}/app`], {
        timeoutMs: 15_000,
        env: { PGPASSWORD: undefined, PGPASSFILE: passfile },
      });
      expect(fake.seen.password).toBe('s3cret');
      expect(r).toMatchObject({ code: 1, timedOut: false });
      expect(r.stderr).toMatch(/error 28P01: password authentication failed \(stand-in server\)/);
      clean(r.stderr);
    } finally {
      await fake.close();
    }
  });

  it("libpq's key=value connection strings are understood; other URL schemes and unknown keywords are usage errors", async () => {
    const fake = await passwordServer('scram');
    try {
      const r = await runChild(['status', '--database-url', `host=127.0.0.1 port=${fake.port} dbname='my app' user=alice`], {
        timeoutMs: 15_000,
        env: { PGPASSWORD: undefined, PGPASSFILE: path.join(tempDir(), 'none') },
      });
      expect(fake.seen.params).toMatchObject({ user: 'alice', database: 'my app' });
      expect(r).toMatchObject({ code: 1, timedOut: false });
      clean(r.stderr);
    } finally {
      await fake.close();
    }
    const mysql = await runChild(['status', '--database-url', 'mysql://u@localhost/app'], { timeoutMs: 10_000 });
    expect(mysql.code).toBe(64);
    expect(mysql.stderr).toMatch(/mysql:\/\/ is not a PostgreSQL URL/);
    const typo = await runChild(['status', '--database-url', 'hots=localhost dbname=app'], { timeoutMs: 10_000 });
    expect(typo.code).toBe(64);
    expect(typo.stderr).toMatch(/unknown connection keyword "hots"/);
    const env = await runChild(['status'], { timeoutMs: 10_000, env: { DATABASE_URL: 'http://localhost/app' } });
    expect(env.code).toBe(64);
    expect(env.stderr).toMatch(/DATABASE_URL: http:\/\/ is not a PostgreSQL URL/);
  });

  it('a partition named on the command line that does not exist: PK002 with the name in its hint', async () => {
    const r = await runChild(['archive', 'public.no_such_partition', '--dir', tempDir(), ...args], { timeoutMs: 60_000 });
    expect(r).toMatchObject({ code: 1, timedOut: false });
    expect(r.stderr).toMatch(/error PK002: table 'public.no_such_partition' does not exist/);
    expect(r.stderr).toMatch(/^hint: .*'public.no_such_partition'/m);
    clean(r.stderr);
  }, 70_000);

  it('archive --dir under /proc fails at once with the reason', async () => {
    const r = await runChild(['archive', 'public.livechat_messages_2025_01', '--dir', '/proc/partkeeper/x', ...args], {
      timeoutMs: 15_000,
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write archives into \/proc\/partkeeper\/x/);
    clean(r.stderr);
  });

  it('an option given twice, extra arguments, a bad number: exit 64 before anything runs', async () => {
    const twice = await runChild(['maintain', '--table', 'a', '--table', 'b', ...args], { timeoutMs: 10_000 });
    expect(twice.code).toBe(64);
    expect(twice.stderr).toMatch(/--table given 2 times \(a, b\); give it once/);
    const extra = await runChild(['maintain', 'livechat_messages', ...args], { timeoutMs: 10_000 });
    expect(extra.code).toBe(64);
    expect(extra.stderr).toMatch(/unexpected argument: livechat_messages/);
    const skew = await runChild(['doctor', '--max-clock-skew', 'x', ...args], { timeoutMs: 10_000 });
    expect(skew.code).toBe(64);
    expect(skew.stderr).toMatch(/--max-clock-skew must be a number of seconds, got "x"/);
    const rows = await runChild(['doctor', '--max-default-rows', '-1', ...args], { timeoutMs: 10_000 });
    expect(rows.code).toBe(64);
    const contradictory = await runChild(['convert', 'livechat_messages', '--undo', '--finish', ...args], { timeoutMs: 10_000 });
    expect(contradictory.code).toBe(64);
    expect(contradictory.stderr).toMatch(/--undo goes back .* --finish/);
    for (const r of [twice, extra, skew, rows, contradictory]) clean(r.stderr);
  });

  it('sizes as people write them: --max-partition-bytes 50GB, and a clear refusal of what is not one', async () => {
    const ok = await runChild(['doctor', '--max-partition-bytes', '50GB', '--json', ...args], { timeoutMs: 60_000 });
    expect(ok.timedOut).toBe(false);
    expect(JSON.parse(ok.stdout)).toMatchObject({ format: 'partkeeper-doctor/1' });
    const bad = await runChild(['doctor', '--max-partition-bytes', 'lots', ...args], { timeoutMs: 60_000 });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--max-partition-bytes: invalid size: "lots"/);
    const age = await runChild(['doctor', '--max-run-age', 'soon', ...args], { timeoutMs: 60_000 });
    expect(age.code).toBe(64);
    expect(age.stderr).toMatch(/--max-run-age: invalid input syntax for type interval/);
  }, 130_000);

  it('errors under --json are JSON on stdout too', async () => {
    const r = await runChild(['status', '--json', '--database-url', 'postgres://nobody@127.0.0.1:1/none'], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    const out = errorOutputSchema.parse(JSON.parse(r.stdout));
    expect(out).toMatchObject({ command: 'status', error: { code: 'ECONNREFUSED' } });
    const usage = await runChild(['maintain', '--json', 'extra'], { timeoutMs: 10_000 });
    expect(usage.code).toBe(64);
    expect(errorOutputSchema.parse(JSON.parse(usage.stdout)).error.code).toBe('usage');
  });

  it('--pglite refuses a folder that holds something else, and leaves it as it was', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'photos'));
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = await runChild(['apply', '--pglite', dir], { timeoutMs: 15_000 });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/the folder is not empty and holds no database/);
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'photos']);
  });
});

describe('options that contradict each other or mean nothing together', () => {
  it('are refused with exit 64 before anything runs, whichever command', async () => {
    const cases: [string[], RegExp][] = [
      [['status', '--json', '--prometheus'], /--json and --prometheus exclude each other/],
      [['status', '--prometheus', '--json'], /--prometheus and --json exclude each other/],
      [
        ['maintain', '--database-url', 'postgres://x@127.0.0.1:1/x', '--pglite', tempDir()],
        /--database-url and --pglite exclude each other/,
      ],
      [
        ['exporter', '--pglite', tempDir(), '--database-url', 'postgres://x@127.0.0.1:1/x'],
        /--pglite and --database-url exclude each other/,
      ],
      [['archive', 'p', '--allow-fewer-rows'], /--allow-fewer-rows goes with --force/],
      [['simulate', '--keep'], /--keep goes with --database-url/],
      [['simulate', '--list', '--months', '3'], /--list takes no other option or argument \(got --months\)/],
      [['simulate', '--list', 'clock-chaos'], /--list takes no other option or argument \(got clock-chaos\)/],
    ];
    const runs = await Promise.all(cases.map(([argv]) => runChild(argv, { timeoutMs: 20_000, env: { DATABASE_URL: undefined } })));
    runs.forEach((r, i) => {
      const [argv, message] = cases[i]!;
      expect({ argv, code: r.code }).toEqual({ argv, code: 64 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/\nusage: partkeeper /);
      clean(r.stderr);
    });
    const json = await runChild(['status', '--json', '--prometheus'], { timeoutMs: 20_000 });
    expect(errorOutputSchema.parse(JSON.parse(json.stdout)).error).toMatchObject({ code: 'usage' });
  }, 60_000);

  it('every option a rule names is an option of its command', async () => {
    for (const [name, load] of Object.entries(commands)) {
      const command = await load();
      const known = new Set([...Object.keys(connection), ...Object.keys(command.options ?? {})]);
      const named = [
        ...Object.entries(command.excludes ?? {}).flat(2),
        ...Object.entries(command.needs ?? {}).flat(),
        ...(command.alone ?? []),
      ];
      expect({ name, unknown: named.filter((o) => !known.has(o)) }).toEqual({ name, unknown: [] });
    }
  });
});

describe('archive stopped by a signal', () => {
  // One database for both signals: a stopped archive changes nothing, which each test checks, so the
  // second finds what the first found.
  let args: string[];
  beforeAll(async () => {
    args = await installed();
    // enough rows that writing the archive takes a while
    const fill = `insert into livechat_messages (room_id, sender_id, body, created_at)
                  select g % 100, g % 7, repeat(md5(g::text), 4), '2025-01-01'::timestamptz + (g % 2600000) * interval '1 second'
                    from generate_series(1, 300000) g`;
    await sql(args, async (db) => {
      await db.query(`select partkeeper.create_partition('livechat_messages', '2025-01-01')`);
      await db.exec(fill);
    });
  }, 240_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: the temporary files are removed, nothing is recorded, and it says so`, async () => {
      const dir = path.join(tempDir(), 'archives');
      let sent = false;
      const r = await runChild(['archive', 'public.livechat_messages_2025_01', '--dir', dir, '--progress', ...args], {
        timeoutMs: 120_000,
        during: (child, seen) => {
          const poll = setInterval(() => {
            if (!sent && /archive public\.livechat_messages_2025_01: \d+%/.test(seen.stderr())) {
              sent = true;
              child.kill(signal);
            }
          }, 5);
          child.on('close', () => clearInterval(poll));
        },
      });
      expect(sent).toBe(true);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(r.stderr).toMatch(new RegExp(`stopped by ${signal}: the archive of public.livechat_messages_2025_01 was not recorded`));
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      await sql(args, async (db) => {
        expect(await db.one(`select count(*)::int as n from partkeeper.archives`)).toEqual({ n: 0 });
        // the partition still holds every row
        expect(await db.one(`select count(*)::int as n from only livechat_messages_2025_01`)).toEqual({ n: 300000 });
      });
    }, 240_000);
  }
});

/** Runs fn on the database the arguments name, between commands (a PGlite folder has one user at a time). */
async function sql(args: string[], fn: (db: import('../src/db.ts').Db) => Promise<void>): Promise<void> {
  const { openPostgres } = await import('../src/postgres.ts');
  const db = args[0] === '--pglite' ? await openPglite({ dataDir: args[1]! }) : await openPostgres(args[1]!);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}
