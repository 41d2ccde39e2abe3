import { bundleScript } from '../bundle.ts';
import { EXIT, type Command } from '../command.ts';

export const uninstall: Command = {
  summary: 'remove partkeeper (sql/uninstall.sql): functions, schema, jobs and wrappers go; tables and rows stay',
  usage: `usage: partkeeper uninstall --yes [--database-url URL | --pglite DIR]

Applies sql/uninstall.sql as psql would, in one transaction: removes partkeeper's pg_cron jobs of
this database (those schedule_jobs() made), the original interface's functions in public, and
schema partkeeper with its functions, views, state (configuration, log, archive records) and
grants. Every managed table stays, with its partitions (the DEFAULT ones included) and rows.
Refuses (PK013, nothing changed) when objects outside partkeeper depend on it, or while an online
conversion is under way (finish or undo it first: its trigger would go on copying every write).
  --yes   required: the configuration and the log are removed with the schema`,
  options: { yes: { type: 'boolean' } },
  async run(ctx) {
    if (!ctx.values.yes) {
      ctx.err('partkeeper uninstall: add --yes to remove partkeeper (its configuration and log go with it; tables and rows stay)');
      return EXIT.usage;
    }
    const db = await ctx.db();
    await db.exec(bundleScript(undefined, 'sql/uninstall.sql'));
    for (const n of db.notices) ctx.err(`${n.severity.toLowerCase()}: ${n.message}`);
    ctx.out('partkeeper removed; tables, partitions and rows kept');
    return EXIT.ok;
  },
};
