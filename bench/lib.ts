// Shared pieces of the benchmarks: the context every task gets, pgbench, timing and statistics,
// the table shapes, pg_partman setup, and the shape of a task's results.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import { livechatTableDdl } from '../harness/original.ts';
import type { Db } from '../src/db.ts';
import { applyBundle } from '../src/bundle.ts';
import { openPostgres, withDatabase } from '../src/postgres.ts';
import type { Server } from '../harness/server.ts';

export interface Ctx {
  /** Tiny sizes and one round: proves the code runs, measures nothing. */
  readonly smoke: boolean;
  readonly server: Server;
  /** Connection to the server's `postgres` database (creates and drops the tasks' databases). */
  readonly admin: Db;
  /** Version of the installable pg_partman extension, or null when it is not installed. */
  readonly partman: string | null;
  /** pg_stat_statements is preloaded (with track = none until a session turns it on). */
  readonly statements: boolean;
  /** Directory with pgbench, from the server's binaries. */
  readonly binDir: string;
  /** Scratch directory for pgbench scripts and logs. */
  readonly workDir: string;
  /** Checkout whose sql/install.sql is benchmarked (default: this one). */
  readonly root: string;
  log(line: string): void;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** null: not measured in this run (a contender or the whole task was skipped). */
  met: boolean | null;
  /** When missed: by how much, why, and what would close it. */
  note?: string;
}

export interface Table {
  caption?: string;
  head: string[];
  rows: string[][];
}

export interface Section {
  id: string;
  title: string;
  /** Paragraphs of the method (markdown). */
  method: string[];
  tables: Table[];
  targets: Target[];
  notes: string[];
  /** Every sample, for the JSON file. */
  data: Record<string, unknown>;
  /** Extra files (SVG) written next to the results, name relative to the results directory. */
  files?: { name: string; content: string }[];
}

export function section(id: string, title: string): Section {
  return { id, title, method: [], tables: [], targets: [], notes: [], data: {} };
}

// ---------------------------------------------------------------- databases

/** A fresh database on the bench server with the bundle installed (and pg_partman when asked and available). */
export async function freshDatabase(
  ctx: Ctx,
  name: string,
  opts: { partman?: boolean } = {},
): Promise<{ db: Db; url: string; name: string }> {
  await ctx.admin.exec(`drop database if exists ${name} with (force)`);
  await ctx.admin.exec(`create database ${name}`);
  const url = withDatabase(ctx.server.url(), name);
  const db = await openPostgres(url, 'partkeeper-bench');
  await applyBundle(db, ctx.root);
  if (opts.partman && ctx.partman) {
    await db.exec(`create schema partman; create extension pg_partman schema partman`);
  }
  return { db, url, name };
}

/** A fresh, empty database on the bench server (no bundle). */
export async function emptyDatabase(ctx: Ctx, name: string): Promise<{ db: Db; url: string; name: string }> {
  await ctx.admin.exec(`drop database if exists ${name} with (force)`);
  await ctx.admin.exec(`create database ${name}`);
  const url = withDatabase(ctx.server.url(), name);
  return { db: await openPostgres(url, 'partkeeper-bench'), url, name };
}

export async function dropDatabase(ctx: Ctx, name: string): Promise<void> {
  await ctx.admin.exec(`drop database if exists ${name} with (force)`);
}

/** Another session on the same database. */
export function connect(url: string, name = 'partkeeper-bench'): Promise<Db> {
  return openPostgres(url, name);
}

// ---------------------------------------------------------------- table shapes

/** The livechat_messages shape under another name (livechatTableDdl), with its room index unless `indexes` is false. */
export function livechatShape(table: string, opts: { indexes?: boolean; partitioned?: boolean } = {}): string {
  const indexes = opts.indexes ?? true;
  const partitioned = opts.partitioned ?? true;
  return `${livechatTableDdl(table, { partitioned, primaryKey: indexes ? 'id, created_at' : null })};
    ${indexes ? `create index ${table}_room_recent_idx on ${table} (room_id, created_at desc);` : ''}`;
}

/** Start of the month `offset` months from the current UTC month, as an ISO literal with +00. */
export function monthStart(offset = 0, from = new Date()): string {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));
  return `${d.toISOString().slice(0, 10)} 00:00:00+00`;
}

