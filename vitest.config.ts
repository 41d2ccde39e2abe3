import { defineConfig } from 'vitest/config';

// The same test files run against both backends; the postgres project gets one
// server for the whole run from its globalSetup (or DATABASE_URL).
const include = ['test/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'pglite', include, env: { PARTKEEPER_TARGET: 'pglite' } } },
      {
        extends: true,
        test: { name: 'postgres', include, env: { PARTKEEPER_TARGET: 'postgres' }, globalSetup: ['harness/global-setup.ts'] },
      },
    ],
  },
});
