import { exitFor, type Command, UsageError } from '../command.ts';
import { healthSchema, parseContract, type HealthCheck } from '../contracts.ts';
import { DbError, type Db } from '../db.ts';
import { FORMATS } from '../outputs.ts';

/** A whole number of at least 0 given as an option, or a UsageError naming it. */
function count(name: string, v: unknown): string | null {
  if (v === undefined) return null;
  if (!/^\d+$/.test(String(v))) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return String(v);
}

/** A size as PostgreSQL's pg_size_bytes() reads it ("53687091200", "50GB", "1.5 TB": powers of 1024), in bytes. */
async function bytes(db: Db, name: string, v: unknown): Promise<string | null> {
  if (v === undefined) return null;
  try {
    return (await db.one<{ b: string }>('select pg_size_bytes($1)::text as b', [String(v)])).b;
  } catch (e) {
    if (e instanceof DbError && e.code === '22023') throw new UsageError(`--${name}: ${e.message} (a number of bytes, or one like 50GB)`);
    throw e;
  }
}

/** A check of health(), or one the command makes itself on this machine. */
type Check = Omit<HealthCheck, 'check'> & { check: HealthCheck['check'] | 'clock_skew' };

const MARK = { ok: 'ok  ', info: 'info', warning: 'WARN', error: 'FAIL' } as const;

export const doctor: Command = {
  summary: 'run the troubleshooting checks and print each with its fix; exit 1 on errors, 2 on warnings',
  usage: `usage: partkeeper doctor [--json] [--max-partition-bytes SIZE] [--max-partition-rows N]
                         [--max-default-rows N] [--max-run-age INTERVAL] [--max-clock-skew SECONDS]
                         [--database-url URL | --pglite DIR]

Runs partkeeper.health() (DEFAULT partition and trigger, partitions for now + premake, rows in
DEFAULT, partition sizes, last maintenance, partition pruning, online conversions not finished,
privileges, simulated clock, pg_cron jobs) and compares the server's clock with this machine's.
Prints each check with a fix.
--max-partition-bytes takes bytes or a size such as 50GB (PostgreSQL's pg_size_bytes(), powers of
1024). --json prints a ${FORMATS.doctor} object (schemas/doctor.schema.json).
Exit codes: 0 all checks pass, 2 warnings, 1 errors, 64 wrong usage.`,
  options: {
    json: { type: 'boolean' },
    'max-partition-bytes': { type: 'string' },
    'max-partition-rows': { type: 'string' },
    'max-default-rows': { type: 'string' },
    'max-run-age': { type: 'string' },
    'max-clock-skew': { type: 'string', default: '60' },
  },
  async run(ctx) {
    const v = ctx.values;
    const maxSkew = Number(v['max-clock-skew']);
    if (!/^\d+(\.\d+)?$/.test(String(v['max-clock-skew'])))
      throw new UsageError(`--max-clock-skew must be a number of seconds, got ${JSON.stringify(v['max-clock-skew'])}`);
    const rows = count('max-partition-rows', v['max-partition-rows']);
    const defaultRows = count('max-default-rows', v['max-default-rows']);
    const db = await ctx.db();
    const maxBytes = await bytes(db, 'max-partition-bytes', v['max-partition-bytes']);
    if (v['max-run-age'] !== undefined)
      await db.query('select $1::interval', [v['max-run-age']]).catch((e: unknown) => {
        if (e instanceof DbError && e.code.startsWith('22'))
          throw new UsageError(`--max-run-age: ${e.message} (an interval such as '2 hours')`);
        throw e;
      });
    const before = Date.now();
    const row = await db.one<{ h: unknown; server: string }>(
      `select partkeeper.health(coalesce($1::bigint, 53687091200), $2::bigint, coalesce($3::bigint, 0), coalesce($4::interval, '1 hour')) as h,
              extract(epoch from clock_timestamp())::text as server`,
      [maxBytes, rows, defaultRows, v['max-run-age'] ?? null],
    );
    const skew = Math.abs(Number(row.server) * 1000 - (before + Date.now()) / 2) / 1000;
    const h = parseContract(healthSchema, row.h, 'partkeeper.health()');
    const checks: Check[] = [
      ...h.checks,
      {
        check: 'clock_skew',
        table: null,
        status: skew > maxSkew ? 'warning' : 'ok',
        message: `the server's clock is ${skew.toFixed(1)} s away from this machine's`,
        fix: skew > maxSkew ? 'Synchronise the clocks (NTP); partitions follow the server clock.' : null,
      },
    ];
    // the SQL folds the statuses (health()'s checks and this machine's) by its one rule, in the words of checks
    const worst = (await db.one<{ s: string }>('select partkeeper.worst_check_status($1::text[]) as s', [checks.map((c) => c.status)])).s;
    if (v.json) ctx.out(JSON.stringify({ format: FORMATS.doctor, status: worst, checks }, null, 2));
    else {
      for (const c of checks) {
        ctx.out(`[${MARK[c.status]}] ${c.check}${c.table ? ` ${c.table}` : ''}: ${c.message}`);
        if (c.status === 'warning' || c.status === 'error') ctx.out(`       fix: ${c.fix}`);
      }
      ctx.out(worst === 'ok' ? 'all checks passed' : `doctor: ${worst === 'error' ? 'errors found' : 'warnings found'}`);
    }
    return exitFor(worst);
  },
};
