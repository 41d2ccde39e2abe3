// 2. Maintenance cost: a run with nothing to do and a run that creates partitions, for 1, 100 and
// 1000 managed tables, partkeeper.maintain_all() against pg_partman's run_maintenance() on the
// same tables with the same settings.
import { maintenanceAllSchema, parseContract } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import {
  dropDatabase,
  fmt,
  freshDatabase,
  handPartitions,
  livechatShape,
  median,
  monthStart,
  ratio,
  rotation,
  section,
  timed,
  type Ctx,
  type Section,
} from './lib.ts';

type Contender = 'partkeeper' | 'pg_partman';

const name = (c: Contender, i: number) => `${c === 'partkeeper' ? 'mk_pk' : 'mk_pm'}_${String(i).padStart(4, '0')}`;

/**
 * Tables from..to-1 of a contender, 100 per round trip. partkeeper's get this month and the next two
 * made by hand and are then registered (adopted, DEFAULT added); pg_partman's get theirs from create_parent.
 */
async function addTables(db: Db, c: Contender, from: number, to: number): Promise<void> {
  for (let lo = from; lo < to; lo += 100) {
    const sql: string[] = [];
    for (let i = lo; i < Math.min(to, lo + 100); i++) {
      const t = name(c, i);
      sql.push(livechatShape(t));
      if (c === 'partkeeper') {
        sql.push(handPartitions(t, 0, 2, false), `select partkeeper.register_table('${t}');`);
      } else {
        sql.push(
          `select partman.create_parent(p_parent_table => 'public.${t}', p_control => 'created_at', p_type => 'native', p_interval => 'monthly',
                                        p_premake => 2, p_start_partition => '${monthStart(0).slice(0, 19)}', p_jobmon => false);`,
          `update partman.part_config set infinite_time_partitions = true where parent_table = 'public.${t}';`,
        );
      }
    }
    await db.exec(sql.join('\n'));
  }
}

type Mode = 'function' | 'procedure';

/**
 * One maintenance run over every table; returns the number of partitions it created. function: one
 * transaction (`partkeeper.maintain_all()`, `partman.run_maintenance()`); procedure: a commit after
 * every table, as a scheduled job runs it (`CALL partkeeper.run_maintenance()`, `CALL partman.run_maintenance_proc()`).
 */
async function runOnce(db: Db, c: Contender, tables: number, mode: Mode = 'function'): Promise<{ ms: number; created: number }> {
  const count = () =>
    db.one<{ n: number }>(
      `select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where c.relkind = 'r' and c.relname like $1 and pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'`,
      [`${c === 'partkeeper' ? 'mk_pk' : 'mk_pm'}_%`],
    );
  const before = (await count()).n;
  if (c === 'partkeeper') {
    const { ms, value: raw } =
      mode === 'function'
        ? await timed(async () => (await db.one<{ r: unknown }>(`select partkeeper.maintain_all() as r`)).r)
        : await timed(
            async () =>
              (await db.one<{ p_results: unknown }>(`call partkeeper.run_maintenance(p_raise => false, p_results => null)`)).p_results,
          );
    // checked after the clock stopped: the parse is the benchmark's, not maintenance's
    const value = parseContract(
      maintenanceAllSchema,
      raw,
      mode === 'function' ? 'partkeeper.maintain_all()' : 'partkeeper.run_maintenance()',
    );
    const bad = value.tables.filter((t) => t.status !== 'ok');
    if (bad.length) throw new Error(`partkeeper ${mode}: ${bad.length} table(s) not ok: ${JSON.stringify(bad[0])}`);
    if (value.tables.length !== tables) throw new Error(`partkeeper ${mode} ran over ${value.tables.length} tables, expected ${tables}`);
    return { ms, created: (await count()).n - before };
  }
  const { ms } = await timed(() =>
    db.exec(
      mode === 'function' ? `select partman.run_maintenance(p_jobmon => false)` : `call partman.run_maintenance_proc(p_jobmon => false)`,
    ),
  );
  return { ms, created: (await count()).n - before };
}

