import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { dropDatabase, openPostgres } from '../src/postgres.ts';
import { createTemplate, installedDump, templateName } from './installed.ts';
import { chosenVersion, sourceOf } from './postgres-versions.ts';
import { startServer } from './server.ts';
import type { ServerInfo } from './testing.ts';

/**
 * globalSetup of both projects: the installed state every test copies is made once, here, before
 * any worker needs it. A failure here fails the run: a missing server must never turn into
 * silently skipped tests.
 * PARTKEEPER_PG_VERSION=<major> chooses the throwaway cluster's version
 * (harness/postgres-versions.ts); a version that comes with pg_cron must have it
 * then, so its cron tests cannot be skipped. The server's major version must be
 * the chosen one, whatever DATABASE_URL or PG_BIN point at.
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
    const admin = await openPostgres(external);
    try {
      await createTemplate(admin, external, template);
    } finally {
      await admin.close();
    }
    project.provide('partkeeperServer', { adminUrl: external, hasPgCron, major: v, runId, template } satisfies ServerInfo);
    return async () => {
      // A shared server outlives the run: drop whatever this run left, the template too.
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
    const admin = await openPostgres(server.url());
    try {
      await createTemplate(admin, server.url(), template);
    } finally {
      await admin.close();
    }
    project.provide('partkeeperServer', {
      adminUrl: server.url(),
      dataDir: server.dataDir,
      hasPgCron: server.hasPgCron,
      major: v,
      runId,
      template,
    } satisfies ServerInfo);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return () => server.stop();
}
