import type { Command, Context } from '../command.ts';
import { size } from '../format.ts';
import { parseContract, statusSchema, type Status, type StatusTable } from '../contracts.ts';
import { PartkeeperMetrics, readSnapshot } from '../metrics.ts';
import { FORMATS } from '../outputs.ts';

const day = (ts: string | null) => (ts ? ts.slice(0, 10) : '-');

/** A table's retention facts: the setting, what it retired and freed, what comes next, what it keeps and why. */
function retention(r: StatusTable['retention']): string[] {
  if (!r.retention) return [`  retention: none, partitions are kept (${r.retired} retired earlier, ${r.archives} archive(s) recorded)`];
  const lines = [
    `  retention: ${r.retention}, ${r.mode === 'drop' ? 'dropped' : `detached${r.schema ? ` into schema ${r.schema}` : ''}`}` +
      `${r.require_archive ? ' once archived' : ''}; ${r.retired} partition(s) retired, ${size(r.bytes_freed)} freed` +
      `${r.retired_before ? `, nothing before ${day(r.retired_before)} is made again` : ''}; ${r.archives} archive(s) recorded`,
    `  next to expire: ${r.next_expiry ? `${r.next_expiry.partition} at ${r.next_expiry.at}` : 'none'}`,
  ];
  for (const k of r.expired_kept) lines.push(`  kept past retention: ${k.partition} (${k.reason}): ${k.message}`);
  return lines;
}

function text(s: Status): string[] {
  const lines = [
    `partkeeper ${s.version}, clock ${s.clock}${s.simulated_clock ? ` (simulated: partkeeper.now = ${s.simulated_clock})` : ''}`,
  ];
  for (const t of s.tables) {
    if (!t.exists) {
      lines.push('', `${t.table}: registered, but the table no longer exists (partkeeper.unregister_table())`);
      continue;
    }
    lines.push(
      '',
      `${t.table} (${t.time_zone} ${t.part_interval}s, premake ${t.premake}${t.enabled ? '' : ', DISABLED'}): ${t.partition_count} partitions, ` +
        `horizon ${day(t.horizon)} (needs ${day(t.horizon_target)}), ${t.default_rows ?? '?'} row(s) in DEFAULT`,
    );
    lines.push(
      `  ${'partition'.padEnd(40)} ${'from'.padEnd(10)}  ${'to'.padEnd(10)}  ${'rows (est.)'.padStart(11)}  ${'size'.padStart(9)}`,
    );
    for (const p of t.partitions) {
      lines.push(
        `  ${p.partition.padEnd(40)} ${(p.is_default ? 'DEFAULT' : day(p.lower)).padEnd(10)}  ${(p.is_default ? '' : day(p.upper)).padEnd(10)}  ` +
          `${String((p.is_default ? t.default_rows : p.rows_estimate) ?? '?').padStart(11)}  ${size(p.bytes).padStart(9)}`,
      );
    }
    lines.push(...retention(t.retention));
    const r = t.last_run;
    lines.push(
      r
        ? `  last maintenance: ${r.finished_at}, ${r.status}${r.complete === false ? ' (work left undone)' : ''}, ${r.result.warnings.length} warning(s)`
        : '  last maintenance: never',
    );
    for (const w of r?.result.warnings ?? []) {
      lines.push(`    warning [${w.code}]: ${w.message.replace(/\n/g, ' ')}`);
      const hint = (w as { hint?: string | null }).hint;
      if (hint) lines.push(`      hint: ${hint.replace(/\n/g, ' ')}`);
    }
  }
  lines.push('');
  if (!s.cron_jobs) lines.push('pg_cron: not installed in this database');
  else if (s.cron_jobs.length === 0) lines.push('pg_cron: installed, no partkeeper job scheduled (SELECT partkeeper.schedule_jobs())');
  else
    for (const j of s.cron_jobs) {
      lines.push(
        `pg_cron ${j.jobname} [${j.schedule}] ${j.active ? 'active' : 'INACTIVE'}, last run ${j.last_status ?? 'never'}${j.last_start ? ` at ${j.last_start}` : ''}, ${j.recent_failures} failure(s) in the last 10`,
      );
    }
  return lines;
}

/**
 * The metrics `partkeeper exporter` serves (src/metrics.ts), printed once. When the database cannot
 * be read they are partkeeper_up 0 alone, and the error goes to stderr: exit code 1.
 */
async function prometheus(ctx: Context): Promise<number> {
  const m = new PartkeeperMetrics();
  let failure: unknown;
  try {
    m.fill(await readSnapshot(await ctx.db()));
  } catch (e) {
    m.fill(null);
    failure = e;
  }
  ctx.out((await m.text()).trimEnd());
  if (failure) throw failure;
  return 0;
}

export const status: Command = {
  summary: 'managed tables, their partitions, DEFAULT rows, horizon, last maintenance and pg_cron jobs',
  usage: `usage: partkeeper status [--json | --prometheus] [--database-url URL | --pglite DIR]

Prints what partkeeper.status() returns: every managed table with its partitions (bounds,
estimated rows, size), the DEFAULT partition, the horizon, the last maintenance, and the pg_cron
jobs with their last runs, and each table's retention (setting, partitions retired and bytes
freed, the next to expire, those kept past it and why). --json prints that JSON as a
${FORMATS.status} object (schemas/status.schema.json); --prometheus prints metrics in the text
exposition format (for a scrape endpoint or node_exporter's textfile collector). Exit code 0.`,
  options: { json: { type: 'boolean' }, prometheus: { type: 'boolean' } },
  excludes: { json: ['prometheus'] },
  async run(ctx) {
    if (ctx.values.prometheus) return prometheus(ctx);
    const db = await ctx.db();
    const raw = (await db.one<{ s: unknown }>('select partkeeper.status() as s')).s;
    const s = parseContract(statusSchema, raw, 'partkeeper.status()');
    // the SQL's own JSON, as it was checked: parsing rebuilds objects in the schema's key order
    if (ctx.values.json) ctx.out(JSON.stringify({ format: FORMATS.status, ...(raw as object) }, null, 2));
    else for (const line of text(s)) ctx.out(line);
    return 0;
  },
};
