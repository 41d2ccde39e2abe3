import type { Command } from '../command.ts';
import type { Db } from '../db.ts';
import { applyBundle } from '../bundle.ts';

async function installedVersion(db: Db): Promise<string | null> {
  // two statements: a reference to a missing function fails at parse time, even under CASE
  const { present } = await db.one<{ present: boolean }>(`select to_regprocedure('partkeeper.version()') is not null as present`);
  return present ? (await db.one<{ v: string }>('select partkeeper.version() as v')).v : null;
}

export const apply: Command = {
  summary: 'install or upgrade the SQL bundle (sql/install.sql) in place',
  usage: `usage: partkeeper apply [--database-url URL | --pglite DIR]

Applies sql/install.sql as psql would, in one transaction: it completes or changes nothing, and
running it again is safe. Prints the installed version before and after, and the bundle's notices.`,
  async run(ctx) {
    const db = await ctx.db();
    const before = await installedVersion(db);
    ctx.err(`applying sql/install.sql (installed: ${before ?? 'none'})`);
    await applyBundle(db);
    for (const n of db.notices)
      if (n.severity !== 'NOTICE' || n.message.startsWith('partkeeper')) ctx.err(`${n.severity.toLowerCase()}: ${n.message}`);
    ctx.out(`partkeeper ${before ?? 'none'} -> ${await installedVersion(db)}`);
    return 0;
  },
};
