// The JSON the SQL functions return, as zod schemas: one schema per contract, each next to the name of
// the SQL function that owns the shape (its header comment is the prose version). The TypeScript
// types are inferred from these schemas, so a consumer cannot disagree with what is checked.
//
// Objects are strict wherever the SQL builds a fixed shape: a field the SQL adds, drops or renames
// fails the parse (and so a test) until the schema says the same. Timestamps are checked as
// PostgreSQL writes a timestamptz into JSON, so a value of another type in their place fails too.
import { z } from 'zod';

/* ------------------------------------------------------------------------------------------ */
/* Building blocks                                                                            */
/* ------------------------------------------------------------------------------------------ */

/**
 * A timestamptz as PostgreSQL writes it into JSON: ISO 8601 with the offset of the session's
 * TimeZone ("2025-10-01T00:00:00+00:00", microseconds when there are any, " BC" before year 1), or
 * "infinity" / "-infinity". Kept as the server's text: a JS Date would lose the microseconds.
 */
export const instantSchema = z
  .string()
  .regex(
    /^(?:\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2}){0,2}(?: BC)?|-?infinity)$/,
    'expected a timestamp as PostgreSQL writes one into JSON, such as "2025-10-01T00:00:00+00:00"',
  );

/** A count of rows, bytes or partitions: a bigint or integer column, a JSON number. */
const countSchema = z.number().int().nonnegative();

/** A SQLSTATE: five digits or capitals (PostgreSQL's, or partkeeper's PK001..). */
const sqlstateSchema = z.string().regex(/^[0-9A-Z]{5}$/, 'expected a SQLSTATE of five digits or capitals');

/** The codes partkeeper.error_code() gives a refused step (sql/functions/error_code.sql). */
const ERROR_CODES = [
  'lock_timeout',
  'rows_arrived',
  'fk_violation',
  'dependent_objects',
  'check_violation',
  'out_of_range',
  'conflict',
  'replica_role_required',
  'delete_rule',
  'not_owner',
  'insufficient_privilege',
  'table_missing',
  'unsupported',
  'error',
] as const;

/**
 * A warning's code (README, "Warning codes"): error_code()'s codes for a refused step, and the ones
 * partkeeper.maintain_table() reports itself. Programs match on these, never on the message.
 */
export const warningCodeSchema = z.enum([
  ...ERROR_CODES,
  'default_created',
  'overlap',
  'deferred',
  'expired_kept',
  'rows_in_default',
  'gap',
  'horizon_short',
]);

/** Why retention keeps an expired partition (partkeeper.expired_partitions()' reason_code). */
const expiredReasonSchema = z.enum(['archive_missing', 'archive_smaller', 'archive_larger']);

/**
 * One warning of a maintenance run (partkeeper.maintain_table()): a code and a message, and what the
 * step that raised it knows: the SQLSTATE, the step that could not run at all, the period or the
 * partition concerned, PostgreSQL's detail and hint (null when a failed step had none), and for
 * expired_kept why the partition is kept.
 */
export const maintenanceWarningSchema = z.strictObject({
  code: warningCodeSchema,
  message: z.string(),
  hint: z.string().nullable().optional(),
  sqlstate: sqlstateSchema.optional(),
  step: z.enum(['safety_net', 'read_default', 'plan', 'retention']).optional(),
  period: instantSchema.optional(),
  partition: z.string().optional(),
  detail: z.string().optional(),
  reason: expiredReasonSchema.optional(),
});

/** Why a table could not be maintained at all (partkeeper.maintain_table(), "error"); hint is null when there is none. */
export const maintenanceErrorSchema = z.strictObject({
  code: warningCodeSchema,
  sqlstate: sqlstateSchema,
  message: z.string(),
  hint: z.string().nullable(),
});

/** A partition a run made (partkeeper.add_partition()' result without "created"). */
export const createdPartitionSchema = z.strictObject({
  partition: z.string(),
  lower: instantSchema,
  upper: instantSchema,
  rows_moved: countSchema,
  method: z.enum(['attach', 'guarded attach', 'move']),
});

