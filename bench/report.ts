// The results files: bench/results/<date>.md (every figure with its method) and <date>.json (every sample).
import type { Section, Table } from './lib.ts';

export interface RunInfo {
  date: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  smoke: boolean;
  machine: Record<string, string>;
  versions: Record<string, string>;
  settings: Record<string, string | number>;
  /** Where the cluster's files were, and on what file system. */
  storage: string;
  commit: string;
  failures: { task: string; error: string }[];
  skipped: string[];
}

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function markdownTable(t: Table): string {
  const lines = [`| ${t.head.map(cell).join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`];
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return (t.caption ? `${t.caption}\n\n` : '') + lines.join('\n');
}

function status(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'missed';
}

export function renderMarkdown(info: RunInfo, sections: Section[]): string {
  const out: string[] = [];
  out.push(`# partkeeper benchmarks, ${info.date}${info.smoke ? ' (smoke run: tiny sizes, figures mean nothing)' : ''}`);
  out.push(
    `Produced by \`${info.smoke ? 'npm run bench:smoke' : 'npm run bench'}\` in ${Math.round(info.durationS)} s ` +
      `(${info.startedAt} – ${info.finishedAt}). Every figure below was measured in this one run; contenders were run ` +
      'alternately, side by side, so compare the ratios, not absolute figures across runs or machines.',
  );
  out.push('## Machine and versions');
  out.push(
    markdownTable({
      head: ['', ''],
      rows: [...Object.entries(info.machine), ...Object.entries(info.versions), ['partkeeper commit', info.commit]],
    }),
  );
  out.push(
    `The PostgreSQL server is a throwaway cluster started by the benchmark (\`harness/server.ts\`), its files in ${info.storage}, with ` +
      '`fsync=off` and `full_page_writes=off`: durability costs are not part of any figure, so storage-bound operations ' +
      '(bulk moves, VACUUM, DELETE) are measured as CPU and memory work. Autovacuum is off so that no background VACUUM lands inside a measurement. Settings given to it:',
  );
  out.push(markdownTable({ head: ['setting', 'value'], rows: Object.entries(info.settings).map(([k, v]) => [k, String(v)]) }));
  if (info.skipped.length) out.push(`Skipped: ${info.skipped.join('; ')}.`);
  if (info.failures.length) {
    out.push('**Failures**:');
    for (const f of info.failures) out.push(`- ${f.task}: \`${f.error.split('\n')[0]}\``);
  }

  out.push('## Targets');
  const targets = sections.flatMap((s) => s.targets.map((t) => ({ ...t, section: s.title })));
  out.push(
    markdownTable({
      head: ['benchmark', 'target', 'goal', 'measured', 'status'],
      rows: targets.map((t) => [t.section, t.name, t.goal, t.measured, status(t.met)]),
    }),
  );
  const missed = targets.filter((t) => t.note);
  if (missed.length) {
    out.push('Where a target is missed or not measured:');
    for (const t of missed) out.push(`- **${t.name}**: ${t.note}`);
  }

  for (const s of sections) {
    out.push(`## ${s.title}`);
    out.push('### Method');
    out.push(...s.method);
    out.push('### Results');
    for (const t of s.tables) out.push(markdownTable(t));
    for (const f of s.files ?? []) if (f.name.endsWith('.svg')) out.push(`![${s.title}](${f.name})`);
    if (s.notes.length) out.push(...s.notes);
  }
  return `${out.join('\n\n')}\n`;
}

export function renderJson(info: RunInfo, sections: Section[]): string {
  return `${JSON.stringify({ ...info, sections: sections.map(({ files, ...s }) => ({ ...s, files: files?.map((f) => f.name) ?? [] })) }, null, 2)}\n`;
}
