// partkeeper's guarantees as checks, used by the simulator and the tests. The SQL is the product and
// this module only proves it: bounds are read through partkeeper.partition_bounds(), periods (months
// unless a table is configured otherwise) through partkeeper.table_period(), the rule that took over
// from month_start(), and the horizon and drain window through horizon_target() and drain_window().
// Comparing numbers (is this instant below that bound?) is all TypeScript does here.
//
// The checked table has the shape of livechat_messages: a bigint `id` that identifies a row and a
// timestamptz `created_at` partition key. `table` is a trusted SQL name (it is interpolated).
import { isMaintenanceRun, maintenanceResultSchema, parseContract, type MaintenanceResult } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { formatInstant, type Micros } from './instant.ts';

export type InvariantId =
  | 'inserts-succeed'
  | 'statements-succeed'
  | 'rows-exact'
  | 'rows-placed'
  | 'partitions-aligned'
  | 'partitions-disjoint'
  | 'partitions-contiguous'
  | 'horizon-covered'
  | 'default-drained'
  | 'log-complete'
  | 'maintenance-settles';

/**
 * `always`: must hold after every step. `settled`: must hold after a maintenance run that has caught
 * up, i.e. a run that completed (status ok or warning), created nothing and was not stopped by a
 * lock (see isSettled). Before that, a run may legitimately have left work for the next one
 * (max_create_per_run, a lock not obtained, an outage just ended).
 */
export const INVARIANTS: Record<InvariantId, { when: 'always' | 'settled'; rule: string; inspect: (table: string) => string }> = {
  'inserts-succeed': {
    when: 'always',
    rule: 'every INSERT succeeds, whatever the date of its rows',
    inspect: (t) => `select * from partkeeper.partition_bounds('${t}')`,
  },
  'statements-succeed': {
    when: 'always',
    rule: 'maintenance runs and create_monthly_partition calls complete without an error',
    inspect: (t) => `select status, result from partkeeper.last_run where parent = '${t}'::regclass`,
  },
  'rows-exact': {
    when: 'always',
    rule: 'the table holds exactly the rows inserted: none lost, none duplicated, none changed',
    inspect: (t) => `select tableoid::regclass as partition, count(*), min(id), max(id) from ${t} group by 1 order by 1`,
  },
  'rows-placed': {
    when: 'always',
    rule: 'every row lies in the partition whose bounds contain it, and in DEFAULT only when no partition does',
    inspect: (t) =>
      `select t.tableoid::regclass as partition, b.lower, b.upper, min(t.created_at), max(t.created_at), count(*)
  from ${t} t left join partkeeper.partition_bounds('${t}') b on b.partition = t.tableoid group by 1, 2, 3 order by 2`,
  },
  'partitions-aligned': {
    when: 'always',
    rule: "every partition spans exactly one period (a month unless configured) of the table's time zone",
    inspect: (t) =>
      `select b.partition, b.lower, b.upper, p.lower as period_lower, p.upper as period_upper
  from partkeeper.partition_bounds('${t}') b, partkeeper.table_period('${t}', b.lower) p where not b.is_default`,
  },
  'partitions-disjoint': {
    when: 'always',
    rule: 'no two partitions overlap',
    inspect: (t) => `select * from partkeeper.partition_bounds('${t}')`,
  },
  'partitions-contiguous': {
    when: 'settled',
    rule: 'no gap between partitions from the oldest one up to the horizon target (now + premake), above what retention retired',
    inspect: (t) => `select * from partkeeper.partition_bounds('${t}')`,
  },
  'horizon-covered': {
    when: 'settled',
    rule: 'partitions cover the current period and the next premake periods (now + premake)',
    inspect: (t) =>
      `select partkeeper.now(), partkeeper.horizon_target('${t}', partkeeper.now()), b.* from partkeeper.partition_bounds('${t}') b`,
  },
  'default-drained': {
    when: 'settled',
    rule: 'the DEFAULT partition holds only rows outside the drain window',
    inspect: (t) => `select w.*, d.* from partkeeper.drain_window('${t}', partkeeper.now()) w, partkeeper.default_periods('${t}') d`,
  },
  'log-complete': {
    when: 'always',
    rule: 'every partition partkeeper made has its create_partition row in partkeeper.log (the DEFAULT its create_default row), and every logged creation exists with the logged bounds until it is retired',
    inspect: (t) =>
      `select action, partition_name, detail from partkeeper.log where to_regclass(table_name) = '${t}'::regclass order by id`,
  },
  'maintenance-settles': {
    when: 'settled',
    rule: 'maintenance run again and again at one clock stops creating partitions (within the catch-up limit)',
    inspect: (t) => `select partkeeper.maintain_table('${t}')`,
  },
};

