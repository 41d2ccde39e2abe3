import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { SlowestFirst } from './harness/sequencer.ts';

// The same test files run against both backends. Each project's globalSetup makes the
// installed state its tests copy; the postgres project's also starts one server for the
// whole run (or uses DATABASE_URL). The citus project runs its own files on a Citus cluster
// its globalSetup starts.
const include = ['test/**/*.test.ts'];
const exclude = [...configDefaults.exclude, 'test/citus/**'];
// A worker runs file after file with its modules kept: PGlite's engine stays compiled and
// optimised, instead of each file paying ~2.5 s of CPU to warm up a new process. Each file still
// gets databases of its own; what a file leaves at its end, harness/file-end.ts drops.
const shared = { include, exclude, isolate: false, setupFiles: ['harness/file-end.ts'], globalSetup: ['harness/global-setup.ts'] };

export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest's default, one worker fewer than cores, runs one file at a time on two cores. A file
    // often waits (on its server's backends, a child process, pg_cron's next minute), so one worker
    // more than cores keeps every core busy. The files share one server: each uses databases and
    // roles of its own (harness/testing.ts, withRoles in harness/support.ts).
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: SlowestFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'pglite', ...shared, env: { PARTKEEPER_TARGET: 'pglite' } },
      },
      {
        extends: true,
        test: { name: 'postgres', ...shared, env: { PARTKEEPER_TARGET: 'postgres' } },
      },
      {
        extends: true,
        test: {
          name: 'citus',
          include: ['test/citus/**/*.test.ts'],
          env: { PARTKEEPER_TARGET: 'postgres' },
          globalSetup: ['harness/citus-setup.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