/**
 * Why rows stay in the DEFAULT partition (partkeeper.maintain_table(), left_in_default): the key or
 * the drain window, or the outcome of the period's step (its error_code(), deferred, overlap).
 */
export const leftReasonSchema = z.enum([
  'null_key',
  'infinite_key',
  'out_of_range',
  'retired',
  'before_window',
  'after_window',
  'not_planned',
  'deferred',
  'overlap',
  ...ERROR_CODES,
]);

/** Rows of one period waiting in the DEFAULT partition; period is null for NULL and out-of-range keys. */
export const leftInDefaultSchema = z.strictObject({
  period: instantSchema.nullable(),
  period_end: instantSchema.nullable(),
  rows: countSchema,
  waiting_since: instantSchema,
  reason: leftReasonSchema,
  message: z.string(),
});

/** A partition retention dropped or detached (partkeeper.retire_partition()' result). */
export const retiredPartitionSchema = z.strictObject({
  partition: z.string(),
  lower: instantSchema,
  upper: instantSchema,
  mode: z.enum(['drop', 'detach']),
  /** null on Citus when its shards could not be measured inside the run's transaction (partkeeper.relation_size()) */
  bytes: countSchema.nullable(),
});

/** The next partition retention retires, and when (null without retention or without partitions). */
export const nextExpirySchema = z.strictObject({ partition: z.string(), at: instantSchema }).nullable();

/* ------------------------------------------------------------------------------------------ */
/* partkeeper.maintain_table(), maintain_all(), run_maintenance()                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * A maintenance run that went through its steps (sql/functions/maintain_table.sql): status "ok",
 * "warning" or "failed" (a step was refused for a reason a DBA must act on), what it created, moved,
 * left in the DEFAULT partition and retired, the horizon it reached, and its warnings.
 */
export const maintenanceRunSchema = z.strictObject({
  table: z.string(),
  status: z.enum(['ok', 'warning', 'failed']),
  complete: z.boolean(),
  clock: instantSchema,
  created: z.array(createdPartitionSchema),
  rows_moved: countSchema,
  default_rows: countSchema,
  left_in_default: z.array(leftInDefaultSchema),
  retired: z.array(retiredPartitionSchema),
  next_expiry: nextExpirySchema,
  horizon: instantSchema.nullable(),
  horizon_target: instantSchema,
  drain_window: z.strictObject({ from: instantSchema, to: instantSchema }),
  duration_ms: z.number().nonnegative(),
  warnings: z.array(maintenanceWarningSchema),
});

/**
 * A table partkeeper.maintain_table() could not maintain at all (dropped, not the caller's to
 * maintain, a setting it cannot plan with): the error, repeated as the one warning; status "failed",
 * or "warning" when error_code() does not rate it an error.
 */
export const maintenanceFailureSchema = z.strictObject({
  table: z.string(),
  status: z.enum(['failed', 'warning']),
  complete: z.literal(false),
  clock: instantSchema,
  error: maintenanceErrorSchema,
  warnings: z.array(maintenanceWarningSchema),
  duration_ms: z.number().nonnegative(),
});

/**
 * Another run holds the table (partkeeper.maintain_table()): this one did nothing. With p_wait, the
 * wait ended at lock_timeout and error says so (code lock_timeout, SQLSTATE PK005).
 */
export const maintenanceBusySchema = z.strictObject({
  table: z.string(),
  status: z.literal('busy'),
  complete: z.literal(false),
  clock: instantSchema,
  reason: z.string(),
  error: z
    .strictObject({ code: z.literal('lock_timeout'), sqlstate: sqlstateSchema, message: z.string(), hint: z.string().optional() })
    .optional(),
});

/** partkeeper.maintain_table() on a hot standby: nothing done, partitions are made on the primary. */
export const maintenanceSkippedSchema = z.strictObject({
  table: z.string(),
  status: z.literal('skipped'),
  complete: z.literal(true),
  reason: z.string(),
});