export interface Violation {
  invariant: InvariantId;
  message: string;
  details?: unknown;
}

/**
 * A run that has caught up: it completed, created nothing, and no lock stopped it (warning code
 * lock_timeout). The checker's own notion, on purpose, not maintain_table()'s `complete`: the oracle
 * does not take the engine's word for when the engine's guarantees must hold. settledSql is the same
 * rule as a SQL condition; test/invariants.test.ts checks that both agree.
 */
export function isSettled(run: MaintenanceResult | undefined): boolean {
  if (!run || (run.status !== 'ok' && run.status !== 'warning')) return false;
  return (isMaintenanceRun(run) ? run.created : []).length === 0 && !run.warnings.some((w) => w.code === 'lock_timeout');
}

export interface LedgerRow {
  id: number;
  at: Micros;
}

/**
 * The rows a client believes it committed: id -> created_at. Ids are handed out by allocate() and
 * recorded by commit() once the INSERT succeeded, so a failed statement leaves a hole, not a lie.
 */
export class Ledger {
  readonly #at = new Map<number, Micros>();
  #sum = 0n;
  #ranges: [number, number][] = [];
  #rangesValid = true;
  #next = 1;

  allocate(): number {
    return this.#next++;
  }

  commit(rows: readonly LedgerRow[]): void {
    for (const r of rows) {
      if (this.#at.has(r.id)) throw new Error(`ledger: row ${r.id} committed twice`);
      this.#at.set(r.id, r.at);
      this.#sum += r.at;
      this.#next = Math.max(this.#next, r.id + 1);
      const last = this.#ranges.at(-1);
      if (!this.#rangesValid) continue;
      if (last && r.id === last[1] + 1) last[1] = r.id;
      else if (!last || r.id > last[1] + 1) this.#ranges.push([r.id, r.id]);
      else this.#rangesValid = false;
    }
  }

  /** Rows in [lower, upper) leave the ledger: retention retired the partition that held them. */
  forget(lower: Micros, upper: Micros): number {
    let n = 0;
    for (const [id, at] of this.#at) {
      if (at >= lower && at < upper) {
        this.#at.delete(id);
        this.#sum -= at;
        n++;
      }
    }
    if (n) this.#rangesValid = false;
    return n;
  }

  get size(): number {
    return this.#at.size;
  }

  /** Sum of every row's created_at in microseconds. */
  get sum(): Micros {
    return this.#sum;
  }

  at(id: number): Micros | undefined {
    return this.#at.get(id);
  }

  entries(): IterableIterator<[number, Micros]> {
    return this.#at.entries();
  }

  /** The committed ids as an int8multirange literal, e.g. `{[1,40],[42,90]}`. */
  multirange(): string {
    if (!this.#rangesValid) {
      const ids = [...this.#at.keys()].sort((a, b) => a - b);
      this.#ranges = [];
      for (const id of ids) {
        const last = this.#ranges.at(-1);
        if (last && id === last[1] + 1) last[1] = id;
        else this.#ranges.push([id, id]);
      }
      this.#rangesValid = true;
    }
    return `{${this.#ranges.map(([a, b]) => `[${a},${b}]`).join(',')}}`;
  }
}

export interface PartitionFact {
  oid: number;
  name: string;
  isDefault: boolean;
  lower: Micros | null;
  upper: Micros | null;
  /** [lower, upper) is exactly the period table_period() gives for lower. */
  aligned: boolean;
  /** partkeeper.log has the row that records its creation. */
  logged: boolean;
}

export interface DefaultRow {
  id: number;
  at: Micros;
}

/** What a check saw, for timelines and statistics. */
export interface Facts {
  partitions: PartitionFact[];
  rows: number;
  rowsByRelation: Map<number, number>;
  defaultRows: DefaultRow[];
  settled: boolean;
}

export interface CheckOptions {
  table: string;
  ledger: Ledger;
  /** Partitions partkeeper did not make (they existed before it was installed): no log row expected. */
  foreign?: ReadonlySet<string>;
}

/** SQL: an instant as microseconds since the epoch (text, exact), NULL when infinite or NULL. */
export const US = (x: string) => `case when isfinite(${x}) then ((extract(epoch from ${x}) * 1000000)::bigint)::text end`;

/** Exact numeric text of a sum of epochs (seconds with up to 6 decimals) as microseconds. */
function epochsToMicros(text: string): Micros {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`unexpected epoch sum: ${text}`);
  const us = BigInt(m[2]!) * 1_000_000n + BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6));
  return m[1] ? -us : us;
}

