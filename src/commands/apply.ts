import type { Command } from '../command.ts';
import type { Db } from '../db.ts';
import { applyBundle } from '../bundle.ts';

/**
 * The installed version, null when partkeeper is not installed, or 'unknown' for a role that may
 * not call partkeeper.version(): found through the catalog, which every role reads, so that a role
 * without partkeeper's rights gets to install's own check (PK009, with the GRANT as its hint)
 * rather than a 42501 here. What a role needs to install is sql/checks/install_rights.sql's alone.
 */
async function installedVersion(db: Db): Promise<string | null> {
  const { present, readable } = await db.one<{ present: boolean; readable: boolean | null }>(
    `select count(*) > 0 as present,
            bool_and(pg_catalog.has_schema_privilege(p.pronamespace, 'USAGE') and pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) as readable
       from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'partkeeper' and p.proname = 'version' and p.pronargs = 0`,
  );
  if (!present) return null;
  // two statements: a reference to a missing function fails at parse time, even under CASE
  return readable ? (await db.one<{ v: string }>('select partkeeper.version() as v')).v : 'unknown';
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
