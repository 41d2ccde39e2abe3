// `npm run bench`: every benchmark in one run on one throwaway PostgreSQL 15 server, results in
// bench/results/<date>.md and .json (and the SVG). `--smoke`: tiny sizes, results in a temp dir,
// exit status 1 when any benchmark fails. `--only insert,drain` runs some; `--out DIR` writes
// elsewhere; `--root DIR` benchmarks the sql/install.sql of another checkout; `--without-partman`
// skips the pg_partman contenders as if it were not installed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import { $ } from 'zx';
import { openPostgres } from '../src/postgres.ts';
import { startServer } from '../harness/server.ts';
import { benefits } from './benefits.ts';
import { conversion } from './conversion.ts';
import { drain } from './drain.ts';
import { insertPath } from './insert.ts';
import { dropDatabase, freshDatabase, type Ctx, type Section } from './lib.ts';
import { locking } from './locking.ts';
import { maintenance } from './maintenance.ts';
import { online } from './online.ts';
import { parked } from './parked.ts';
import { renderJson, renderMarkdown, type RunInfo } from './report.ts';
import { simulation } from './simulation.ts';

const TASKS: { id: string; run: (ctx: Ctx) => Promise<Section> }[] = [
  { id: 'insert', run: insertPath },
  { id: 'maintenance', run: maintenance },
  { id: 'drain', run: drain },
  { id: 'locking', run: locking },
  { id: 'parked', run: parked },
  { id: 'conversion', run: conversion },
  { id: 'online', run: online },
  { id: 'benefits', run: benefits },
  { id: 'simulation', run: simulation },
];

const USAGE = `usage: tsx bench/run.ts [--smoke] [--only ${TASKS.map((t) => t.id).join(',')}] [--out DIR] [--root CHECKOUT] [--without-partman]\n`;