const big = (s: string | null): Micros | null => (s === null ? null : BigInt(s));
const show = (us: Micros | null) => (us === null ? 'unbounded' : formatInstant(us));

/**
 * Checks the invariants of one table. Keeps the partition facts of the last catalog state it saw:
 * they are a pure function of the catalog and the log, so an unchanged digest means unchanged facts.
 */
export class Checker {
  #digest = '';
  #partitions: PartitionFact[] = [];
  #logProblems: string[] = [];
  #zone = 'UTC';

  constructor(
    private readonly db: Db,
    private readonly opts: CheckOptions,
  ) {}

  /** Every invariant that applies: the `always` ones, and the `settled` ones after a settled run. */
  async check(run?: MaintenanceResult): Promise<{ violations: Violation[]; facts: Facts }> {
    const partitions = await this.#partitionFacts();
    const rows = await this.#rowFacts(partitions);
    const violations = [...rows.violations, ...this.#structure(partitions)];
    const settled = isSettled(run);
    // a settled run is ok or warning, and so has its clock
    if (settled && run && 'clock' in run) violations.push(...(await this.#settled(partitions, rows.defaultRows, run.clock)));
    return {
      violations,
      facts: { partitions, rows: rows.total, rowsByRelation: rows.byRelation, defaultRows: rows.defaultRows, settled },
    };
  }

  async #partitionFacts(): Promise<PartitionFact[]> {
    const { table } = this.opts;
    const { digest } = await this.db.one<{ digest: string }>(
      // xmin changes whenever a row is rewritten: a partition attached, detached or renamed, a log
      // row or the table's settings changed
      `select coalesce(string_agg(c.oid::text || ':' || c.xmin::text, ',' order by c.oid), '')
              || ':' || (select coalesce(max(id), 0) || '/' || count(*) || '/' || coalesce(max(xmin::text::bigint), 0) from partkeeper.log)
              || ':' || coalesce((select xmin::text from partkeeper.config where parent = $1::regclass), 'unregistered') as digest
         from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = $1::regclass`,
      [table],
    );
    if (digest === this.#digest) return this.#partitions;
    const rows = await this.db.query<{
      oid: number;
      name: string;
      is_default: boolean;
      lower: string | null;
      upper: string | null;
      aligned: boolean | null;
      logged: boolean;
      zone: string;
    }>(
      `select b.partition::oid::int as oid, b.partition::text as name, b.is_default,
              ${US('b.lower')} as lower, ${US('b.upper')} as upper,
              p.lower = b.lower and p.upper = b.upper as aligned,
              exists (select from partkeeper.log l
                       where l.action = case when b.is_default then 'create_default' else 'create_partition' end
                         and to_regclass(l.partition_name) = b.partition) as logged,
              c.time_zone as zone
         from partkeeper.partition_bounds($1::regclass) b
         join partkeeper.config c on c.parent = $1::regclass
         left join lateral partkeeper.table_period($1::regclass, b.lower) p on not b.is_default
        order by b.is_default, b.lower`,
      [table],
    );
    const logged = await this.db.query<{ partition_name: string; lower: string; upper: string }>(
      `select l.partition_name, l.detail ->> 'lower' as lower, l.detail ->> 'upper' as upper
         from partkeeper.log l
        where l.action = 'create_partition' and to_regclass(l.table_name) = $1::regclass
          and not exists (select from partkeeper.log r
                           where r.action = 'retire' and r.partition_name = l.partition_name and r.id > l.id)
          and not exists (select from partkeeper.partition_bounds($1::regclass) b
                           where b.partition = to_regclass(l.partition_name)
                             and b.lower = (l.detail ->> 'lower')::timestamptz and b.upper = (l.detail ->> 'upper')::timestamptz)`,
      [table],
    );
    this.#partitions = rows.map((r) => ({
      oid: r.oid,
      name: r.name,
      isDefault: r.is_default,
      lower: big(r.lower),
      upper: big(r.upper),
      aligned: r.is_default || r.aligned === true,
      logged: r.logged,
    }));
    this.#zone = rows[0]?.zone ?? this.#zone;
    this.#logProblems = logged.map((l) => `${l.partition_name} [${l.lower}, ${l.upper})`);
    this.#digest = digest;
    return this.#partitions;
  }