/** partkeeper.maintain_table() of a table configured with enabled = false: nothing done. */
export const maintenanceDisabledSchema = z.strictObject({
  table: z.string(),
  status: z.literal('disabled'),
  complete: z.literal(true),
  reason: z.string(),
});

/** Everything partkeeper.maintain_table() (and public.maintain_livechat_partitions()) returns: one of the five shapes. */
export const maintenanceResultSchema = z.union([
  maintenanceRunSchema,
  maintenanceFailureSchema,
  maintenanceBusySchema,
  maintenanceSkippedSchema,
  maintenanceDisabledSchema,
]);

/**
 * The results of every table (sql/functions/maintain_all.sql, and the p_results of
 * sql/procedures/run_maintenance.sql): the worst status (worst_status()) and each table's result.
 */
export const maintenanceAllSchema = z.strictObject({
  status: z.enum(['ok', 'warning', 'failed']),
  tables: z.array(maintenanceResultSchema),
});

export type MaintenanceWarning = z.infer<typeof maintenanceWarningSchema>;
export type MaintenanceError = z.infer<typeof maintenanceErrorSchema>;
export type CreatedPartition = z.infer<typeof createdPartitionSchema>;
export type LeftInDefault = z.infer<typeof leftInDefaultSchema>;
export type RetiredPartition = z.infer<typeof retiredPartitionSchema>;
export type MaintenanceRun = z.infer<typeof maintenanceRunSchema>;
export type MaintenanceFailure = z.infer<typeof maintenanceFailureSchema>;
export type MaintenanceBusy = z.infer<typeof maintenanceBusySchema>;
export type MaintenanceResult = z.infer<typeof maintenanceResultSchema>;
export type MaintenanceAll = z.infer<typeof maintenanceAllSchema>;

/** Whether a maintenance result is a run that went through its steps (created, left_in_default, horizon, ...). */
export const isMaintenanceRun = (r: MaintenanceResult): r is MaintenanceRun => 'created' in r;

/* ------------------------------------------------------------------------------------------ */
/* partkeeper.status()                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** A partition as partkeeper.status() lists it (the partkeeper.partitions view); the DEFAULT one has no bounds. */
export const statusPartitionSchema = z.strictObject({
  partition: z.string(),
  lower: instantSchema.nullable(),
  upper: instantSchema.nullable(),
  is_default: z.boolean(),
  rows_estimate: countSchema.nullable(),
  bytes: countSchema,
});

/**
 * A result partkeeper.last_run kept from a release before "complete" existed (0.1.0 as released had
 * neither it nor created[].method): an upgrade keeps it until the table's next run replaces it, and
 * status() shows it as it is. Only its status and warnings are read. Recognised by the missing
 * "complete", so a result of this release never falls back to it and stays checked strictly.
 */
const earlierResultSchema = z.looseObject({
  table: z.string(),
  status: z.enum(['ok', 'warning', 'failed']),
  complete: z.never().optional(),
  warnings: z.array(z.looseObject({ code: z.string(), message: z.string() })),
});

/**
 * A table's last maintenance run (partkeeper.last_run), as partkeeper.status() shows it; busy runs
 * are not recorded. complete is null for a result kept from an earlier release.
 */
export const lastRunSchema = z.strictObject({
  finished_at: instantSchema,
  clock: instantSchema,
  status: z.enum(['ok', 'warning', 'failed']),
  complete: z.boolean().nullable(),
  result: z.union([maintenanceRunSchema, maintenanceFailureSchema, earlierResultSchema]),
});

