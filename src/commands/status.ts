import type { Command } from '../command.ts';
import { size } from '../format.ts';
import { healthSchema, parseContract, statusSchema, type Health, type Status, type StatusTable } from '../contracts.ts';
import { FORMATS } from '../outputs.ts';

const day = (ts: string | null) => (ts ? ts.slice(0, 10) : '-');
const seconds = (ts: string) => Date.parse(ts) / 1000;

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

/** Prometheus text exposition format (version 0.0.4). Metric names are documented in the README. */
export function prometheus(s: Status, health: Health['status']): string[] {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const labels = (l: Record<string, string>) =>
    `{${Object.entries(l)
      .map(([k, v]) => `${k}="${esc(v)}"`)
      .join(',')}}`;
  const metrics: Record<string, { help: string; samples: [Record<string, string>, number][] }> = {};
  const add = (name: string, help: string, l: Record<string, string>, value: number) => {
    (metrics[name] ??= { help, samples: [] }).samples.push([l, value]);
  };
  add('partkeeper_info', 'Installed partkeeper version.', { version: s.version }, 1);
  add('partkeeper_health_status', 'Worst health check: 0 ok, 1 warning, 2 error.', {}, { ok: 0, warning: 1, error: 2 }[health]);
  for (const t of s.tables) {
    const tl = { table: t.table };
    if (!t.exists) continue; // registered, but the table was dropped (health says so)
    add('partkeeper_partitions', 'Partitions of the table, DEFAULT excluded.', tl, t.partition_count);
    // unknown to a role that may not count them before the first run: no sample rather than "null"
    if (t.default_rows !== null) add('partkeeper_default_rows', 'Rows waiting in the DEFAULT partition.', tl, t.default_rows);
    add(
      'partkeeper_horizon_timestamp_seconds',
      'End of the contiguous partitions from now (0: none holds now).',
      tl,
      t.horizon ? seconds(t.horizon) : 0,
    );
    add('partkeeper_horizon_target_timestamp_seconds', 'What premake asks the horizon to reach.', tl, seconds(t.horizon_target));
    if (t.last_run) {
      add('partkeeper_last_run_timestamp_seconds', 'When maintenance last finished (real clock).', tl, seconds(t.last_run.finished_at));
      add('partkeeper_last_run_status', 'Status of the last maintenance run, as a label.', { ...tl, status: t.last_run.status }, 1);
      add(
        'partkeeper_last_run_complete',
        'The last maintenance run did everything it wanted (0: work left undone).',
        tl,
        t.last_run.complete === false ? 0 : 1,
      );
    }
    for (const p of t.partitions) {
      const pl = { ...tl, partition: p.partition };
      add('partkeeper_partition_bytes', 'Total size of the partition with indexes and TOAST.', pl, p.bytes);
      if (p.rows_estimate !== null) add('partkeeper_partition_rows_estimate', 'Estimated rows (pg_class.reltuples).', pl, p.rows_estimate);
    }
  }
  for (const j of s.cron_jobs ?? []) {
    add('partkeeper_cron_job_active', 'pg_cron job is active.', { job: j.jobname }, j.active ? 1 : 0);
    add(
      'partkeeper_cron_job_last_run_success',
      'Last run of the pg_cron job succeeded (0: failed or never ran).',
      { job: j.jobname },
      j.last_status === 'succeeded' ? 1 : 0,
    );
    add('partkeeper_cron_job_recent_failures', 'Failed runs among the last 10 of the pg_cron job.', { job: j.jobname }, j.recent_failures);
  }
  return Object.entries(metrics).flatMap(([name, m]) => [
    `# HELP ${name} ${m.help}`,
    `# TYPE ${name} gauge`,
    ...m.samples.map(([l, v]) => `${name}${Object.keys(l).length ? labels(l) : ''} ${v}`),
  ]);
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
  async run(ctx) {
    const db = await ctx.db();
    const raw = (await db.one<{ s: unknown }>('select partkeeper.status() as s')).s;
    const s = parseContract(statusSchema, raw, 'partkeeper.status()');
    // the SQL's own JSON, as it was checked: parsing rebuilds objects in the schema's key order
    if (ctx.values.json) ctx.out(JSON.stringify({ format: FORMATS.status, ...(raw as object) }, null, 2));
    else if (ctx.values.prometheus) {
      const h = parseContract(healthSchema, (await db.one<{ h: unknown }>('select partkeeper.health() as h')).h, 'partkeeper.health()');
      for (const line of prometheus(s, h.status)) ctx.out(line);
    } else for (const line of text(s)) ctx.out(line);
    return 0;
  },
};
