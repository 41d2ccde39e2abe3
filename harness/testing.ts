import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it, onTestFinished, type TestFunction } from 'vitest';
import { DbError, type Db } from '../src/db.ts';
import { applyBundle } from '../src/bundle.ts';
import { openPglite } from '../src/pglite.ts';
import { dropDatabase, openPostgres, withDatabase } from '../src/postgres.ts';
import { installedDump, templateName } from './installed.ts';
import { startServer, type Server } from './server.ts';

export { DbError, type Db, type Notice } from '../src/db.ts';
export { setClock, setDatabaseClock } from './clock.ts';
export { applyBundle, bundleScript, manifestFiles, repoRoot } from '../src/bundle.ts';

/** What the postgres project's globalSetup hands to test workers. */
export interface ServerInfo {
  adminUrl: string;
  /** The server's data directory when the run started it (a standby is copied from it). */
  dataDir?: string;
  hasPgCron: boolean;
  /** The server's major version (server_version_num / 10000). */
  major: number;
  /** Prefix of this run's databases, so teardown can sweep leftovers on a shared server. */
  runId: string;
  /** The template database with the bundle installed, named by the bundle's hash (see harness/installed.ts). */
  template: string;
}
declare module 'vitest' {
  export interface ProvidedContext {
    partkeeperServer: ServerInfo;
  }
}

const env = process.env.PARTKEEPER_TARGET ?? 'pglite';
if (env !== 'pglite' && env !== 'postgres') throw new Error(`PARTKEEPER_TARGET must be pglite or postgres, not ${env}`);
export const target: 'pglite' | 'postgres' = env;

const info: ServerInfo | undefined = target === 'postgres' ? inject('partkeeperServer') : undefined;
export const hasPgCron = info?.hasPgCron ?? false;

function server(): ServerInfo {
  if (!info) {
    throw new Error(
      target === 'postgres'
        ? 'no PostgreSQL server was provided: run through the vitest "postgres" project (its globalSetup starts one, or uses DATABASE_URL)'
        : 'this needs a PostgreSQL server, but PARTKEEPER_TARGET is pglite: use describeServer/itServer',
    );
  }
  return info;
}

/** Server only: a hot standby of the test server (pg_basebackup -R, or a low-level copy), for the caller to stop(). */
export async function startStandby(): Promise<Server> {
  const { adminUrl, dataDir } = server();
  // a standby refuses to start with fewer worker processes than its primary has
  return startServer({ standbyOf: adminUrl, standbyDataDir: dataDir, pgCron: false, settings: { max_worker_processes: 20 } });
}

let admin: Promise<Db> | undefined;
/** Server only: a connection to the maintenance database (creates/drops test databases). */
export function adminDb(): Promise<Db> {
  return (admin ??= openPostgres(server().adminUrl));
}

export type TestDb = Db & {
  /** Database name (PGlite: always "postgres"). */
  readonly name: string;
  /** Server only: URL of this database, e.g. for a CLI child process. */
  readonly url?: string;
  /** Server only: another session on the same database, closed by drop(). */
  connect(): Promise<Db>;
  /** Closes every connection and drops the database; idempotent, also done automatically. */
  drop(): Promise<void>;
};

const open = new Set<TestDb>();

/**
 * Drops the databases made outside a test (beforeAll) and closes the admin connection: every test
 * file's last hook (harness/file-end.ts). A worker runs several files one after the other and keeps
 * this module loaded, so a hook registered here at import would run for the first file only.
 */
export async function endOfFile(): Promise<void> {
  await Promise.allSettled([...open].map((db) => db.drop()));
  await (await admin)?.close();
  admin = undefined;
}

/**
 * PGlite: makes `dir` (a new, empty or missing folder) a data folder holding what freshDb's copies
 * hold, for tests of commands that open a folder (`--pglite DIR`): the installed bundle, copied
 * instead of applied again (~0.3 s of CPU instead of ~2 s). The caller removes the folder.
 */
export async function installedFolder(dir: string): Promise<void> {
  const db = await openPglite({ dataDir: dir, from: await installedDump() });
  await db.close();
}

