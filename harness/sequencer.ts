import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each slow file took on a 2-core machine running three files at a time, per project. A
 * run lasts at least as long as its slowest file, and a slow file started last makes the run that
 * much longer: these start first, whichever project they belong to, and the many short files fill
 * the workers around them. cron.test.ts waits for two of pg_cron's minute boundaries (60 to 120 s),
 * mostly idle. A figure that grows stale costs only time; files not listed follow in vitest's order.
 */
const SECONDS: Record<string, Partial<Record<string, number>>> = {
  'test/cron.test.ts': { postgres: 90 },
  'test/simulate.test.ts': { pglite: 52, postgres: 34 },
  'test/readme.test.ts': { pglite: 36, postgres: 46 },
  'test/archive.test.ts': { pglite: 43, postgres: 37 },
  'test/misuse.test.ts': { pglite: 40, postgres: 14 },
  'test/properties.test.ts': { pglite: 33, postgres: 9 },
  'test/replication.test.ts': { postgres: 18 },
  'test/broken.test.ts': { pglite: 16, postgres: 14 },
  'test/package.test.ts': { pglite: 16 },
  'test/cli.test.ts': { pglite: 15 },
  'test/convert.test.ts': { postgres: 14 },
  'test/install.test.ts': { pglite: 14 },
};

/** Slowest files first, across projects (vitest's own order runs one project's files after the other's). */
export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = (f: TestSpecification) => SECONDS[relative(this.ctx.config.root, f.moduleId)]?.[f.project.name] ?? 0;
    return ordered
      .map((spec, i) => ({ spec, i, s: seconds(spec) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map(({ spec }) => spec);
  }
}
