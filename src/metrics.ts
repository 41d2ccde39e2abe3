// partkeeper's Prometheus metrics: their one definition (names, help, labels, types), filled from what
// the SQL returns (partkeeper.status() and partkeeper.metrics()). `partkeeper exporter` serves them
// over HTTP and `partkeeper status --prometheus` prints them; the README's metric list, the alert
// rules and the dashboard in monitoring/ name these and no others (test/exporter.test.ts checks it
// against a real Prometheus). Counting is the SQL's: every counter is a cumulative total it keeps.
import { Counter, Gauge, Registry } from 'prom-client';
import {
  checkStatusSchema,
  healthSchema,
  lastRunSchema,
  metricsSchema,
  parseContract,
  statusSchema,
  type CronJob,
  type Metrics,
  type MetricsTable,
  type Status,
} from './contracts.ts';
import type { Db } from './db.ts';

/** What one reading of the database gives: partkeeper.status() and partkeeper.metrics(), checked. */
export interface Snapshot {
  status: Status;
  metrics: Metrics;
}

/**
 * Reads a Snapshot in one round trip. Raises the database's error (DbError) when it cannot be read,
 * and ContractError when the JSON does not have the shape of src/contracts.ts.
 */
export async function readSnapshot(db: Db): Promise<Snapshot> {
  const row = await db.one<{ s: unknown; m: unknown }>('select partkeeper.status() as s, partkeeper.metrics() as m');
  return {
    status: parseContract(statusSchema, row.s, 'partkeeper.status()'),
    metrics: parseContract(metricsSchema, row.m, 'partkeeper.metrics()'),
  };
}

// Every possible state of an enum is a series of its own (0 or 1), so an alert or a panel never
// depends on a series that appears only in the bad case.
const LAST_RUN_STATES = ['never', ...lastRunSchema.shape.status.options] as const;
const RUN_STATUSES = ['ok', 'warning', 'failed', 'busy'] as const satisfies readonly (keyof MetricsTable['runs'])[];
/** pg_cron's job_run_details.status folded: starting, connecting, sending and running are "running". */
const CRON_STATES = ['never', 'running', 'succeeded', 'failed'] as const;
const cronState = (j: CronJob): (typeof CRON_STATES)[number] =>
  j.last_status === null ? 'never' : j.last_status === 'succeeded' || j.last_status === 'failed' ? j.last_status : 'running';

const seconds = (ts: string) => Date.parse(ts) / 1000;

