import { randomBytes } from 'node:crypto';
import { afterAll, describe, inject, onTestFinished } from 'vitest';
import type { Db } from '../src/db.ts';
import { dropDatabase, openPostgres, withDatabase } from '../src/postgres.ts';

// The test side of the `citus` project: databases on the cluster that its globalSetup
// (harness/citus-setup.ts) started, and suites reported as not run where there is none.

/** What the citus project's globalSetup hands to test workers: the nodes' admin URLs, or why there are none. */
export type CitusInfo = { coordinator: string; workers: string[]; runId: string } | { absent: string };
declare module 'vitest' {
  export interface ProvidedContext {
    partkeeperCitus: CitusInfo;
  }
}

const info: CitusInfo = inject('partkeeperCitus');
/** Why the Citus tests do not run here, or undefined when a cluster is up. */
export const citusAbsent: string | undefined = 'absent' in info ? info.absent : undefined;

/** A suite that runs on the Citus cluster; reported as skipped, with the reason, when there is none. */
export const describeCitus = (name: string, fn: () => void): void => {
  describe.skipIf(citusAbsent !== undefined)(citusAbsent ? `${name} [citus: not run: ${citusAbsent}]` : name, fn);
};

export type CitusDb = Db & {
  readonly name: string;
  /** This database on the coordinator, for psql and other sessions. */
  readonly url: string;
  /** This database on each worker. */
  readonly workerUrls: string[];
  /** Another session on the coordinator, closed by drop(). */
  connect(): Promise<Db>;
  drop(): Promise<void>;
};

const open = new Set<CitusDb>();
afterAll(async () => {
  await Promise.allSettled([...open].map((db) => db.drop()));
});

async function onEach<T>(urls: string[], fn: (db: Db) => Promise<T>): Promise<T[]> {
  return Promise.all(
    urls.map(async (u) => {
      const db = await openPostgres(u);
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }),
  );
}

/**
 * A brand-new database on every node of the cluster with the citus extension, the coordinator
 * knowing itself and both workers (Citus keeps its metadata per database). Dropped when the test ends.
 */
export async function citusDb(): Promise<CitusDb> {
  if ('absent' in info) throw new Error(`no Citus cluster: ${info.absent}`);
  const name = `pk_${info.runId}_${randomBytes(4).toString('hex')}`;
  const nodes = [info.coordinator, ...info.workers];
  await onEach(nodes, (a) => a.exec(`create database ${name} template template0`));
  const url = withDatabase(info.coordinator, name);
  const workerUrls = info.workers.map((w) => withDatabase(w, name));
  await onEach(workerUrls, (w) => w.exec('create extension citus'));
  const db = await openPostgres(url);
  const port = (u: string) => Number(new URL(u).port);
  await db.exec(`create extension citus; select citus_set_coordinator_host('127.0.0.1', ${port(url)})`);
  for (const w of workerUrls) await db.query(`select citus_add_node('127.0.0.1', $1)`, [port(w)]);
  const others: Db[] = [];
  let dropped: Promise<void> | undefined;
  const cdb: CitusDb = Object.assign(db, {
    name,
    url,
    workerUrls,
    async connect() {
      const other = await openPostgres(url);
      others.push(other);
      return other;
    },
    drop() {
      open.delete(cdb);
      return (dropped ??= (async () => {
        await Promise.allSettled([db, ...others].map((c) => c.close()));
        // the coordinator first: its sessions hold connections to the workers' databases
        await onEach([info.coordinator], (a) => dropDatabase(a, name));
        await onEach(info.workers, (a) => dropDatabase(a, name));
      })());
    },
  });
  open.add(cdb);
  try {
    onTestFinished(() => cdb.drop());
  } catch {
    // not inside a test: afterAll drops it
  }
  return cdb;
}

/** Runs fn with a session on each worker's copy of the database. */
export function onWorkers<T>(db: CitusDb, fn: (worker: Db) => Promise<T>): Promise<T[]> {
  return onEach(db.workerUrls, fn);
}

/** A session on the coordinator's postgres database (where pg_cron keeps its jobs); the caller closes it. */
export function coordinatorAdmin(): Promise<Db> {
  if ('absent' in info) throw new Error(`no Citus cluster: ${info.absent}`);
  return openPostgres(info.coordinator);
}
