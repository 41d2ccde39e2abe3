import { exitFor, type Command } from '../command.ts';
import { isMaintenanceRun, maintenanceAllSchema, parseContract, type MaintenanceResult } from '../contracts.ts';
import { size } from '../format.ts';
import { FORMATS } from '../outputs.ts';

const day = (ts: string | null) => (ts ? ts.slice(0, 10) : 'none');

/** Every action of a run on its own line: creations, moves, retirements, what stays in DEFAULT and why. */
function describe(r: MaintenanceResult): string[] {
  if (isMaintenanceRun(r)) {
    const lines = [
      `${r.table}: ${r.status}${r.complete ? '' : ' (work left undone)'}: ${r.created.length} partition(s) created, ` +
        `${r.rows_moved} row(s) moved, ${r.retired.length} retired, ${r.default_rows} row(s) left in DEFAULT, ` +
        `horizon ${day(r.horizon)} (needs ${day(r.horizon_target)}), ${r.duration_ms} ms`,
    ];
    for (const c of r.created)
      lines.push(
        `  created ${c.partition} [${day(c.lower)}, ${day(c.upper)}) by ${c.method}${c.rows_moved ? `, ${c.rows_moved} row(s) moved in from DEFAULT` : ''}`,
      );
    for (const x of r.retired)
      lines.push(
        `  retired ${x.partition} [${day(x.lower)}, ${day(x.upper)}): ${x.mode === 'drop' ? 'dropped' : 'detached'}, ${x.bytes === null ? 'size not measured' : `${size(x.bytes)} (${x.bytes} bytes)`}`,
      );
    for (const l of r.left_in_default)
      lines.push(
        `  left in DEFAULT: ${l.rows} row(s) of ${l.period ? `[${day(l.period)}, ${day(l.period_end)})` : 'no period'}, since ${l.waiting_since}: ${l.reason}: ${l.message}`,
      );
    if (r.next_expiry) lines.push(`  next to expire: ${r.next_expiry.partition} at ${r.next_expiry.at}`);
    for (const w of r.warnings) lines.push(`  warning [${w.code}]: ${w.message}${w.hint ? `\n    hint: ${w.hint}` : ''}`);
    return lines;
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
own transaction, and prints every partition created (and the rows moved into it from DEFAULT),
every partition retired (with its size), and every period left in the DEFAULT partition with its
reason; --json prints the results as a ${FORMATS.maintain} object (schemas/maintain.schema.json).
Every action is logged in partkeeper.log by the SQL itself.
Exit codes: 0 every table ok (or skipped/disabled), 2 done with warnings (rows left in DEFAULT,
a lock not obtained, a run already in progress), 1 failed (an error).`,
  options: { table: { type: 'string', short: 't' }, json: { type: 'boolean' } },
  async run(ctx) {
    const db = await ctx.db();
    const table = (ctx.values.table as string | undefined) ?? null;
    const { p_results } = await db.one<{ p_results: unknown }>('call partkeeper.run_maintenance($1::text, false, null)', [table]);
    const results = parseContract(maintenanceAllSchema, p_results, 'CALL partkeeper.run_maintenance()');
    const status = results.status;
    // the SQL's own JSON, as it was checked: parsing rebuilds objects in the schema's key order
    if (ctx.values.json) ctx.out(JSON.stringify({ format: FORMATS.maintain, ...(p_results as object) }, null, 2));
    else {
      for (const r of results.tables) for (const line of describe(r)) ctx.out(line);
      ctx.out(results.tables.length ? `maintenance ${status}` : 'no managed tables (partkeeper.register_table() adds one)');
    }
    return exitFor(status);
  },
};
