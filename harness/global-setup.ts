import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { dropDatabase, openPostgres } from '../src/postgres.ts';
import { chosenVersion, sourceOf } from './postgres-versions.ts';
import { startServer } from './server.ts';
import type { ServerInfo } from './testing.ts';

/**
 * globalSetup of the `postgres` project: one server for the whole run, either
 * DATABASE_URL or a throwaway cluster. A failure here fails the run: a missing
 * server must never turn into silently skipped tests.
 * PARTKEEPER_PG_VERSION=<major> chooses the throwaway cluster's version
 * (harness/postgres-versions.ts); a version that comes with pg_cron must have it
 * then, so its cron tests cannot be skipped. The server's major version must be
 * the chosen one, whatever DATABASE_URL or PG_BIN point at.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(3).toString('hex');
  const major = chosenVersion();
  const external = process.env.DATABASE_URL;
  const checkVersion = async (url: string) => {
    const admin = await openPostgres(url);
    try {
      const { v, spl } = await admin.one<{ v: number; spl: string }>(
        `select current_setting('server_version_num')::int / 10000 as v, current_setting('shared_preload_libraries') as spl`,
      );
      if (major !== undefined && v !== major) {
        throw new Error(`postgres project: PARTKEEPER_PG_VERSION=${major}, but the server is PostgreSQL ${v}`);
      }
      if (major !== undefined && sourceOf(major).pgCron && !/\bpg_cron\b/.test(spl)) {
        throw new Error(`postgres project: PostgreSQL ${major} is tested with pg_cron, but the server does not preload it`);
      }
      return { v, hasPgCron: /\bpg_cron\b/.test(spl) };
    } finally {
      await admin.close();
    }
  };
  if (external) {
    const { v, hasPgCron } = await checkVersion(external);
    project.provide('partkeeperServer', { adminUrl: external, hasPgCron, major: v, runId } satisfies ServerInfo);
    return async () => {
      // A shared server outlives the run: drop whatever this run's workers left.
      const admin = await openPostgres(external);
      const left = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`pk\\_${runId}\\_%`]);
      for (const { datname } of left) await dropDatabase(admin, datname);
      await admin.close();
    };
  }
  const server = await startServer({ ...(major !== undefined && sourceOf(major).pgCron && { pgCron: true }) }).catch((e: Error) => {
    throw new Error(`postgres project: cannot start a throwaway PostgreSQL server (set DATABASE_URL to use an existing one): ${e.message}`);
  });
  try {
    const { v } = await checkVersion(server.url());
    project.provide('partkeeperServer', {
      adminUrl: server.url(),
      dataDir: server.dataDir,
      hasPgCron: server.hasPgCron,
      major: v,
      runId,
    } satisfies ServerInfo);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return () => server.stop();
}