/** A registered table in partkeeper.status(): settings, partitions, horizon, retention and its last run. */
export const statusTableSchema = z.strictObject({
  table: z.string(),
  exists: z.literal(true),
  time_zone: z.string(),
  premake: z.number().int().nonnegative(),
  enabled: z.boolean(),
  part_interval: z.enum(['day', 'week', 'month', 'quarter', 'year']),
  partitions: z.array(statusPartitionSchema),
  partition_count: countSchema,
  /** Null when the caller may not count them and no run has (a monitoring role before the first run). */
  default_rows: countSchema.nullable(),
  horizon: instantSchema.nullable(),
  horizon_target: instantSchema,
  retention: z.strictObject({
    /** An interval as the session's IntervalStyle prints it, e.g. "1 year"; null keeps everything. */
    retention: z.string().nullable(),
    mode: z.enum(['drop', 'detach']),
    schema: z.string().nullable(),
    require_archive: z.boolean(),
    retired_before: instantSchema.nullable(),
    next_expiry: nextExpirySchema,
    /** The expired_kept warnings of the last run, without their code. */
    expired_kept: z.array(z.strictObject({ reason: expiredReasonSchema, partition: z.string(), message: z.string() })),
    archives: countSchema,
    retired: countSchema,
    bytes_freed: countSchema,
  }),
  last_run: lastRunSchema.nullable(),
});

/** A registered table that was dropped, in partkeeper.status(): its name, whether enabled, and its last run. */
export const statusMissingTableSchema = z.strictObject({
  table: z.string(),
  exists: z.literal(false),
  enabled: z.boolean(),
  last_run: lastRunSchema.nullable(),
});

/** One of partkeeper's pg_cron jobs with its latest run (sql/functions/cron_jobs.sql). */
export const cronJobSchema = z.strictObject({
  jobname: z.string(),
  schedule: z.string(),
  command: z.string(),
  database: z.string(),
  active: z.boolean(),
  last_status: z.string().nullable(),
  last_start: instantSchema.nullable(),
  last_end: instantSchema.nullable(),
  last_message: z.string().nullable(),
  recent_failures: countSchema,
});

/**
 * What partkeeper.status() returns (sql/functions/status.sql): the version, the clock and the
 * simulated one (partkeeper.now as set, verbatim), every registered table, and the pg_cron jobs
 * (null when pg_cron is not installed in this database).
 */
export const statusSchema = z.strictObject({
  version: z.string(),
  clock: instantSchema,
  simulated_clock: z.string().nullable(),
  tables: z.array(z.discriminatedUnion('exists', [statusTableSchema, statusMissingTableSchema])),
  cron_jobs: z.array(cronJobSchema).nullable(),
});

export type StatusPartition = z.infer<typeof statusPartitionSchema>;
export type StatusTable = z.infer<typeof statusTableSchema>;
export type CronJob = z.infer<typeof cronJobSchema>;
export type Status = z.infer<typeof statusSchema>;

/* ------------------------------------------------------------------------------------------ */
/* partkeeper.health()                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** The checks partkeeper.health() runs: per table, then once for the database. */
export const healthCheckNameSchema = z.enum([
  'table_exists',
  'default_partition',
  'horizon',
  'default_rows',
  'partition_size',
  'retention',
  'last_run',
  'pruning',
  'conversion',
  'public_execute',
  'simulated_clock',
  'time_zone',
  'cron',
  'maintenance_roles',
]);

/** A check's verdict: info says something worth knowing that needs no action. */
export const checkStatusSchema = z.enum(['ok', 'info', 'warning', 'error']);

/** One check of partkeeper.health(): its table (null for the database-wide ones), verdict, message and fix. */
export const healthCheckSchema = z.strictObject({
  check: healthCheckNameSchema,
  table: z.string().nullable(),
  status: checkStatusSchema,
  message: z.string(),
  fix: z.string().nullable(),
});

/** What partkeeper.health() returns (sql/functions/health.sql): the worst verdict and every check. */
export const healthSchema = z.strictObject({
  status: z.enum(['ok', 'warning', 'error']),
  checks: z.array(healthCheckSchema),
});

export type HealthCheck = z.infer<typeof healthCheckSchema>;
export type Health = z.infer<typeof healthSchema>;

/* ------------------------------------------------------------------------------------------ */
/* partkeeper.metrics()                                                                       */
/* ------------------------------------------------------------------------------------------ */

