import { DbError } from '../db.ts';
import { EXIT, type Command } from '../cli.ts';

type Run = {
  table: string;
  status: string;
  reason?: string;
  created?: { partition: string; rows_moved: number }[];
  rows_moved?: number;
  default_rows?: number;
  horizon?: string | null;
  duration_ms?: number;
  warnings?: string[];
  error?: { sqlstate: string; message: string; hint: string | null };
};

/** Worst status first; the same order partkeeper.maintain_all() uses. */
function overall(runs: Run[]): 'ok' | 'warning' | 'failed' {
  if (runs.some((r) => r.status === 'failed')) return 'failed';
  if (runs.some((r) => r.status === 'warning' || r.status === 'busy')) return 'warning';
  return 'ok';
}

function describe(r: Run): string[] {
  if (r.error) return [`${r.table}: failed: ${r.error.sqlstate} ${r.error.message}${r.error.hint ? `\n  hint: ${r.error.hint}` : ''}`];
  if (!r.created) return [`${r.table}: ${r.status} (${r.reason})`];
  const made = r.created.map((c) => `${c.partition}${c.rows_moved ? ` (+${c.rows_moved} rows)` : ''}`);
  return [
    `${r.table}: ${r.status}: ${made.length ? `created ${made.join(', ')}` : 'nothing to create'}; ` +
      `${r.rows_moved} row(s) moved, ${r.default_rows} left in DEFAULT, horizon ${r.horizon ?? 'none'}, ${r.duration_ms} ms`,
    ...(r.warnings ?? []).map((w) => `  warning: ${w}`),
  ];
}

export const maintain: Command = {
  summary: 'run maintenance for one or all managed tables; exit 0 healthy, 2 warnings, 1 failed',
  usage: `usage: partkeeper maintain [--table NAME] [--json] [--database-url URL | --pglite DIR]

Runs partkeeper.maintain_table() for NAME, or for every registered table, each in its own
transaction, and prints a summary (or the JSON results with --json; progress goes to stderr).
Every action is logged in partkeeper.log by the SQL itself.
Exit codes: 0 every table ok (or skipped/disabled), 2 done with warnings (rows left in DEFAULT,
a lock not obtained, a run already in progress), 1 failed (an error).`,
  options: { table: { type: 'string', short: 't' }, json: { type: 'boolean' } },
  async run(ctx) {
    const db = await ctx.db();
    const tables = ctx.values.table
      ? [ctx.values.table as string]
      : (await db.query<{ t: string }>('select parent::text as t from partkeeper.config order by 1')).map((r) => r.t);
    const runs: Run[] = [];
    for (const [i, table] of tables.entries()) {
      ctx.err(`[${i + 1}/${tables.length}] ${table}`);
      try {
        runs.push((await db.one<{ r: Run }>('select partkeeper.maintain_table($1::regclass) as r', [table])).r);
      } catch (e) {
        // one table's error does not stop the others; a usage mistake (no such table) still counts as failed
        if (!(e instanceof DbError)) throw e;
        runs.push({ table, status: 'failed', error: { sqlstate: e.code, message: e.message, hint: e.hint ?? null } });
      }
    }
    const status = overall(runs);
    if (ctx.values.json) ctx.out(JSON.stringify({ status, tables: runs }, null, 2));
    else {
      for (const r of runs) for (const line of describe(r)) ctx.out(line);
      ctx.out(tables.length ? `maintenance ${status}` : 'no managed tables (partkeeper.register_table() adds one)');
    }
    return status === 'failed' ? EXIT.failed : status === 'warning' ? EXIT.warnings : EXIT.ok;
  },
};