function parseArgs(argv: string[]): { smoke: boolean; only: string[] | null; out: string | null; root: string | null; partman: boolean } {
  let values: { smoke?: boolean; 'without-partman'?: boolean; only?: string; out?: string; root?: string; help?: boolean };
  try {
    ({ values } = parseCommandLine({
      args: argv,
      options: {
        smoke: { type: 'boolean' },
        'without-partman': { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    process.exit(64);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const only = values.only === undefined ? null : values.only.split(',').filter(Boolean);
  for (const id of only ?? []) {
    if (!TASKS.some((t) => t.id === id)) {
      process.stderr.write(`unknown benchmark ${id}; known: ${TASKS.map((t) => t.id).join(', ')}\n`);
      process.exit(64);
    }
  }
  return { smoke: !!values.smoke, only, out: values.out ?? null, root: values.root ?? null, partman: !values['without-partman'] };
}

/** A command's trimmed output, or '' when it fails: for the facts the results file reports. */
function sh(cmd: string, args: string[], cwd?: string): string {
  const r = $.sync({ cwd: cwd ?? process.cwd(), nothrow: true, quiet: true })`${cmd} ${args}`;
  return r.exitCode === 0 ? r.stdout.trim() : '';
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const args = parseArgs(process.argv.slice(2));
const sqlRoot = path.resolve(args.root ?? root);
const t0 = performance.now();
const startedAt = new Date();
const say = (line: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// Bounded sizes: the full run fits in about 15 minutes on 2 cores, most of it the 10-million-row task.
const settings: Record<string, string | number> = args.smoke
  ? { max_locks_per_transaction: 256, autovacuum: 'off' }
  : {
      shared_buffers: '2GB',
      maintenance_work_mem: '512MB',
      work_mem: '16MB',
      max_wal_size: '16GB',
      checkpoint_timeout: '30min',
      max_locks_per_transaction: 256,
      autovacuum: 'off',
    };
// pg_stat_statements (PostgreSQL's contrib, in Debian's server package) is preloaded but idle
// (track = none); the maintenance benchmark turns it on in one session to show where time goes.
const pgBin = findPgBin();
const pkglibdir = sh(path.join(pgBin, 'pg_config'), ['--pkglibdir']) || path.join(pgBin, '../lib');
const statements = existsSync(path.join(pkglibdir, 'pg_stat_statements.so'));
if (statements) Object.assign(settings, { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'none' });
// The full run's cluster lives on disk (page cache, fsync off) rather than on tmpfs: its ~10 GB of
// tables, indexes and WAL would otherwise sit in the shared machine's RAM twice.
const tmpDir = args.smoke ? undefined : os.tmpdir();
const server = await startServer({ pgCron: false, binDir: pgBin, settings, ...(tmpDir && { tmpDir }) });
const storage = `${path.dirname(server.dataDir)} (${sh('stat', ['-f', '-c', '%T', server.dataDir]) || 'unknown file system'})`;
const admin = await openPostgres(server.url(), 'partkeeper-bench');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'partkeeper-bench-'));
const sections: Section[] = [];
const failures: { task: string; error: string }[] = [];
const skipped: string[] = [];
let info: RunInfo | undefined;
try {
  const partman = args.partman
    ? ((await admin.query<{ v: string }>(`select default_version as v from pg_available_extensions where name = 'pg_partman'`))[0]?.v ??
      null)
    : null;
  if (!partman) {
    const line = args.partman
      ? 'pg_partman is not installed (apt-get install postgresql-15-partman): its contenders are skipped'
      : 'pg_partman left out (--without-partman): its contenders are skipped';
    say(line);
    skipped.push(line);
  }
  const ctx: Ctx = { smoke: args.smoke, server, admin, partman, statements, binDir: pgBin, workDir, root: sqlRoot, log: say };

  const { db: probe, name: probeName } = await freshDatabase(ctx, 'bench_probe');
  const pgVersion = (await probe.one<{ v: string }>('select version() as v')).v;
  const pkVersion = (await probe.one<{ v: string }>('select partkeeper.version()::text as v')).v;
  await probe.close();
  await dropDatabase(ctx, probeName);
  const pgliteVersion = (
    JSON.parse(readFileSync(path.join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }
  ).version;
  // What is benchmarked is sql/ (and the harness that installs it): say when it differs from the commit.
  const dirty = sh('git', ['status', '--porcelain', '--', 'sql', 'harness'], sqlRoot) !== '';
  const commit = `${sh('git', ['rev-parse', '--short', 'HEAD'], sqlRoot) || 'unknown'}${dirty ? ' with uncommitted changes under sql/ or harness/' : ''}${sqlRoot !== root ? ` (SQL from ${sqlRoot})` : ''}`;
  const osName = /PRETTY_NAME="([^"]+)"/.exec(sh('cat', ['/etc/os-release']))?.[1] ?? os.type();

  for (const task of TASKS) {
    if (args.only && !args.only.includes(task.id)) continue;
    say(`${task.id}: start`);
    const t = performance.now();
    try {
      const s = await task.run(ctx);
      s.data.durationS = (performance.now() - t) / 1000;
      sections.push(s);
      say(`${task.id}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } catch (e) {
      const error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
      failures.push({ task: task.id, error });
      say(`${task.id}: FAILED\n${error}`);
    }
  }

  const finishedAt = new Date();
  info = {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    finishedAt: finishedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    durationS: (performance.now() - t0) / 1000,
    smoke: args.smoke,
    machine: {
      CPU: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
      memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      OS: `${osName}, Linux ${os.release()}`,
      load: `shared with other work; the 1-minute load average at the start was ${os.loadavg()[0]!.toFixed(2)}`,
    },
    versions: {
      PostgreSQL: pgVersion.split(' on ')[0]!,
      pgbench: sh(path.join(pgBin, 'pgbench'), ['--version']),
      pg_partman: partman ?? 'not installed',
      PGlite: pgliteVersion,
      Node: process.version,
      partkeeper: pkVersion,
    },
    settings: { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'on', ...settings },
    storage,
    commit,
    failures: failures.map((f) => ({ task: f.task, error: f.error.split('\n')[0]! })),
    skipped,
  };
} catch (e) {
  failures.push({ task: 'setup', error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
  say(`setup FAILED: ${failures.at(-1)!.error}`);
} finally {
  await admin.close().catch(() => {});
  await server.stop().catch(() => {});
  rmSync(workDir, { recursive: true, force: true });
}

if (info) {
  const outDir = args.out ?? (args.smoke ? path.join(os.tmpdir(), 'partkeeper-bench-smoke') : path.join(benchDir, 'results'));
  mkdirSync(outDir, { recursive: true });
  for (const s of sections)
    for (const f of s.files ?? []) {
      f.name = `${info.date}-${f.name}`;
      writeFileSync(path.join(outDir, f.name), f.content);
    }
  const base = path.join(outDir, info.date);
  writeFileSync(`${base}.md`, renderMarkdown(info, sections));
  writeFileSync(`${base}.json`, renderJson(info, sections));
  say(`results: ${base}.md, ${base}.json`);
  for (const s of sections)
    for (const t of s.targets)
      say(`  ${t.met === null ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured} (goal ${t.goal})`);
}
if (failures.length) {
  say(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.task).join(', ')}`);
  process.exit(1);
}

// The same choice as harness/server.ts makes for the server: $PG_BIN, the newest Debian version, pg_config.
function findPgBin(): string {
  const candidates = [
    process.env.PG_BIN,
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
    sh('pg_config', ['--bindir']),
  ];
  for (const dir of candidates) if (dir && existsSync(path.join(dir, 'pgbench'))) return dir;
  throw new Error('pgbench not found: install the PostgreSQL 15 server (postgresql-15) or set PG_BIN');
}