/**
 * A registered table's cumulative counters in partkeeper.metrics() (sql/functions/metrics.sql):
 * partitions created and retired, rows moved, bytes freed by drops, runs by status, and the summed
 * duration of the recorded runs in seconds. Never lower than at an earlier call while the table
 * stays registered, whatever is pruned from partkeeper.log.
 */
export const metricsTableSchema = z.strictObject({
  table: z.string(),
  partitions_created: countSchema,
  partitions_retired: countSchema,
  rows_moved: countSchema,
  bytes_freed: countSchema,
  runs: z.strictObject({ ok: countSchema, warning: countSchema, failed: countSchema, busy: countSchema }),
  run_seconds: z.number().nonnegative(),
});

/**
 * What partkeeper.metrics() returns: the counters of every registered table, and health() folded to
 * one verdict per check and table (table null for the database-wide checks).
 */
export const metricsSchema = z.strictObject({
  tables: z.array(metricsTableSchema),
  health: z.strictObject({
    status: z.enum(['ok', 'warning', 'error']),
    checks: z.array(z.strictObject({ check: healthCheckNameSchema, table: z.string().nullable(), status: checkStatusSchema })),
  }),
});

export type MetricsTable = z.infer<typeof metricsTableSchema>;
export type Metrics = z.infer<typeof metricsSchema>;

/* ------------------------------------------------------------------------------------------ */
/* Reading a value through a schema                                                            */
/* ------------------------------------------------------------------------------------------ */

type Issue = z.core.$ZodIssue;

/** A field path as JavaScript writes it: tables[0].created[1].method. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) =>
      typeof k === 'number'
        ? `[${k}]`
        : typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k)
          ? `${i ? '.' : ''}${k}`
          : `[${JSON.stringify(String(k))}]`,
    )
    .join('');
}

const shown = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * The members of a union the value did not match, reduced to the one it was meant to be: when every
 * member refuses the same literal field (the status, say), that field alone; otherwise, among the
 * members whose literal fields (and fields that must be absent) it does match, the one with the
 * fewest problems.
 */
function closest(members: readonly Issue[][]): Issue[] {
  const literal = (i: Issue) =>
    i.path.length === 1 && (i.code === 'invalid_value' || (i.code === 'invalid_type' && i.expected === 'never'));
  const firstLiteral = members.map((m) => m.find(literal));
  const at = firstLiteral[0] && issuePath(firstLiteral[0].path);
  if (at !== undefined && firstLiteral.every((i) => i && issuePath(i.path) === at)) {
    const values = [...new Set(firstLiteral.flatMap((i) => (i?.code === 'invalid_value' ? i.values : [])))];
    return [{ ...firstLiteral[0]!, values, message: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` } as Issue];
  }
  const matching = members.filter((m) => !m.some(literal));
  return (matching.length ? matching : members).reduce((best, m) => (m.length < best.length ? m : best));
}

function lines(issues: readonly Issue[], base: readonly PropertyKey[]): string[] {
  return issues.flatMap((i) => {
    const path = [...base, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length) return lines(closest(i.errors), path);
    const input = (i as { input?: unknown }).input;
    const got =
      i.code !== 'unrecognized_keys' && input !== undefined && (input === null || typeof input !== 'object')
        ? ` (got ${shown(input)})`
        : '';
    return [`${path.length ? `${issuePath(path)}: ` : ''}${i.message}${got}`];
  });
}

/** Every problem zod found, one line each: "path: message (got value)", or just the message for the value itself. */
export function issueLines(error: z.ZodError): string[] {
  // several checks of one field can say the same thing (a number below its minimum and not an integer)
  return [...new Set(lines(error.issues, []))];
}

/** A value that does not have the shape its contract says: which value, and each field that is wrong. */
export class ContractError extends Error {
  override name = 'ContractError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} returned JSON that does not match its contract (src/contracts.ts): ${problems.join('; ')}`);
  }
}

/**
 * Parses `value` with `schema` and returns the parsed value; throws a ContractError naming `source`
 * (the SQL that produced it) and every field that does not match.
 */
export function parseContract<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw new ContractError(source, issueLines(r.error));
  return r.data;
}
