import { setTimeout as sleep } from 'node:timers/promises';
import { Progress } from '../archive.ts';
import { EXIT, UsageError, type Command, type Context } from '../command.ts';
import { DbError, type Db } from '../db.ts';
import { number } from '../format.ts';

// The steps of an online conversion, in order; each is one SQL function (sql/functions/convert_*.sql)
// that records its state in partkeeper.conversions, so a run killed at any point resumes here.
const STEPS = ['prepare', 'capture', 'fill', 'verify', 'swap', 'finish'] as const;
type Step = (typeof STEPS)[number];

interface StepResult {
  step?: string | null;
  already?: boolean;
  statements?: string[];
  statement?: string;
  [key: string]: unknown;
}

const duration = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
      : `${Math.round(s)}s`;

async function call(db: Db, sql: string, params: unknown[]): Promise<StepResult> {
  const { r } = await db.one<{ r: StepResult }>(sql, params);
  return r;
}

/** The table as SQL names it: partkeeper.resolve_table() refuses a name that names nothing with PK002, naming it. */
const TABLE = 'partkeeper.resolve_table($1)';

/** The conversion recorded for TABLE (conversion_of) and its next step (conversion_next); all null before prepare and after undo. */
async function recorded(db: Db, table: string): Promise<{ step: string | null; direction: string | null; next: string | null }> {
  return db.one(`select c.step, c.direction, (partkeeper.conversion_next(c)).step as next from partkeeper.conversion_of(${TABLE}) c`, [
    table,
  ]);
}

async function fill(db: Db, table: string, batch: number, pauseMs: number, show: Progress): Promise<StepResult> {
  const started = Date.now();
  let first: number | undefined;
  for (;;) {
    const r = await call(db, `select partkeeper.convert_fill_batch(${TABLE}, $2) as r`, [table, batch]);
    const copied = Number(r.rows_copied);
    const estimate = Math.max(Number(r.rows_estimate), copied);
    first ??= copied - Number(r.copied);
    const rate = (copied - first) / Math.max((Date.now() - started) / 1000, 0.001);
    const left = rate > 0 ? duration(Math.max(estimate - copied, 0) / rate) : '?';
    const line = `fill: ${estimate ? `${Math.min(100, Math.floor((copied / estimate) * 100))}% ` : ''}${number(copied)}/~${number(estimate)} rows, ${number(Math.round(rate))} rows/s, about ${left} left`;
    if (r.done) {
      show.done();
      process.stderr.write(`fill: ${number(copied)} rows copied in ${duration((Date.now() - started) / 1000)}\n`);
      return r;
    }
    show.update(line);
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

/** The swap waits at most lock_timeout for its locks, a few times (lock_retries); then the whole step is tried again later. */
async function swap(ctx: Context, db: Db, table: string, tries: number): Promise<StepResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(db, `select partkeeper.convert_swap(${TABLE}) as r`, [table]);
    } catch (e) {
      const d = DbError.from(e);
      if (!(d instanceof DbError) || d.code !== 'PK005' || attempt >= tries) throw e;
      ctx.err(`swap: locks not granted (${d.message}); trying again (${attempt}/${tries - 1})`);
      await sleep(1000 * attempt);
    }
  }
}

