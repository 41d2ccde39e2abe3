import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { repoRoot } from '../src/bundle.ts';
import type { CitusInfo } from './citus.ts';

// globalSetup of the `citus` project: a Citus cluster (a coordinator and two workers on this
// machine) started and stopped by the scripts of the shared Citus folder (its README). The folder
// is $PARTKEEPER_CITUS_DIR, else ../shared/citus beside the project, else /work/shared/citus. Where
// there is none, the project's suites are reported as not run, by name, and the rest of the run goes
// on; a folder that is there but whose cluster does not start fails the run.

const run = promisify(execFile);

/** The folder with citus-up.sh and citus-down.sh, or undefined when there is none. */
export function citusDir(): string | undefined {
  // when set, it is the only place looked at (so a run can also be made without Citus on purpose)
  const wanted = process.env.PARTKEEPER_CITUS_DIR;
  const candidates = wanted ? [wanted] : [path.resolve(repoRoot, '../shared/citus'), '/work/shared/citus'];
  return candidates.find((d) => existsSync(path.join(d, 'citus-up.sh')));
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Three consecutive free ports on 127.0.0.1 (the coordinator's and the two workers'). */
async function freePorts(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2))) return base;
  }
  throw new Error('no three consecutive free ports for a Citus cluster');
}

export interface CitusCluster {
  coordinator: string;
  workers: string[];
  stop(): Promise<void>;
}

/** Starts a throwaway cluster with citus-up.sh under its own data folder and ports; stop() purges it. */
export async function startCitus(dir: string): Promise<CitusCluster> {
  const base = await freePorts();
  const env = { ...process.env, CITUS_BASE: `/tmp/partkeeper-citus-${base}`, CITUS_PORT0: String(base) };
  const down = () => run(path.join(dir, 'citus-down.sh'), ['--purge'], { env }).then(() => undefined);
  try {
    await run(path.join(dir, 'citus-up.sh'), [], { env, timeout: 300_000 });
  } catch (e) {
    await down().catch(() => {});
    const err = e as Error & { stderr?: string };
    throw new Error(`citus-up.sh failed: ${err.stderr || err.message}`);
  }
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  return { coordinator: url(base), workers: [url(base + 1), url(base + 2)], stop: down };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const dir = citusDir();
  if (!dir) {
    const absent = process.env.PARTKEEPER_CITUS_DIR
      ? `no citus-up.sh in PARTKEEPER_CITUS_DIR=${process.env.PARTKEEPER_CITUS_DIR}`
      : `no Citus scripts (set PARTKEEPER_CITUS_DIR, or put them in ${path.resolve(repoRoot, '../shared/citus')})`;
    console.warn(`citus project: NOT RUN: ${absent}`);
    project.provide('partkeeperCitus', { absent } satisfies CitusInfo);
    return undefined;
  }
  const started = Date.now();
  const cluster = await startCitus(dir);
  console.info(`citus project: cluster from ${dir} up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${cluster.coordinator}`);
  project.provide('partkeeperCitus', {
    coordinator: cluster.coordinator,
    workers: cluster.workers,
    runId: randomBytes(3).toString('hex'),
  } satisfies CitusInfo);
  return () => cluster.stop();
}