/**
 * Untimed: drop the newest partition of every table, so that the next run makes it again. pg_partman
 * extends from its newest partition and does not fill gaps, so it must be the newest one; partitions
 * are found by name, which sorts by month for both tools (<table>_YYYY_MM, pg_partman <table>_pYYYY_MM).
 */
async function dropNewest(db: Db, c: Contender): Promise<void> {
  await db.exec(`do $$ declare r record; n integer := 0; begin
    for r in select distinct on (i.inhparent) c.oid::regclass as p
               from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class pc on pc.oid = i.inhparent
              where c.relkind = 'r' and pc.relname like '${c === 'partkeeper' ? 'mk_pk' : 'mk_pm'}\\_%'
                and pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
              order by i.inhparent, c.relname desc
    loop
      execute format('drop table %s', r.p);
      n := n + 1;
      if n % 500 = 0 then commit; end if; -- 10,000 drops in one transaction exceed the lock table
    end loop; end $$`);
}

export async function maintenance(ctx: Ctx): Promise<Section> {
  const s = section('maintenance', '2. Maintenance cost');
  const sizes = ctx.smoke ? [1, 3] : [1, 100, 1000];
  const perTableSizes = ctx.smoke ? [1, 3, 5] : [1, 100, 1000, 10_000];
  // Fewer rounds at 1000 tables: one creating run there takes 10-20 s.
  const roundsFor = (n: number) => (ctx.smoke ? 1 : n >= 1000 ? 2 : 3);
  const contenders: Contender[] = ctx.partman ? ['partkeeper', 'pg_partman'] : ['partkeeper'];
  const { db, name: dbName } = await freshDatabase(ctx, 'bench_maintenance', { partman: true });
  try {
    // Only the benchmark's tables are registered: the install's own livechat_messages is not.
    await db.query(`select partkeeper.unregister_table('livechat_messages')`);
    await db.exec(`drop table livechat_messages`);
    const results: Record<string, Record<string, Record<Mode, { idle: number[]; create: number[] }>>> = {};
    let made = 0;
    let profile: { function: string; calls: number; self_ms_per_table: number; total_ms_per_table: number }[] = [];
    let statements: { statement: string; calls: number; ms_per_table: number }[] = [];
    const measure = async (n: number, c: Contender, mode: Mode, round: number) => {
      // A warm-up run before the first round settles the caches (and the premake of new tables); then the timed runs.
      if (round === 0) await runOnce(db, c, n, mode);
      const idle = await runOnce(db, c, n, mode);
      if (idle.created !== 0) throw new Error(`${c} ${mode}: a run with nothing to do created ${idle.created} partitions`);
      await dropNewest(db, c);
      const create = await runOnce(db, c, n, mode);
      if (create.created !== n) throw new Error(`${c} ${mode}: the creating run made ${create.created} partitions, expected ${n}`);
      const r = (((results[String(n)] ??= {})[c] ??= {} as Record<Mode, { idle: number[]; create: number[] }>)[mode] ??= {
        idle: [],
        create: [],
      });
      r.idle.push(idle.ms);
      r.create.push(create.ms);
      ctx.log(
        `  maintenance ${n} table(s) ${c} ${mode} round ${round + 1}: nothing to do ${fmt(idle.ms, 1)} ms, creating ${fmt(create.ms, 1)} ms`,
      );
    };
    for (const n of sizes) {
      for (const c of contenders) await addTables(db, c, made, n);
      made = n;
      await db.exec('vacuum analyze');
      for (let round = 0; round < roundsFor(n); round++) {
        for (const c of rotation(contenders, round)) {
          for (const mode of ['function', 'procedure'] as const) await measure(n, c, mode, round);
        }
      }
      if (n === sizes.at(-1)) {
        // Where partkeeper's time goes: one more run with nothing to do, with PL/pgSQL function timing on.
        if (ctx.statements) await db.exec(`create extension if not exists pg_stat_statements; select pg_stat_statements_reset()`);
        await db.exec(`set track_functions = 'pl'; select pg_stat_reset()`);
        if (ctx.statements) await db.exec(`set pg_stat_statements.track = 'all'`);
        await db.query(`select partkeeper.maintain_all()`);
        if (ctx.statements) await db.exec(`set pg_stat_statements.track = 'none'`);
        await db.exec(`select pg_stat_force_next_flush()`);
        await db.exec(`set track_functions = 'none'`);
        if (ctx.statements) {
          statements = (
            await db.query<{ q: string; calls: string; ms: number }>(
              `select regexp_replace(regexp_replace(query, '^\\s*/\\*.*?\\*/', ''), '\\s+', ' ', 'g') as q, calls::text as calls, total_exec_time as ms
                 from pg_stat_statements
                where dbid = (select oid from pg_database where datname = current_database())
                  and query !~* 'maintain_all|pg_stat_statements|track'
                order by total_exec_time desc limit 8`,
            )
          ).map((r) => ({
            statement: (r.q = r.q.trim()).length > 140 ? `${r.q.slice(0, 137)}...` : r.q,
            calls: Number(r.calls),
            ms_per_table: r.ms / n,
          }));
        }
        profile = (
          await db.query<{ f: string; calls: string; self: number; total: number }>(
            `select funcname as f, calls::text as calls, self_time as self, total_time as total
               from pg_stat_user_functions where schemaname = 'partkeeper' order by self_time desc limit 8`,
          )
        ).map((r) => ({ function: r.f, calls: Number(r.calls), self_ms_per_table: r.self / n, total_ms_per_table: r.total / n }));
      }
    }
    // The per-table cost up to 10,000 tables, partkeeper alone (pg_partman's set-up of 10,000 tables
    // would take most of the benchmark's time), as a scheduled job runs it.
    for (const n of perTableSizes.filter((x) => x > made)) {
      await addTables(db, 'partkeeper', made, n);
      made = n;
      await db.exec('vacuum analyze');
      await measure(n, 'partkeeper', 'procedure', 0);
    }

    s.method.push(
      `Tables of the \`livechat_messages\` shape, in one database: ${sizes.join(', ')} managed by partkeeper and as many managed by pg_partman ${ctx.partman ?? '(not installed: skipped)'} ` +
        '(made incrementally: the 100 include the 1, the 1000 include the 100). Both with the same settings: monthly partitions, premake 2 from the clock, a DEFAULT partition each. ' +
        "partkeeper's tables get this month and the next two as partitions (made with CREATE TABLE ... PARTITION OF) and are then registered, which adds the DEFAULT partition. " +
        "pg_partman's are made by `create_parent(p_type => 'native', p_interval => 'monthly', p_premake => 2, p_start_partition => <this month>)` with " +
        '`infinite_time_partitions = true`, so that it premakes from the clock like partkeeper rather than from the newest row. pg_partman counts premake from the current time rather than from the start of the current month, ' +
        'so in the second half of a month it keeps one partition more (this month + 3). The clock is the real one for both (pg_partman cannot be given another).',
      'Two ways to run, both measured: **function**, one statement in one transaction, `SELECT partkeeper.maintain_all()` against `SELECT partman.run_maintenance(p_jobmon => false)`; ' +
        '**procedure**, a commit after every table, as a scheduled job runs it, `CALL partkeeper.run_maintenance(p_raise => false, p_results => null)` against `CALL partman.run_maintenance_proc(p_jobmon => false)`. Timed at the client. ' +
        '**Nothing to do**: every partition exists. **Creating**: before the run, the newest partition of every table is dropped, untimed, so the run makes one partition per table ' +
        '(checked: exactly one per table is made, none by the runs with nothing to do). ' +
        `${sizes.map((n) => `${roundsFor(n)} round(s) at ${n}`).join(', ')}; each round runs both contenders in alternating order, each way, the two timed runs each ` +
        '(preceded, in the first round, by an untimed warm-up run). Medians over rounds. ' +
        `Then partkeeper alone up to ${perTableSizes.at(-1)} tables (one round, procedure), for the cost per table as the number of tables grows.`,
      '`max_locks_per_transaction` is raised to 256 because a single run that creates 1000 partitions locks several thousand relations (both tools do it in one transaction).',
    );
    const get = (n: number, c: Contender, mode: Mode, kind: 'idle' | 'create') => {
      const xs = results[String(n)]?.[c]?.[mode]?.[kind];
      return xs?.length ? median(xs) : NaN;
    };
    const table = {
      head: [
        'tables',
        'run',
        'way',
        'partkeeper (ms)',
        'pg_partman (ms)',
        'pg_partman ÷ partkeeper (> 1: partkeeper faster)',
        'partkeeper per table (ms)',
      ],
      rows: [] as string[][],
    };
    for (const n of sizes) {
      for (const kind of ['idle', 'create'] as const) {
        for (const mode of ['function', 'procedure'] as const) {
          const pk = get(n, 'partkeeper', mode, kind);
          const pm = get(n, 'pg_partman', mode, kind);
          table.rows.push([
            String(n),
            kind === 'idle' ? 'nothing to do' : `creating ${n} partition(s)`,
            mode,
            fmt(pk, 1),
            fmt(pm, 1),
            fmt(ratio(pm, pk), 2),
            fmt(pk / n, 2),
          ]);
        }
      }
    }
    s.tables.push(table);
    s.tables.push({
      caption: "partkeeper's cost per table as the number of tables grows (procedure, a commit after every table):",
      head: ['tables', 'nothing to do, ms per table', 'creating one partition each, ms per table'],
      rows: perTableSizes.map((n) => [
        String(n),
        fmt(get(n, 'partkeeper', 'procedure', 'idle') / n, 3),
        fmt(get(n, 'partkeeper', 'procedure', 'create') / n, 2),
      ]),
    });
    if (profile.length) {
      s.tables.push({
        caption: `Where partkeeper's run with nothing to do spends its time at ${sizes.at(-1)} tables (PL/pgSQL function timing, \`track_functions = 'pl'\`, one extra run after the timed ones; SQL functions PostgreSQL inlines do not appear):`,
        head: ['function', 'calls per table', 'self ms per table', 'total ms per table'],
        rows: profile.map((p) => [p.function, fmt(p.calls / sizes.at(-1)!, 0), fmt(p.self_ms_per_table, 3), fmt(p.total_ms_per_table, 3)]),
      });
    }
    if (statements.length) {
      s.tables.push({
        caption: `The same run, statement by statement (\`pg_stat_statements.track = 'all'\`: statements inside the functions, including nested ones; a statement's time includes the functions it calls):`,
        head: ['statement', 'calls per table', 'ms per table'],
        rows: statements.map((p) => [`\`${p.statement}\``, fmt(p.calls / sizes.at(-1)!, 0), fmt(p.ms_per_table, 3)]),
      });
    }
    const big = sizes.at(-1)!;
    for (const mode of ['function', 'procedure'] as const) {
      const pkIdle = get(big, 'partkeeper', mode, 'idle');
      const pmIdle = get(big, 'pg_partman', mode, 'idle');
      const speedup = ratio(pmIdle, pkIdle);
      s.targets.push({
        name: `maintenance with nothing to do, ${big} tables (${mode})`,
        goal: '≥ 3 × faster than pg_partman',
        measured: ctx.partman
          ? `${fmt(speedup, 2)} × (partkeeper ${fmt(pkIdle, 0)} ms, pg_partman ${fmt(pmIdle, 0)} ms)`
          : `partkeeper ${fmt(pkIdle, 0)} ms; pg_partman not installed`,
        met: ctx.partman ? speedup >= 3 : null,
        ...(!ctx.partman && {
          note: 'pg_partman was not part of this run (not installed, or --without-partman): install postgresql-15-partman to measure it.',
        }),
        ...(ctx.partman && speedup < 3 && { note: idleNote(speedup, pkIdle, pmIdle, big, profile, statements) }),
      });
      const pkCreate = get(big, 'partkeeper', mode, 'create');
      const pmCreate = get(big, 'pg_partman', mode, 'create');
      const c = ratio(pmCreate, pkCreate);
      s.targets.push({
        name: `maintenance creating one partition per table, ${big} tables (${mode})`,
        goal: 'at least as fast as pg_partman',
        measured: ctx.partman
          ? `${fmt(c, 2)} × (partkeeper ${fmt(pkCreate, 0)} ms, pg_partman ${fmt(pmCreate, 0)} ms)`
          : `partkeeper ${fmt(pkCreate, 0)} ms; pg_partman not installed`,
        met: ctx.partman ? c >= 1 : null,
        ...(ctx.partman &&
          c < 1 && {
            note:
              `missed: partkeeper takes ${fmt(pkCreate / big, 2)} ms a table where pg_partman takes ${fmt(pmCreate / big, 2)} ms. partkeeper makes each partition as a standalone table and ATTACHes it ` +
              "(SHARE UPDATE EXCLUSIVE: readers never wait) where pg_partman issues CREATE TABLE ... PARTITION OF (ACCESS EXCLUSIVE), runs each statement as the table's owner, and keeps " +
              'every step in its own subtransaction so that one refused step fails alone; in one transaction over many tables each subtransaction hands its locks over to the next level, which costs more the more locks the transaction holds.',
          }),
      });
    }
    const perTable = perTableSizes.map((n) => get(n, 'partkeeper', 'procedure', 'idle') / n).filter((x) => Number.isFinite(x));
    const flat = Math.max(...perTable.slice(1)) / Math.min(...perTable.slice(1));
    s.targets.push({
      name: `cost per table with nothing to do, 100 to ${perTableSizes.at(-1)} tables`,
      goal: 'flat',
      measured: `${perTable
        .slice(1)
        .map((x) => fmt(x, 3))
        .join(', ')} ms per table (highest ÷ lowest ${fmt(flat, 2)})`,
      met: flat <= 2,
    });
    s.data = { sizes, perTableSizes, rounds: sizes.map(roundsFor), milliseconds: results, profile, statements };
    return s;
  } finally {
    await db.close();
    await dropDatabase(ctx, dbName);
  }
}