async function runConversion(ctx: Context, direction: 'partition' | 'unpartition'): Promise<number> {
  const table = ctx.positionals[0]!;
  const v = ctx.values;
  const batch = Number(v['batch-size'] ?? 10000);
  const pauseMs = Number(v.sleep ?? 0);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--batch-size must be a positive integer, got ${v['batch-size']}`);
  if (!Number.isFinite(pauseMs) || pauseMs < 0) throw new UsageError(`--sleep must be milliseconds >= 0, got ${v.sleep}`);
  const only = v.step as string | undefined;
  if (only !== undefined && !STEPS.includes(only as Step)) throw new UsageError(`--step must be one of ${STEPS.join(', ')}`);
  if (v.undo && (v.finish || only !== undefined))
    throw new UsageError(`--undo goes back to the original table; it takes no ${v.finish ? '--finish' : '--step'}`);
  if (only !== undefined && v.finish)
    throw new UsageError('--step runs one step and --finish the steps left with finish: give one of them');
  if (direction === 'unpartition' && v.column !== undefined)
    throw new UsageError('unpartition takes no --column: the table is turned back by its partition key');
  const column = (v.column as string | undefined) ?? null;
  const db = await ctx.db();
  const dryRun = !!v['dry-run'];
  const show = new Progress(!!v.progress || !!process.stderr.isTTY);
  const print = (label: string, r: StepResult) => {
    if (dryRun) for (const s of r.statements ?? (r.statement ? [r.statement] : [])) ctx.out(`${s};`);
    else ctx.err(`${label}: ${r.already ? 'already done' : 'done'}${r.step ? ` (step ${r.step})` : ''}`);
  };

  if (v.undo) {
    const r = await call(db, `select partkeeper.convert_undo(${TABLE}, $2) as r`, [table, dryRun]);
    print('undo', r);
    if (!dryRun) ctx.out(`${table}: back to the original (undone from step ${r.undone_from})`);
    return EXIT.ok;
  }

  const run = async (s: Step): Promise<boolean> => {
    if (s === 'prepare') {
      const r = await call(db, `select partkeeper.convert_prepare(${TABLE}, $2, $3) as r`, [table, column, direction === 'unpartition']);
      ctx.err(
        `prepare: ${r.already ? `already under way (step ${r.step})` : `twin ${r.twin} made${Array.isArray(r.partitions) && r.partitions.length ? ` with ${r.partitions.length} partition(s)` : ''}`}`,
      );
    } else if (s === 'capture') print('capture', await call(db, `select partkeeper.convert_capture(${TABLE}) as r`, [table]));
    else if (s === 'fill') await fill(db, table, batch, pauseMs, show);
    else if (s === 'verify') {
      const r = await call(db, `select partkeeper.convert_verify(${TABLE}) as r`, [table]);
      ctx.err(
        `verify: ${number(Number(r.rows))} rows in ${r.periods} month(s), twin ${number(Number(r.twin_rows))}: ${r.equal ? 'equal' : 'DIFFERENT'}`,
      );
      if (!r.equal) {
        for (const m of r.mismatched as { period: string; rows: number; twin_rows: number; checksum_equal: boolean }[])
          ctx.err(`  ${m.period}: ${m.rows} rows, twin ${m.twin_rows}${m.checksum_equal ? '' : ', checksums differ'}`);
        ctx.err('hint: nothing was swapped; find what wrote past the capture trigger, then verify again; or undo with --undo');
        return false;
      }
    } else if (s === 'swap') {
      const r = await swap(ctx, db, table, 5);
      ctx.err(`swap: ${r.already ? 'already done' : 'done'}; the original is kept as ${r.retired}`);
    } else {
      const r = await call(db, `select partkeeper.convert_finish(${TABLE}) as r`, [table]);
      ctx.err(
        `finish: ${r.already ? 'already done' : 'done'}; ${r.retired_dropped ? `${r.retired} was dropped already` : `drop ${r.retired} when it is no longer wanted`}`,
      );
    }
    return true;
  };

  const state = await recorded(db, table);
  // A conversion is started when none is recorded, or the last one went the other way and is
  // finished; else it continues from its recorded step (prepare refuses one of the other direction
  // or column, PK015, and is therefore asked first when either is given).
  const started = state.step === null || (state.step === 'finished' && state.direction !== direction);
  const first: Step | null = started ? 'prepare' : (state.next as Step | null);
  if (dryRun) {
    // the statements of the next step: later ones depend on what it makes
    const next = (only as Step | undefined) ?? first;
    if (next === null) {
      ctx.err('-- the conversion is finished: nothing is left to run');
      return EXIT.ok;
    }
    ctx.err(`-- dry run of step ${next}: nothing is changed`);
    if (next === 'prepare')
      print(
        'prepare',
        await call(db, `select partkeeper.convert_prepare(${TABLE}, $2, $3, true) as r`, [table, column, direction === 'unpartition']),
      );
    else if (next === 'fill')
      print('fill', await call(db, `select partkeeper.convert_fill_batch(${TABLE}, $2, true) as r`, [table, batch]));
    else if (next === 'verify')
      ctx.out(`select partkeeper.convert_verify(${JSON.stringify(table)}); -- reads both tables, changes nothing but the step`);
    else print(next, await call(db, `select partkeeper.convert_${next}(${TABLE}, true) as r`, [table]));
    return EXIT.ok;
  }

  if (only) {
    if (!(await run(only as Step))) return EXIT.failed;
  } else if (first === null) ctx.err(`${table}: the conversion is finished; nothing is left to run`);
  else {
    if (!started && state.step !== 'finished' && (column !== null || state.direction !== direction)) await run('prepare');
    // each step from the recorded one on, as the SQL orders them (conversion_next); finish only when asked
    for (let next: Step | null = first; next !== null && (next !== 'finish' || v.finish); ) {
      if (!(await run(next))) return EXIT.failed;
      const after = await recorded(db, table);
      if (after.next === next) throw new Error(`step ${next} left the conversion of ${table} at step ${after.step}`);
      next = after.next as Step | null;
    }
  }
  ctx.out(`${table}: conversion at step ${(await recorded(db, table)).step ?? 'none'}`);
  return EXIT.ok;
}

const options = {
  column: { type: 'string', short: 'c' },
  step: { type: 'string' },
  'batch-size': { type: 'string' },
  sleep: { type: 'string' },
  'dry-run': { type: 'boolean' },
  undo: { type: 'boolean' },
  finish: { type: 'boolean' },
  progress: { type: 'boolean' },
} as const;

const steps = `Steps (each one transaction, or one per fill batch; each resumes after a kill and does nothing
when already done, so the command can simply be run again):
  prepare  the twin <table>_twin: same columns, defaults, identity, constraints, indexes, owner,
           privileges, row-level security
  capture  a trigger on the table carries every INSERT, UPDATE and DELETE to the twin
  fill     copies the rows in batches by primary key, committing each batch (progress on stderr)
  verify   row count and checksum per month of both tables, compared in one snapshot
  swap     under lock_timeout with retries: the twin takes the name, the original becomes
           <table>_retired and receives every later write, so --undo can go back
  finish   (only with --finish or --step finish) stops carrying writes to <table>_retired; drop
           that table after finish, when it is no longer wanted
A rerun continues from the step recorded in partkeeper.conversions: after the swap, --finish runs
finish alone.`;

const common = `  --step STEP       run only this step (${STEPS.join(', ')})
  --batch-size N    rows per fill batch (default 10000)
  --sleep MS        pause between fill batches, in milliseconds (default 0)
  --finish          run the steps left, finish included
  --undo            go back to the original table from any step before finish (not with
                    --finish or --step)
  --dry-run         print the SQL of the next step and change nothing
  --progress        progress on stderr even when it is not a terminal
Exit codes: 0 done, 1 failed or verify found differences (nothing swapped), 64 wrong usage.`;

export const convert: Command = {
  summary: 'convert a plain table into a managed partitioned one, online (and back with --undo)',
  usage: `usage: partkeeper convert TABLE --column COLUMN [options] [--database-url URL | --pglite DIR]

Converts the plain table TABLE into a table partitioned by the timestamptz, timestamp or date
column COLUMN, managed by partkeeper, while the application keeps reading and writing it.
${steps}
  --column, -c COL  the time column to partition by (needed by prepare)
${common}`,
  options,
  positionals: [1, 1],
  run: (ctx) => runConversion(ctx, 'partition'),
};

export const unpartition: Command = {
  summary: 'turn a partitioned table back into a plain one, online (and back with --undo)',
  usage: `usage: partkeeper unpartition TABLE [options] [--database-url URL | --pglite DIR]

Turns the range-partitioned table TABLE into a plain table with the same columns, keys and
indexes, while the application keeps reading and writing it. After finish the retired partitioned
table is no longer maintained.
${steps.replace('privileges, row-level security', 'privileges, row-level security, as a plain table')}
${common}`,
  options,
  positionals: [1, 1],
  run: (ctx) => runConversion(ctx, 'unpartition'),
};