  async #rowFacts(partitions: PartitionFact[]) {
    const { table, ledger } = this.opts;
    // per relation for placement and the ledger's sums; the distinct ids once for the whole table.
    // Summing intervals from the epoch is exact and cheaper than extract() per row.
    const groups = await this.db.query<{ rel: number; n: number; d: number; strangers: number; epochs: string; lo: string; hi: string }>(
      `select tableoid::int as rel, count(*)::int as n, (select count(*)::int from (select id from ${table} group by id) u) as d,
              count(*) filter (where not (id <@ $1::int8multirange))::int as strangers,
              coalesce(extract(epoch from sum(created_at - timestamptz 'epoch')), 0)::text as epochs,
              ${US('min(created_at)')} as lo, ${US('max(created_at)')} as hi
         from ${table} group by tableoid`,
      [ledger.size ? ledger.multirange() : '{}'],
    );
    const total = groups.reduce((a, g) => a + g.n, 0);
    const distinct = groups[0]?.d ?? 0;
    const strangers = groups.reduce((a, g) => a + g.strangers, 0);
    const epochs = groups.reduce((a, g) => a + epochsToMicros(g.epochs), 0n);
    const byRelation = new Map(groups.map((g) => [g.rel, g.n]));
    const violations: Violation[] = [];

    if (total !== ledger.size || distinct !== total || strangers > 0 || epochs !== ledger.sum) {
      violations.push({
        invariant: 'rows-exact',
        message: `the table holds ${total} row(s) (${distinct} distinct ids, ${strangers} never inserted), the ledger ${ledger.size}`,
        details: await this.#diffRows(),
      });
    }

    const def = partitions.find((p) => p.isDefault);
    const ranged = partitions.filter((p) => !p.isDefault);
    for (const g of groups) {
      const p = partitions.find((q) => q.oid === g.rel);
      if (!p) {
        violations.push({
          invariant: 'rows-placed',
          message: `${g.n} row(s) in relation ${g.rel}, which partition_bounds() does not list`,
        });
      } else if (!p.isDefault) {
        const lo = BigInt(g.lo);
        const hi = BigInt(g.hi);
        if ((p.lower !== null && lo < p.lower) || (p.upper !== null && hi >= p.upper)) {
          violations.push({
            invariant: 'rows-placed',
            message: `${p.name} [${show(p.lower)}, ${show(p.upper)}) holds rows from ${formatInstant(lo)} to ${formatInstant(hi)}`,
          });
        }
      }
    }