/**
 * A brand-new database for one test (or one file, from beforeAll). bundle: true (the default): the
 * current bundle installed, as a copy of one database it was installed into; 'apply': the bundle
 * applied to this database now, for tests of the install itself; false: empty.
 */
export async function freshDb(opts: { bundle?: boolean | 'apply' } = {}): Promise<TestDb> {
  const bundle = opts.bundle ?? true;
  // A server's template holds the bundle as it was when the run started; were it edited since
  // (watch mode), the template is not it, and the bundle is applied instead.
  const copy = bundle === true && (target === 'pglite' || server().template === templateName(server().runId));
  const db = target === 'pglite' ? await pgliteDb(copy) : await serverDb(copy);
  // Installs in this session make no partition by the real clock: tests set their own clock after
  // install and expect the partitions of their time only (test/install.test.ts covers the default).
  await db.exec('set partkeeper.premake_on_install = off');
  try {
    // Inside a test: drop it as soon as the test ends; elsewhere the file-level hook does it.
    onTestFinished(() => db.drop());
  } catch {
    // not inside a test
  }
  if (bundle === 'apply' || (bundle && !copy)) {
    try {
      await applyBundle(db);
    } catch (e) {
      await db.drop();
      throw e;
    }
  }
  return db;
}

function asTestDb(db: Db, name: string, url: string | undefined, release: () => Promise<void>): TestDb {
  const others: Db[] = [];
  let dropped: Promise<void> | undefined;
  const tdb: TestDb = Object.assign(db, {
    name,
    url,
    async connect(): Promise<Db> {
      if (!url) throw new Error('PGlite has a single connection: multi-session tests must use describeServer/itServer');
      const other = await openPostgres(url);
      others.push(other);
      return other;
    },
    drop(): Promise<void> {
      open.delete(tdb);
      return (dropped ??= (async () => {
        await Promise.allSettled([db, ...others].map((c) => c.close()));
        await release();
      })());
    },
  });
  open.add(tdb);
  return tdb;
}

async function pgliteDb(installed: boolean): Promise<TestDb> {
  const db = await openPglite(installed ? { from: await installedDump() } : {});
  return asTestDb(db, 'postgres', undefined, async () => {});
}

async function serverDb(installed: boolean): Promise<TestDb> {
  const { adminUrl, runId, template } = server();
  const a = await adminDb();
  const name = `pk_${runId}_${randomBytes(4).toString('hex')}`;
  // template0 when empty: a shared DATABASE_URL server may have things installed in template1.
  await a.exec(`CREATE DATABASE ${name} TEMPLATE ${installed ? template : 'template0'}`);
  const url = withDatabase(adminUrl, name);
  const db = await openPostgres(url).catch(async (e) => {
    await a.exec(`DROP DATABASE IF EXISTS ${name}`);
    throw e;
  });
  return asTestDb(db, name, url, () => dropDatabase(a, name));
}

const SKIP = target !== 'postgres';
const skipped = (name: string) => (SKIP ? `${name} [server only: skipped on ${target}]` : name);
/** A suite that needs a real server (several sessions, backends, crash); reported as skipped on PGlite. */
export const describeServer = (name: string, fn: () => void): void => {
  describe.skipIf(SKIP)(skipped(name), fn);
};
/** A test that needs a real server; reported as skipped on PGlite. */
export const itServer = (name: string, fn: TestFunction, timeout?: number): void => {
  it.skipIf(SKIP)(skipped(name), fn, timeout);
};

/** Awaits a rejection carrying SQLSTATE `code` and returns the error for further checks. */
export async function expectSqlState(promise: Promise<unknown>, code: string): Promise<DbError> {
  const outcome = await promise.then(
    () => ({ failed: false as const }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  if (!outcome.failed) return expect.fail(`expected SQLSTATE ${code}, but the statement succeeded`);
  const e = outcome.error;
  if (!(e instanceof DbError)) return expect.fail(`expected SQLSTATE ${code}, got a non-database error: ${String(e)}`);
  if (e.code !== code) return expect.fail(`expected SQLSTATE ${code}, got ${e.code}: ${e.message}`);
  return e;
}