export function monthSuffix(offset = 0, from = new Date()): string {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));
  return `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Partitions made by hand, as partkeeper names them: months [from, to] relative to now, plus DEFAULT. */
export function handPartitions(table: string, from: number, to: number, withDefault = true): string {
  const out: string[] = [];
  for (let m = from; m <= to; m++) {
    out.push(
      `create table ${table}_${monthSuffix(m)} partition of ${table} for values from ('${monthStart(m)}') to ('${monthStart(m + 1)}');`,
    );
  }
  if (withDefault) out.push(`create table ${table}_default partition of ${table} default;`);
  return out.join('\n');
}

/** pg_partman 4.x: monthly native partitioning with the same premake as partkeeper, made by the clock. */
export async function partmanCreateParent(db: Db, table: string, premake = 2): Promise<void> {
  await db.query(
    `select partman.create_parent(p_parent_table => $1, p_control => 'created_at', p_type => 'native',
                                  p_interval => 'monthly', p_premake => $2, p_start_partition => $3, p_jobmon => false)`,
    [table, premake, monthStart(0).slice(0, 19)],
  );
  await db.query(`update partman.part_config set infinite_time_partitions = true where parent_table = $1`, [table]);
}

// ---------------------------------------------------------------- timing and statistics

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
}

export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** Contenders in a round, rotated so that each one runs first, middle and last equally often. */
export function rotation<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

// ---------------------------------------------------------------- pgbench

export interface PgbenchResult {
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
  /**
   * Per-transaction log (with log: true): when it was due (epoch ms), its latency in ms counted from
   * then, and (with a rate) the part of it spent waiting to start behind the client's earlier transactions.
   */
  samples?: { at: number; ms: number; lagMs: number }[];
}

export interface PgbenchOptions {
  database: string;
  script: string;
  /** Name of the run (file names). */
  tag: string;
  clients: number;
  threads?: number;
  seconds: number;
  /** Transactions per second over all clients (pgbench -R); latency then counts from the scheduled start. */
  rate?: number;
  log?: boolean;
  mode?: 'simple' | 'extended' | 'prepared';
}

export async function pgbench(ctx: Ctx, o: PgbenchOptions): Promise<PgbenchResult> {
  const scriptFile = path.join(ctx.workDir, `${o.tag}.sql`);
  writeFileSync(scriptFile, o.script);
  const prefix = `log_${o.tag}`;
  for (const f of readdirSync(ctx.workDir).filter((n) => n.startsWith(`${prefix}.`))) rmSync(path.join(ctx.workDir, f));
  const args = [
    '-h',
    ctx.server.socketDir,
    '-p',
    String(ctx.server.port),
    '-U',
    'postgres',
    '-n',
    '-f',
    scriptFile,
    '-c',
    String(o.clients),
    '-j',
    String(o.threads ?? Math.min(o.clients, 2)),
    '-T',
    String(o.seconds),
    '-M',
    o.mode ?? 'prepared',
    ...(o.rate ? ['-R', String(o.rate)] : []),
    ...(o.log ? ['-l', `--log-prefix=${prefix}`] : []),
    o.database,
  ];
  const {
    stdout,
    stderr,
    exitCode: code,
  } = await $({ cwd: ctx.workDir, nothrow: true, quiet: true })`${path.join(ctx.binDir, 'pgbench')} ${args}`;
  const num = (re: RegExp) => {
    const m = re.exec(stdout);
    return m ? Number(m[1]) : NaN;
  };
  const transactions = num(/number of transactions actually processed: (\d+)/);
  const failed = num(/number of failed transactions: (\d+)/);
  if (code !== 0 || !Number.isFinite(transactions)) {
    throw new Error(`pgbench ${o.tag} failed (exit ${code}):\n${stderr.split('\n').slice(-15).join('\n')}\n${stdout.slice(-2000)}`);
  }
  const result: PgbenchResult = {
    tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
    transactions,
    failed: Number.isFinite(failed) ? failed : 0,
    latencyAvgMs: num(/latency average = ([\d.]+) ms/),
  };
  if (o.log) {
    const samples: { at: number; ms: number; lagMs: number }[] = [];
    for (const f of readdirSync(ctx.workDir).filter((n) => n.startsWith(`${prefix}.`))) {
      for (const line of readFileSync(path.join(ctx.workDir, f), 'utf8').split('\n')) {
        // client_id transaction_no time script_no time_epoch time_us [schedule_lag]: time counts from
        // the scheduled start (-R), time_epoch/time_us is the end, schedule_lag the wait to start.
        const p = line.split(' ');
        if (p.length < 6) continue;
        const latencyUs = Number(p[2]);
        const endMs = Number(p[4]) * 1000 + Number(p[5]) / 1000;
        samples.push({ at: endMs - latencyUs / 1000, ms: latencyUs / 1000, lagMs: p.length > 6 ? Number(p[6]) / 1000 : 0 });
      }
    }
    samples.sort((a, b) => a.at - b.at);
    result.samples = samples;
  }
  return result;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