    let defaultRows: DefaultRow[] = [];
    if (def && byRelation.get(def.oid)) {
      defaultRows = (
        await this.db.query<{ id: number; at: string }>(
          `select id::int as id, ${US('created_at')} as at from only ${def.name} order by created_at, id`,
        )
      ).map((r) => ({ id: r.id, at: BigInt(r.at) }));
      const covered = defaultRows.filter((r) =>
        ranged.some((p) => (p.lower === null || r.at >= p.lower) && (p.upper === null || r.at < p.upper)),
      );
      if (covered.length) {
        violations.push({
          invariant: 'rows-placed',
          message: `${covered.length} row(s) wait in ${def.name} although a partition covers them, e.g. row ${covered[0]!.id} at ${formatInstant(covered[0]!.at)}`,
        });
      }
    }
    return { violations, total, byRelation, defaultRows };
  }

  /** Which rows differ from the ledger, by id: only computed once something is wrong. */
  async #diffRows() {
    const { table, ledger } = this.opts;
    const rows = await this.db.query<{ id: number; at: string; n: number; rel: string }>(
      `select id::int as id, ${US('created_at')} as at, count(*)::int as n, min(tableoid::regclass::text) as rel from ${table} group by 1, 2`,
    );
    const seen = new Map<number, { at: Micros; n: number; rel: string }[]>();
    for (const r of rows) seen.set(r.id, [...(seen.get(r.id) ?? []), { at: BigInt(r.at), n: r.n, rel: r.rel }]);
    const lost: string[] = [];
    const changed: string[] = [];
    const duplicated: string[] = [];
    const strangers: string[] = [];
    for (const [id, at] of ledger.entries()) {
      const got = seen.get(id);
      if (!got) lost.push(`${id} (${formatInstant(at)})`);
      else if (got.length > 1 || got[0]!.n > 1)
        duplicated.push(`${id} (${got.map((g) => `${g.n}x ${formatInstant(g.at)} in ${g.rel}`).join(', ')})`);
      else if (got[0]!.at !== at) changed.push(`${id} (${formatInstant(at)} -> ${formatInstant(got[0]!.at)})`);
    }
    for (const [id, got] of seen) if (ledger.at(id) === undefined) strangers.push(`${id} (${formatInstant(got[0]!.at)})`);
    const few = (xs: string[]) => ({ count: xs.length, first: xs.slice(0, 10) });
    return { lost: few(lost), duplicated: few(duplicated), changed: few(changed), neverInserted: few(strangers) };
  }

  #structure(partitions: PartitionFact[]): Violation[] {
    return partitionViolations(partitions, { zone: this.#zone, foreign: this.opts.foreign ?? new Set(), logProblems: this.#logProblems });
  }

  /** At the clock the run reports (the checking session may be another one), else this session's. */
  async #settled(partitions: PartitionFact[], defaultRows: DefaultRow[], clock: string | undefined): Promise<Violation[]> {
    const out: Violation[] = [];
    const ranged = partitions.filter((p) => !p.isDefault);
    // retired_before: retention retired everything below it, and nothing there is made again
    const h = await this.db.one<{ now: string; from: string; to: string; w_from: string; w_to: string; floor: string | null }>(
      `select ${US('n.now')} as now, ${US('(partkeeper.table_period($1::regclass, n.now)).lower')} as from,
              ${US('partkeeper.horizon_target($1::regclass, n.now)')} as to,
              ${US('w.window_from')} as w_from, ${US('w.window_to')} as w_to,
              ${US('(select c.retired_before from partkeeper.config c where c.parent = $1::regclass)')} as floor
         from (select coalesce($2::timestamptz, partkeeper.now()) as now) n, partkeeper.drain_window($1::regclass, n.now) w`,
      [this.opts.table, clock ?? null],
    );
    const [from, to] = [BigInt(h.from), BigInt(h.to)];
    let reach = from;
    for (const p of ranged) {
      if (p.lower !== null && p.lower <= reach && (p.upper === null || p.upper > reach)) reach = p.upper ?? to;
    }
    if (reach < to) {
      out.push({
        invariant: 'horizon-covered',
        message: `at ${formatInstant(BigInt(h.now))} partitions cover [${formatInstant(from)}, ${formatInstant(reach)}), short of ${formatInstant(to)} (now + premake)`,
      });
    }
    const floor = h.floor === null ? null : BigInt(h.floor);
    const [wFrom, wTo] = [floor !== null && floor > BigInt(h.w_from) ? floor : BigInt(h.w_from), BigInt(h.w_to)];
    for (let i = 1; i < ranged.length; i++) {
      const [a, b] = [ranged[i - 1]!, ranged[i]!];
      if (a.upper !== null && b.lower !== null && b.lower > a.upper && a.upper < to && (floor === null || b.lower > floor)) {
        out.push({
          invariant: 'partitions-contiguous',
          message: `gap from ${formatInstant(a.upper)} to ${formatInstant(b.lower)} (the horizon target is ${formatInstant(to)})`,
        });
      }
    }
    const inWindow = defaultRows.filter((r) => r.at >= wFrom && r.at < wTo);
    if (inWindow.length) {
      out.push({
        invariant: 'default-drained',
        message: `${inWindow.length} row(s) in DEFAULT inside the drain window [${formatInstant(wFrom)}, ${formatInstant(wTo)}), e.g. row ${inWindow[0]!.id} at ${formatInstant(inWindow[0]!.at)}`,
      });
    }
    return out;
  }
}