/** Why a run with nothing to do misses its target, from the function and statement profiles. */
function idleNote(
  speedup: number,
  pkIdle: number,
  pmIdle: number,
  n: number,
  profile: { function: string; calls: number; self_ms_per_table: number }[],
  statements: { statement: string; calls: number; ms_per_table: number }[],
): string {
  const out = [
    `missed: partkeeper is ${speedup >= 1 ? `${fmt(speedup, 2)} × faster` : `${fmt(1 / speedup, 2)} × slower`} than pg_partman, the goal is 5 × faster; ` +
      `to reach it, a run with nothing to do must cost ${fmt(pmIdle / 5 / n, 3)} ms per table instead of ${fmt(pkIdle / n, 3)} ms.`,
    'The profiles in section 2 show why: a run with nothing to do does, for every table, the whole work of a run that acts.',
  ];
  // partition_bounds' own query, and the queries that call it
  const bounds = statements.find((st) => /key_value\(m\[/.test(st.statement));
  const callers = statements.filter((st) => /partkeeper\.partition_bounds\(/.test(st.statement));
  if (bounds) {
    out.push(
      `Reading the partitions' bounds (\`partition_bounds\`, ${fmt(bounds.calls / n, 0)} calls a table, each parsing \`pg_get_expr\` text through \`key_value\` for every partition) ` +
        `takes ${fmt(bounds.ms_per_table, 2)} ms a table` +
        (callers.length
          ? `, and the ${callers.length} queries built on it (which periods to make, the horizon, gaps, expiry) ${fmt(
              callers.reduce((x, st) => x + st.ms_per_table, 0),
              2,
            )} ms with it.`
          : '.'),
    );
  }
  const helpers = profile.filter((f) => !/^maintain_(table|all)$/.test(f.function)).slice(0, 3);
  if (helpers.length) {
    out.push(
      `Among the helpers: ${helpers.map((f) => `\`${f.function}\` ${fmt(f.calls / n, 0)} call(s) a table, ${fmt(f.self_ms_per_table, 2)} ms`).join('; ')}.`,
    );
  }
  out.push(
    'What would close it: one query over the catalog for all tables that reads every bound once (from `relpartbound`, without parsing text) and settles "nothing to do" ' +
      '(horizon covered, no gap, DEFAULT partition empty, nothing expired) before any per-table work; the per-table run only for the tables that need it; and no `last_run` write when nothing changed.',
  );
  return out.join(' ');
}
