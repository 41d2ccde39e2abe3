import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { dropDatabase, openPostgres } from '../src/postgres.ts';
import { createTemplate, installedDump, templateName } from './installed.ts';
import { startServer } from './server.ts';
import type { ServerInfo } from './testing.ts';

/**
 * globalSetup of both projects: the installed state every test copies is made once, here, before
 * any worker needs it. A failure here fails the run: a missing server must never turn into
 * silently skipped tests.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (project.config.env.PARTKEEPER_TARGET === 'pglite') {
    // made once and cached on disk, where the workers read it
    await installedDump();
    return undefined;
  }
  return setupServer(project);
}

/** The postgres project: one server for the whole run, either DATABASE_URL or a throwaway cluster, and the run's template. */
async function setupServer(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(3).toString('hex');
  const template = templateName(runId);
  const external = process.env.DATABASE_URL;
  if (external) {
    const admin = await openPostgres(external);
    try {
      const { spl } = await admin.one<{ spl: string }>(`select current_setting('shared_preload_libraries') as spl`);
      await createTemplate(admin, external, template);
      project.provide('partkeeperServer', { adminUrl: external, hasPgCron: /\bpg_cron\b/.test(spl), runId, template } satisfies ServerInfo);
    } finally {
      await admin.close();
    }
    return async () => {
      // A shared server outlives the run: drop whatever this run left, the template too.
      const admin = await openPostgres(external);
      const left = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`pk\\_${runId}\\_%`]);
      for (const { datname } of left) await dropDatabase(admin, datname);
      await admin.close();
    };
  }
  const server = await startServer().catch((e: Error) => {
    throw new Error(`postgres project: cannot start a throwaway PostgreSQL server (set DATABASE_URL to use an existing one): ${e.message}`);
  });
  try {
    const admin = await openPostgres(server.url());
    try {
      await createTemplate(admin, server.url(), template);
    } finally {
      await admin.close();
    }
  } catch (e) {
    await server.stop();
    throw e;
  }
  project.provide('partkeeperServer', { adminUrl: server.url(), hasPgCron: server.hasPgCron, runId, template } satisfies ServerInfo);
  return () => server.stop();
}
