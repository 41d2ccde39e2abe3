import { exitFor, type Command } from '../command.ts';
import { isMaintenanceRun, maintenanceAllSchema, parseContract, type MaintenanceResult } from '../contracts.ts';

function describe(r: MaintenanceResult): string[] {
  if (isMaintenanceRun(r)) {
    const made = r.created.map((c) => `${c.partition}${c.rows_moved ? ` (+${c.rows_moved} rows)` : ''}`);
    return [
      `${r.table}: ${r.status}: ${made.length ? `created ${made.join(', ')}` : 'nothing to create'}; ` +
        `${r.rows_moved} row(s) moved, ${r.default_rows} left in DEFAULT, horizon ${r.horizon ?? 'none'}, ${r.duration_ms} ms`,
      ...r.warnings.map((w) => `  warning [${w.code}]: ${w.message}${w.hint ? `\n    hint: ${w.hint}` : ''}`),
    ];
  }
  // a table that could not be maintained, or a busy run that waited in vain
  const error = 'error' in r ? r.error : undefined;
  if (error)
    return [`${r.table}: ${r.status}: [${error.code}] ${error.sqlstate} ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`];
  return [`${r.table}: ${r.status} (${'reason' in r ? r.reason : ''})`];
}

export const maintain: Command = {
  summary: 'run maintenance for one or all managed tables; exit 0 healthy, 2 warnings, 1 failed',
  usage: `usage: partkeeper maintain [--table NAME] [--json] [--database-url URL | --pglite DIR]

Runs CALL partkeeper.run_maintenance() for NAME, or for every registered table, each table in its
own transaction, and prints a summary (or the JSON results with --json).
Every action is logged in partkeeper.log by the SQL itself.
Exit codes: 0 every table ok (or skipped/disabled), 2 done with warnings (rows left in DEFAULT,
a lock not obtained, a run already in progress), 1 failed (an error).`,
  options: { table: { type: 'string', short: 't' }, json: { type: 'boolean' } },
  async run(ctx) {
    const db = await ctx.db();
    const table = (ctx.values.table as string | undefined) ?? null;
    const { p_results } = await db.one<{ p_results: unknown }>('call partkeeper.run_maintenance($1::regclass, false, null)', [table]);
    const results = parseContract(maintenanceAllSchema, p_results, 'CALL partkeeper.run_maintenance()');
    const status = results.status;
    // the SQL's own JSON, as it was checked: parsing rebuilds objects in the schema's key order
    if (ctx.values.json) ctx.out(JSON.stringify(p_results, null, 2));
    else {
      for (const r of results.tables) for (const line of describe(r)) ctx.out(line);
      ctx.out(results.tables.length ? `maintenance ${status}` : 'no managed tables (partkeeper.register_table() adds one)');
    }
    return exitFor(status);
  },
};
