import { configDefaults, defineConfig } from 'vitest/config';

// The same test files run against both backends. Each project's globalSetup makes the
// installed state its tests copy; the postgres project's also starts one server for the
// whole run (or uses DATABASE_URL). The citus project runs its own files on a Citus cluster
// its globalSetup starts.
const include = ['test/**/*.test.ts'];
const exclude = [...configDefaults.exclude, 'test/citus/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'pglite', include, exclude, env: { PARTKEEPER_TARGET: 'pglite' }, globalSetup: ['harness/global-setup.ts'] },
      },
      {
        extends: true,
        test: { name: 'postgres', include, exclude, env: { PARTKEEPER_TARGET: 'postgres' }, globalSetup: ['harness/global-setup.ts'] },
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
