import { randomBytes } from 'node:crypto';
// Shared fixtures of the feature suites. They read state through the bundle's own functions and
// the catalog; none of them re-implements a rule the SQL owns (bounds, names, windows).
import { vi } from 'vitest';
import { main } from '../src/cli.ts';
import { ORIGINAL_INDEX_DDL, ORIGINAL_TABLE_DDL, originalPartitionsDdl } from './original.ts';
import {
  healthSchema,
  isMaintenanceRun,
  maintenanceAllSchema,
  maintenanceResultSchema,
  parseContract,
  statusSchema,
  type Health,
  type MaintenanceAll,
  type MaintenanceResult,
  type MaintenanceRun,
  type MaintenanceWarning,
  type Status,
} from '../src/contracts.ts';
import type { Db } from '../src/db.ts';

export type Partition = { partition: string; lower: string | null; upper: string | null; is_default: boolean };

/** Partitions of a table as the engine sees them, bounds printed in UTC (ISO), DEFAULT last. */
export async function partitions(db: Db, table = 'livechat_messages'): Promise<Partition[]> {
  return db.query<Partition>(
    `select partition::text as partition,
            to_char(lower at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as lower,
            to_char(upper at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as upper,
            is_default
       from partkeeper.partition_bounds($1::regclass)`,
    [table],
  );
}

/** Non-default partitions sorted by lower bound are contiguous: each starts where the previous ends. */
export function gaps(parts: Partition[]): string[] {
  const ranged = parts.filter((p) => !p.is_default);
  const out: string[] = [];
  for (let i = 1; i < ranged.length; i++) {
    if (ranged[i]!.lower !== ranged[i - 1]!.upper) out.push(`${ranged[i - 1]!.partition} .. ${ranged[i]!.partition}`);
  }
  return out;
}

/** Row count and an order-independent checksum of every row of a table (all partitions). */
export async function fingerprint(db: Db, table = 'livechat_messages'): Promise<{ rows: string; sum: string }> {
  return db.one(
    `select count(*)::text as rows, coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') as sum
       from ${table} t`,
  );
}

