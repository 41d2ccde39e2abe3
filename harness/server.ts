import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  type Dirent,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { chosenBinDir, chosenVersion } from './postgres-versions.ts';

export interface ServerOptions {
  /**
   * Directory with initdb/postgres. Default: $PG_BIN, the version chosen with $PARTKEEPER_PG_VERSION
   * (harness/postgres-versions.ts), newest /usr/lib/postgresql/N/bin, `pg_config --bindir`.
   */
  binDir?: string;
  /** Preload pg_cron. Default: when the library is installed; true makes its absence an error. */
  pgCron?: boolean;
  /** Parent of the cluster's temp dir. Default: $PARTKEEPER_PG_TMPDIR, /dev/shm when it has room, os.tmpdir(). */
  tmpDir?: string;
  /**
   * Start a hot standby of the server at this URL instead of a new cluster: pg_basebackup -R of
   * binDir, or where binDir has none, a copy of `standbyDataDir` made between pg_backup_start() and
   * pg_backup_stop() (the server must run binaries of binDir's version).
   */
  standbyOf?: string;
  /** The data directory of the server at standbyOf, for the copy made without pg_basebackup. */
  standbyDataDir?: string;
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
  const major = chosenVersion();
  if (major !== undefined) return chosenBinDir(major);
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

// What pg_basebackup leaves out of a copy: the server's own run state and temporary files, and the
// contents of these folders (the folders themselves must exist: a server does not start without them).
const NOT_COPIED = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'pg_internal.init']);
const EMPTIED = new Set(['pg_stat_tmp', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']);

/** Copies a directory tree; files that vanish meanwhile (a dropped database) are skipped, as pg_basebackup does. */
function copyTree(
  from: string,
  to: string,
  owner: { uid: number; gid: number } | undefined,
  skip: (name: string) => boolean = (name) => NOT_COPIED.has(name) || name.startsWith('pgsql_tmp'),
): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  if (owner) chownSync(to, owner.uid, owner.gid);
  let entries: Dirent[];
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const entry of entries) {
    if (skip(entry.name)) continue;
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)];
    try {
      if (entry.isDirectory()) copyTree(src, dst, owner, EMPTIED.has(entry.name) ? () => true : skip);
      else if (entry.isFile()) {
        copyFileSync(src, dst);
        if (owner) chownSync(dst, owner.uid, owner.gid);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/**
 * A standby's data directory without pg_basebackup (the npm builds have none, and another
 * version's refuses a newer server): the documented low-level base backup. The files are copied
 * between pg_backup_start() and pg_backup_stop() (pg_start_backup/pg_stop_backup before
 * PostgreSQL 15), the WAL once more after it, the backup label written, and the copy set to follow
 * the primary as -R does.
 */
async function copyForStandby(
  primaryUrl: string,
  primaryDataDir: string | undefined,
  dataDir: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  if (!primaryDataDir) throw new Error('no pg_basebackup here: pass standbyDataDir, the data directory of the server to copy');
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: number }>(`select current_setting('server_version_num')::int as v`);
    const before15 = rows[0]!.v < 150000;
    // A temporary slot keeps the primary's WAL from before the backup's start for as long as this
    // session lasts: the copy below takes a while, and the other tests' WAL (a CREATE DATABASE writes
    // the whole template to it) brings checkpoints that would otherwise recycle the segments the
    // standby needs to become consistent, which it would then wait for for ever.
    await client.query(`select pg_create_physical_replication_slot('partkeeper_standby_copy_' || pg_backend_pid(), true, true)`);
    await client.query(before15 ? `select pg_start_backup('standby', true, false)` : `select pg_backup_start('standby', true)`);
    // WAL segments are copied after the stop, and only those the standby replays from
    const isSegment = (name: string) => /^[0-9A-F]{24}$/.test(name);
    copyTree(primaryDataDir, dataDir, owner, (name) => NOT_COPIED.has(name) || name.startsWith('pgsql_tmp') || isSegment(name));
    const stop = await client.query<{ labelfile: string; spcmapfile: string }>(
      before15
        ? `select labelfile, spcmapfile from pg_stop_backup(false, false)`
        : `select labelfile, spcmapfile from pg_backup_stop(false)`,
    );
    const label = stop.rows[0]!.labelfile;
    const first = /START WAL LOCATION: .* \(file ([0-9A-F]{24})\)/.exec(label)?.[1];
    if (!first) throw new Error(`unexpected backup label:\n${label}`);
    copyTree(path.join(primaryDataDir, 'pg_wal'), path.join(dataDir, 'pg_wal'), owner, (name) => !isSegment(name) || name < first);
    const { rows: at } = await client.query<{ host: string; port: string }>(
      `select split_part(current_setting('unix_socket_directories'), ',', 1) as host, current_setting('port') as port`,
    );
    const autoConf = path.join(dataDir, 'postgresql.auto.conf');
    const files: [string, string][] = [
      ['backup_label', label],
      ['standby.signal', ''],
      [
        'postgresql.auto.conf',
        `${existsSync(autoConf) ? readFileSync(autoConf, 'utf8') : ''}` +
          `primary_conninfo = 'host=${at[0]!.host} port=${at[0]!.port} user=postgres application_name=standby'\n`,
      ],
    ];
    if (stop.rows[0]!.spcmapfile) files.push(['tablespace_map', stop.rows[0]!.spcmapfile]);
    for (const [name, text] of files) {
      const file = path.join(dataDir, name);
      writeFileSync(file, text, { mode: 0o600 });
      if (owner) chownSync(file, owner.uid, owner.gid);
    }
  } finally {
    await client.end();
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
  const lowLevelCopy = opts.standbyOf !== undefined && !existsSync(path.join(binDir, 'pg_basebackup'));
  const [program, programArgs] = opts.standbyOf
    ? ['pg_basebackup', ['-D', dataDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync', '-d', opts.standbyOf]]
    : ['initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--no-sync']];
  try {
    if (lowLevelCopy) await copyForStandby(opts.standbyOf!, opts.standbyDataDir, dataDir, user);
    else await run(path.join(binDir, program), programArgs, { env, cwd: dir, ...user });
  } catch (e) {
    killNow(state);
    const err = e as Error & { stderr?: string };
    throw new Error(`${lowLevelCopy ? 'copying the primary' : program} failed: ${err.stderr || err.message}`);
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