/**
 * The always-invariants of a partition set as facts (SQL-computed alignment and log rows): alignment,
 * overlaps, creations missing from the log, and logged creations (`logProblems`) that do not exist.
 */
export function partitionViolations(
  partitions: readonly PartitionFact[],
  o: { zone: string; foreign: ReadonlySet<string>; logProblems: readonly string[] },
): Violation[] {
  const out: Violation[] = [];
  const ranged = partitions.filter((p) => !p.isDefault);
  for (const p of ranged) {
    if (!p.aligned) {
      out.push({
        invariant: 'partitions-aligned',
        message: `${p.name} [${show(p.lower)}, ${show(p.upper)}) is not one whole period of the table (zone ${o.zone})`,
      });
    }
  }
  for (let i = 1; i < ranged.length; i++) {
    const [a, b] = [ranged[i - 1]!, ranged[i]!];
    if (a.upper === null || (b.lower !== null && b.lower < a.upper)) {
      out.push({
        invariant: 'partitions-disjoint',
        message: `${a.name} [${show(a.lower)}, ${show(a.upper)}) overlaps ${b.name} [${show(b.lower)}, ${show(b.upper)})`,
      });
    }
  }
  const unlogged = partitions.filter((p) => !p.logged && !o.foreign.has(p.name)).map((p) => p.name);
  if (unlogged.length) out.push({ invariant: 'log-complete', message: `no creation logged for ${unlogged.join(', ')}` });
  if (o.logProblems.length) {
    out.push({
      invariant: 'log-complete',
      message: `logged creations without a partition of those bounds: ${o.logProblems.slice(0, 5).join(', ')}`,
    });
  }
  return out;
}

/** The statement of one maintenance run of `table`, as the simulator and the tests issue it. */
export const maintainSql = (table: string) => `select partkeeper.maintain_table('${table}'::regclass) as r`;

/** The result of a maintenance statement (maintainSql, or one like it with `r` as the result), checked against its schema. */
export async function maintenanceResult(db: Db, sql: string): Promise<MaintenanceResult> {
  return parseContract(maintenanceResultSchema, (await db.one<{ r: unknown }>(sql)).r, sql);
}

/** Runs maintenance at the current clock until a run is settled; a violation when it never is. */
export async function catchUp(db: Db, table: string, limit = 50): Promise<{ run: MaintenanceResult; runs: number; violation?: Violation }> {
  let run: MaintenanceResult | undefined;
  for (let runs = 1; runs <= limit; runs++) {
    run = await maintenanceResult(db, maintainSql(table));
    if (isSettled(run)) return { run, runs };
  }
  return {
    run: run!,
    runs: limit,
    violation: { invariant: 'maintenance-settles', message: `still not settled after ${limit} runs: ${JSON.stringify(run)}` },
  };
}

/**
 * isSettled as a SQL condition on the maintenance result `r` (a jsonb expression), for repro scripts,
 * which run without this module.
 */
export const settledSql = (r: string) =>
  `coalesce(${r} ->> 'status' in ('ok', 'warning') and coalesce(jsonb_array_length(${r} -> 'created'), 0) = 0
              and not exists (select from jsonb_array_elements(${r} -> 'warnings') w where w ->> 'code' = 'lock_timeout'), false)`;

/** The same catch-up as one SQL statement, for repro scripts. */
export const catchUpSql = (table: string, limit = 50) => `do $$
declare r jsonb;
begin
    for i in 1..${limit} loop
        r := partkeeper.maintain_table('${table}'::regclass);
        exit when ${settledSql('r')};
    end loop;
end $$`;

/** One line per violation: `[rows-exact] the table holds ...`. */
export function describeViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `[${v.invariant}] ${v.message}${v.details ? `\n    ${JSON.stringify(v.details)}` : ''}`).join('\n');
}