/** Rows sitting in each relation of a partitioned table, by relation name. */
export async function rowsByPartition(db: Db, table = 'livechat_messages'): Promise<Record<string, number>> {
  const rows = await db.query<{ rel: string; n: number }>(
    `select tableoid::regclass::text as rel, count(*)::int as n from ${table} group by 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.rel, r.n]));
}

/** Rows whose partition's bounds do not contain their key (must always be 0). */
export async function misplacedRows(db: Db, table = 'livechat_messages', column = 'created_at'): Promise<number> {
  const { n } = await db.one<{ n: number }>(
    `select count(*)::int as n
       from ${table} t
       join partkeeper.partition_bounds($1::regclass) b on b.partition = t.tableoid
      where not b.is_default and not (t.${column} >= b.lower and t.${column} < b.upper)`,
    [table],
  );
  return n;
}

export async function defaultRows(db: Db, table = 'livechat_messages'): Promise<number> {
  const { n } = await db.one<{ n: number }>(`select count(*)::int as n from only ${table}_default`);
  return n;
}

/** The codes of a run's warnings, in order: what tests (and programs) match on, never the prose. */
export function codes(run: { warnings?: readonly MaintenanceWarning[] }): string[] {
  return (run.warnings ?? []).map((w) => w.code);
}

/** One maintenance run of a table, whatever came of it (busy, disabled, ...), checked against its schema. */
export async function maintainResult(db: Db, table = 'livechat_messages'): Promise<MaintenanceResult> {
  const { r } = await db.one<{ r: unknown }>('select partkeeper.maintain_table($1::regclass) as r', [table]);
  return parseContract(maintenanceResultSchema, r, `partkeeper.maintain_table('${table}')`);
}

/** One maintenance run that went through its steps (ok, warning or failed), checked against its schema; anything else fails the test. */
export async function maintain(db: Db, table = 'livechat_messages'): Promise<MaintenanceRun> {
  const run = await maintainResult(db, table);
  if (!isMaintenanceRun(run)) throw new Error(`expected maintenance of ${table} to run its steps, got ${JSON.stringify(run)}`);
  return run;
}

/** partkeeper.maintain_all(), checked against its schema. */
export async function maintainAll(db: Db): Promise<MaintenanceAll> {
  return parseContract(
    maintenanceAllSchema,
    (await db.one<{ r: unknown }>('select partkeeper.maintain_all() as r')).r,
    'partkeeper.maintain_all()',
  );
}

/** CALL partkeeper.run_maintenance(p_raise => false) and its p_results, checked against their schema. */
export async function runMaintenance(db: Db): Promise<MaintenanceAll> {
  const { p_results } = await db.one<{ p_results: unknown }>('call partkeeper.run_maintenance(p_raise => false, p_results => null)');
  return parseContract(maintenanceAllSchema, p_results, 'CALL partkeeper.run_maintenance()');
}

/** partkeeper.status(), checked against its schema. */
export async function status(db: Db): Promise<Status> {
  return parseContract(statusSchema, (await db.one<{ s: unknown }>('select partkeeper.status() as s')).s, 'partkeeper.status()');
}

/** partkeeper.health() with its default thresholds, checked against its schema. */
export async function health(db: Db): Promise<Health> {
  return parseContract(healthSchema, (await db.one<{ h: unknown }>('select partkeeper.health() as h')).h, 'partkeeper.health()');
}

export async function insertMessages(db: Db, dates: string[]): Promise<void> {
  await db.query(
    `insert into livechat_messages (room_id, sender_id, body, created_at)
     select 1, 1, 'message ' || n, d from unnest($1::timestamptz[]) with ordinality as u(d, n)`,
    [dates],
  );
}

/** The original design's table and its five 2025 partitions, made as its own scripts did. */
export async function createOriginalTable(db: Db, rowsPerMonth = 50): Promise<void> {
  await db.exec(`
    ${ORIGINAL_TABLE_DDL};
    ${ORIGINAL_INDEX_DDL};
    ${originalPartitionsDdl().join(';\n')};
    insert into livechat_messages (room_id, sender_id, body, created_at)
    select m % 7, m % 11, 'original ' || m, timestamptz '2025-04-01 00:00+00' + (m * interval '1 hour' * 3000 / (${rowsPerMonth} * 5))
      from generate_series(0, ${rowsPerMonth * 5 - 1}) m;
  `);
}

export type CliRun = { code: number; stdout: string; stderr: string };

/** Runs the command line in-process and captures what it prints. */
export async function cli(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The same server URL, logging in as another role. */
export function asRole(url: string, role: string, password: string): string {
  const m = /^(postgres(?:ql)?:\/\/)(?:[^@/]*@)?(.*)$/.exec(url);
  if (!m) throw new Error(`not a postgres:// URL: ${url}`);
  return `${m[1]}${encodeURIComponent(role)}:${encodeURIComponent(password)}@${m[2]}`;
}

/** Waits until `pid` waits for a lock on `relation` (granted = false), polling pg_locks. */
export async function waitForLockWait(observer: Db, pid: number, relation: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { waiting } = await observer.one<{ waiting: boolean }>(
      `select exists (select from pg_locks where pid = $1 and relation = $2::regclass and not granted) as waiting`,
      [pid, relation],
    );
    if (waiting) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`backend ${pid} never waited for a lock on ${relation}`);
}

/** A promise's outcome as a value, so a test can await a statement it expects to fail later. */
export async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * Runs fn with new roles named after `names` (`pk_<name>_<random>`: roles are cluster-wide on a
 * server, so names are unique), then resets the session's role and drops them with what they own
 * (what they own is first given to the current user, so nothing of the test is left behind).
 */
export async function withRoles(db: Db, names: string[], fn: (roles: Record<string, string>) => Promise<void>): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const roles = Object.fromEntries(names.map((n) => [n, `pk_${n}_${suffix}`]));
  for (const r of Object.values(roles)) await db.exec(`create role ${r}`);
  try {
    await fn(roles);
  } finally {
    await db.exec('reset role');
    for (const r of Object.values(roles)) await db.exec(`reassign owned by ${r} to current_user; drop owned by ${r}; drop role ${r}`);
  }
}
