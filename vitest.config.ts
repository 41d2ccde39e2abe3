import { defineConfig } from 'vitest/config';

// The same test files run against both backends. Each project's globalSetup makes the
// installed state its tests copy; the postgres project's also starts one server for the
// whole run (or uses DATABASE_URL).
const include = ['test/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'pglite', include, env: { PARTKEEPER_TARGET: 'pglite' }, globalSetup: ['harness/global-setup.ts'] } },
      {
        extends: true,
        test: { name: 'postgres', include, env: { PARTKEEPER_TARGET: 'postgres' }, globalSetup: ['harness/global-setup.ts'] },
      },
    ],
  },
});