/** The registry with every metric partkeeper exposes, and how to fill it from a snapshot. */
export class PartkeeperMetrics {
  readonly registry = new Registry();
  private readonly g = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  private readonly c = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [this.registry] });

  readonly up = this.g('partkeeper_up', '1 when the database answered the last scrape, 0 when it could not be read.');
  readonly info = this.g('partkeeper_info', 'Installed partkeeper version (value 1).', ['version']);
  readonly health = this.g('partkeeper_health_state', 'Worst of all health checks: 1 for the current state.', ['state']);
  readonly check = this.g(
    'partkeeper_health_check_state',
    'Each health check of each table (table "" for database-wide checks): 1 for its current state.',
    ['check', 'table', 'state'],
  );
  readonly partitions = this.g('partkeeper_partitions', 'Partitions of the table, DEFAULT excluded.', ['table']);
  readonly defaultRows = this.g('partkeeper_default_rows', 'Rows waiting in the DEFAULT partition.', ['table']);
  readonly horizon = this.g(
    'partkeeper_horizon_timestamp_seconds',
    'End of the contiguous partitions from now (0: no partition holds now).',
    ['table'],
  );
  readonly horizonTarget = this.g('partkeeper_horizon_target_timestamp_seconds', 'What premake asks the horizon to reach.', ['table']);
  readonly nextExpiry = this.g(
    'partkeeper_next_expiry_timestamp_seconds',
    'When retention next retires a partition (absent without retention).',
    ['table'],
  );
  readonly expiredKept = this.g(
    'partkeeper_expired_partitions_kept',
    'Expired partitions the last run kept (an archive retention requires is missing or differs).',
    ['table'],
  );
  readonly lastRunTime = this.g('partkeeper_last_run_timestamp_seconds', 'When maintenance last finished (real clock).', ['table']);
  readonly lastRunState = this.g(
    'partkeeper_last_run_state',
    'Status of the last maintenance run: 1 for the current state (never: no run recorded).',
    ['table', 'state'],
  );
  readonly lastRunComplete = this.g(
    'partkeeper_last_run_complete',
    '1 when the last maintenance run did everything it wanted, 0 when it left work undone.',
    ['table'],
  );
  readonly lastRunDuration = this.g('partkeeper_last_run_duration_seconds', 'How long the last maintenance run took.', ['table']);
  readonly partitionBytes = this.g('partkeeper_partition_bytes', 'Total size of the partition with indexes and TOAST.', [
    'table',
    'partition',
  ]);
  readonly partitionRows = this.g(
    'partkeeper_partition_rows_estimate',
    'Estimated rows of the partition (pg_class.reltuples; absent before the first ANALYZE).',
    ['table', 'partition'],
  );
  readonly cronActive = this.g('partkeeper_cron_job_active', '1 when the pg_cron job is active.', ['jobname']);
  readonly cronState = this.g(
    'partkeeper_cron_job_last_run_state',
    'Latest run of the pg_cron job: 1 for its state (never: it has not run yet, which is no failure).',
    ['jobname', 'state'],
  );
  readonly cronFailures = this.g('partkeeper_cron_job_recent_failures', 'Failed runs among the last 10 of the pg_cron job.', ['jobname']);

  readonly created = this.c('partkeeper_partitions_created_total', 'Partitions created.', ['table']);
  readonly retired = this.c('partkeeper_partitions_retired_total', 'Partitions retired by retention (dropped or detached).', ['table']);
  readonly rowsMoved = this.c('partkeeper_rows_moved_total', 'Rows moved out of the DEFAULT partition into new partitions.', ['table']);
  readonly bytesFreed = this.c('partkeeper_freed_bytes_total', 'Bytes freed by retention dropping partitions.', ['table']);
  readonly runs = this.c('partkeeper_runs_total', 'Maintenance runs by status (busy: another run held the table).', ['table', 'status']);
  readonly runSeconds = this.c('partkeeper_run_duration_seconds_total', 'Time spent in recorded maintenance runs.', ['table']);

  /**
   * Replaces every value by what `s` says; with null (the database could not be read) only
   * partkeeper_up 0 is left, so no stale value passes for a current one.
   */
  fill(s: Snapshot | null): void {
    this.registry.resetMetrics();
    this.up.set(s ? 1 : 0);
    if (!s) return;
    const { status, metrics } = s;
    this.info.set({ version: status.version }, 1);
    for (const state of healthSchema.shape.status.options) this.health.set({ state }, state === metrics.health.status ? 1 : 0);
    for (const c of metrics.health.checks)
      for (const state of checkStatusSchema.options)
        this.check.set({ check: c.check, table: c.table ?? '', state }, state === c.status ? 1 : 0);

    for (const t of status.tables) {
      const table = { table: t.table };
      const last = t.last_run;
      for (const state of LAST_RUN_STATES) this.lastRunState.set({ ...table, state }, state === (last?.status ?? 'never') ? 1 : 0);
      if (last) {
        this.lastRunTime.set(table, seconds(last.finished_at));
        this.lastRunComplete.set(table, last.complete === false ? 0 : 1);
        const ms = (last.result as { duration_ms?: unknown }).duration_ms;
        if (typeof ms === 'number') this.lastRunDuration.set(table, ms / 1000);
      }
      if (!t.exists) continue; // registered, but the table was dropped (health's table_exists says so)
      this.partitions.set(table, t.partition_count);
      // unknown to a role that may not count them before the first run: no sample rather than a guess
      if (t.default_rows !== null) this.defaultRows.set(table, t.default_rows);
      this.horizon.set(table, t.horizon ? seconds(t.horizon) : 0);
      this.horizonTarget.set(table, seconds(t.horizon_target));
      if (t.retention.next_expiry) this.nextExpiry.set(table, seconds(t.retention.next_expiry.at));
      this.expiredKept.set(table, t.retention.expired_kept.length);
      for (const p of t.partitions) {
        const pl = { ...table, partition: p.partition };
        this.partitionBytes.set(pl, p.bytes);
        if (p.rows_estimate !== null) this.partitionRows.set(pl, p.rows_estimate);
      }
    }
    for (const t of metrics.tables) {
      const table = { table: t.table };
      this.created.inc(table, t.partitions_created);
      this.retired.inc(table, t.partitions_retired);
      this.rowsMoved.inc(table, t.rows_moved);
      this.bytesFreed.inc(table, t.bytes_freed);
      for (const status of RUN_STATUSES) this.runs.inc({ ...table, status }, t.runs[status]);
      this.runSeconds.inc(table, t.run_seconds);
    }
    for (const j of status.cron_jobs ?? []) {
      const job = { jobname: j.jobname }; // not "job": Prometheus' own target label
      this.cronActive.set(job, j.active ? 1 : 0);
      const now = cronState(j);
      for (const state of CRON_STATES) this.cronState.set({ ...job, state }, state === now ? 1 : 0);
      this.cronFailures.set(job, j.recent_failures);
    }
  }

  /** The text exposition format (version 0.0.4) of the current values. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
