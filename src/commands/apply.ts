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
  usage: `usage: partkeeper apply [--no-reference-table] [--no-premake] [--database-url URL | --pglite DIR]

Applies sql/install.sql as psql would, in one transaction: it completes or changes nothing, and
running it again is safe. The bundle ships with the command: no checkout is needed. Prints the
installed version before and after, and the bundle's notices: what it created, adopted and
scheduled, and the partitions it made for now and the premake periods.
  --no-reference-table  do not create public.livechat_messages when it is missing (an existing
                        one is still adopted); SET partkeeper.create_reference_table = off
  --no-premake          leave the current partitions to the first maintenance run;
                        SET partkeeper.premake_on_install = off`,
  options: { 'no-reference-table': { type: 'boolean' }, 'no-premake': { type: 'boolean' } },
  async run(ctx) {
    const db = await ctx.db();
    if (ctx.values['no-reference-table']) await db.exec('set partkeeper.create_reference_table = off');
    if (ctx.values['no-premake']) await db.exec('set partkeeper.premake_on_install = off');
    const before = await installedVersion(db);
    ctx.err(`applying sql/install.sql (installed: ${before ?? 'none'})`);
    await applyBundle(db);
    for (const n of db.notices)
      if (n.severity !== 'NOTICE' || n.message.startsWith('partkeeper')) ctx.err(`${n.severity.toLowerCase()}: ${n.message}`);
    ctx.out(`partkeeper ${before ?? 'none'} -> ${await installedVersion(db)}`);
    return 0;
  },
};
