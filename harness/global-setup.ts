import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { dropDatabase, openPostgres } from '../src/postgres.ts';
import { startServer } from './server.ts';
import type { ServerInfo } from './testing.ts';

/**
 * globalSetup of the `postgres` project: one server for the whole run, either
 * DATABASE_URL or a throwaway cluster. A failure here fails the run: a missing
 * server must never turn into silently skipped tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(3).toString('hex');
  const external = process.env.DATABASE_URL;
  if (external) {
    const admin = await openPostgres(external);
    const { spl } = await admin.one<{ spl: string }>(`select current_setting('shared_preload_libraries') as spl`);
    await admin.close();
    project.provide('partkeeperServer', { adminUrl: external, hasPgCron: /\bpg_cron\b/.test(spl), runId } satisfies ServerInfo);
    return async () => {
      // A shared server outlives the run: drop whatever this run's workers left.
      const admin = await openPostgres(external);
      const left = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`pk\\_${runId}\\_%`]);
      for (const { datname } of left) await dropDatabase(admin, datname);
      await admin.close();
    };
  }
  const server = await startServer().catch((e: Error) => {
    throw new Error(`postgres project: cannot start a throwaway PostgreSQL server (set DATABASE_URL to use an existing one): ${e.message}`);
  });
  project.provide('partkeeperServer', { adminUrl: server.url(), hasPgCron: server.hasPgCron, runId } satisfies ServerInfo);
  return () => server.stop();
}
