import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface ServerOptions {
  /** Directory with initdb/postgres. Default: $PG_BIN, newest /usr/lib/postgresql/N/bin, `pg_config --bindir`. */
  binDir?: string;
  /** Preload pg_cron. Default: when the library is installed; true makes its absence an error. */
  pgCron?: boolean;
  /** Parent of the cluster's temp dir. Default: $PARTKEEPER_PG_TMPDIR, /dev/shm when it has room, os.tmpdir(). */
  tmpDir?: string;
  /** Start a hot standby of the server at this URL (pg_basebackup -R) instead of a new cluster. */
  standbyOf?: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
}

export interface Server {
  readonly port: number;
  readonly socketDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly hasPgCron: boolean;
  /** postgresql://postgres@/db?host=<socketDir>&port=N, understood by pg and psql. */
  url(database?: string): string;
  /** Shut down ('immediate' = crash, recovery on start; 'fast' = clean) and start again on the same data. */
  restart(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Immediate shutdown and removal of the cluster. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

function findBinDir(explicit?: string): string {
  const ok = (dir: string) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'));
  const wanted = explicit ?? process.env.PG_BIN;
  if (wanted) {
    if (ok(wanted)) return wanted;
    throw new Error(`PostgreSQL binaries (initdb, postgres) not found in ${wanted}`);
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (ok(path.join(root, v, 'bin'))) return path.join(root, v, 'bin');
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (ok(dir)) return dir;
  } catch {
    // no pg_config on PATH: fall through to the error below
  }
  throw new Error(
    'No PostgreSQL server binaries found (looked at $PG_BIN, /usr/lib/postgresql/*/bin, pg_config --bindir). ' +
      'Install the PostgreSQL server (e.g. apt-get install postgresql-15) or set DATABASE_URL to an existing server.',
  );
}

// fsync=off is not enough on a disk: CREATE DATABASE (7.5 MB of files) took
// ~220 ms on ext4 here and ~20 ms on tmpfs, and tests create one per test.
function tempParent(explicit?: string): string {
  const wanted = explicit ?? process.env.PARTKEEPER_PG_TMPDIR;
  if (wanted) return wanted;
  try {
    const fs = statfsSync('/dev/shm');
    accessSync('/dev/shm', constants.W_OK);
    if (fs.bavail * fs.bsize >= 2 ** 31) return '/dev/shm';
  } catch {
    // no usable /dev/shm
  }
  return os.tmpdir();
}

function pgCronInstalled(binDir: string): boolean {
  const cfg = (flag: string, fallback: string) => {
    try {
      return execFileSync(path.join(binDir, 'pg_config'), [flag], { encoding: 'utf8' }).trim();
    } catch {
      return fallback;
    }
  };
  return existsSync(path.join(cfg('--pkglibdir', path.join(binDir, '../lib')), 'pg_cron.so'));
}

// initdb and postgres refuse to run as root; as root run them as `postgres`.
function osUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, but there is no "postgres" OS user to run initdb/postgres as');
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// Servers still running when the process ends, whatever the reason.
const live = new Set<{ child?: ChildProcess; dir: string }>();
let hooked = false;

function killNow(s: { child?: ChildProcess; dir: string }): void {
  live.delete(s);
  const pid = s.child && s.child.exitCode === null && s.child.signalCode === null ? s.child.pid : undefined;
  if (pid) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
    // Can't await here (exit handler): wait until the postmaster removed its
    // lock file, i.e. it and its children are gone, before deleting the dir.
    const lock = path.join(s.dir, 'data', 'postmaster.pid');
    const deadline = Date.now() + 5000;
    while (existsSync(lock) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  rmSync(s.dir, { recursive: true, force: true, maxRetries: 3 });
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => [...live].forEach(killNow));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      [...live].forEach(killNow);
      process.off(sig, onSignal);
      // Re-raise only if nobody else handles it; otherwise leave the exit to them.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

async function waitReady(url: string, exited: Promise<unknown>, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch (e) {
      // Refused until the socket exists; 57P03 while starting up / recovering.
      if (dead || Date.now() > deadline) {
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
        throw new Error(
          `PostgreSQL did not become ready (${dead ? 'it exited' : 'timeout'}): ${(e as Error).message}\n--- ${logFile} ---\n${log}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const WATCHDOG = `
while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
[ -d "$2" ] || exit 0
pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
i=0; while [ -f "$2/data/postmaster.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf "$2"`;

/** A throwaway cluster: own temp dir, unix socket only, durability off, trust auth, user postgres. */
export async function startServer(opts: ServerOptions = {}): Promise<Server> {
  const binDir = findBinDir(opts.binDir);
  const cronAvailable = pgCronInstalled(binDir);
  if (opts.pgCron && !cronAvailable) throw new Error(`pg_cron requested but not installed for ${binDir}`);
  const hasPgCron = opts.pgCron ?? cronAvailable;
  const user = osUser();

  const dir = mkdtempSync(path.join(tempParent(opts.tmpDir), 'partkeeper-pg-'));
  const state: { child?: ChildProcess; dir: string } = { dir };
  hookProcessExit();
  live.add(state);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  if (user) {
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dir, user.uid, user.gid);
    chownSync(dataDir, user.uid, user.gid);
  }
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  const [program, programArgs] = opts.standbyOf
    ? ['pg_basebackup', ['-D', dataDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync', '-d', opts.standbyOf]]
    : ['initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--no-sync']];
  try {
    await run(path.join(binDir, program), programArgs, { env, cwd: dir, ...user });
  } catch (e) {
    killNow(state);
    const err = e as Error & { stderr?: string };
    throw new Error(`${program} failed: ${err.stderr || err.message}`);
  }

  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '',
    unix_socket_directories: dir,
    port,
    // Durability off for speed, but a process crash (restart('immediate')) must
    // keep committed rows, as on a real server: fsync=off keeps them in the OS
    // page cache, while synchronous_commit=off would lose the last ~600 ms of
    // commits still in WAL buffers. With fsync off, commit-time WAL writes cost ~0.
    fsync: 'off',
    synchronous_commit: 'on',
    full_page_writes: 'off',
    // PGlite runs in UTC; the same default keeps printed timestamps identical.
    TimeZone: 'UTC',
    // publications and subscriptions between the test databases (replication.test.ts)
    wal_level: 'logical',
    ...(hasPgCron && {
      shared_preload_libraries: 'pg_cron',
      'cron.database_name': 'postgres',
      'cron.use_background_workers': 'on',
      max_worker_processes: 20,
    }),
    ...opts.settings,
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const url = (database = 'postgres') =>
    `postgresql://postgres@/${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}&port=${port}`;

  let exited: Promise<unknown> = Promise.resolve();
  const start = async () => {
    const log = openSync(logFile, 'a');
    // Spawned directly (not pg_ctl, not runuser) so the postmaster is our child:
    // we hold its pid and signals reach it, not an intermediate that rewrites them.
    const child = spawn(path.join(binDir, 'postgres'), args, { env, cwd: dir, stdio: ['ignore', log, log], ...user });
    closeSync(log);
    state.child = child;
    exited = new Promise((resolve) => child.once('exit', resolve));
    await waitReady(url(), exited, logFile);
  };
  const shutdown = async (signal: NodeJS.Signals) => {
    const child = state.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  // Exit hooks do not run on SIGKILL: a detached watchdog outlives us, then stops
  // the cluster (whatever its current pid, after restarts) and removes the dir.
  spawn('sh', ['-c', WATCHDOG, 'watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore' }).unref();
  try {
    await start();
  } catch (e) {
    killNow(state);
    throw e;
  }
  return {
    port,
    socketDir: dir,
    dataDir,
    logFile,
    hasPgCron,
    url,
    async restart(mode = 'immediate') {
      await shutdown(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
      await start();
    },
    async stop() {
      await shutdown('SIGQUIT');
      killNow(state);
    },
  };
}
