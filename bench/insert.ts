// 1. Insert path: single-row and 1000-row batch inserts through pgbench into a partkeeper-managed
// table, an identical bare partitioned table with the same partitions, and a table with the
// original design's per-row trigger. Contenders alternate within every round.
import {
  dropDatabase,
  fmt,
  fmtInt,
  freshDatabase,
  handPartitions,
  livechatShape,
  median,
  monthStart,
  pgbench,
  ratio,
  rotation,
  section,
  timed,
  type Ctx,
  type Section,
} from './lib.ts';

// The original design: a BEFORE INSERT row trigger on the table that looks the month's partition
// up in pg_tables and creates it when missing. On PostgreSQL 15 it is cloned onto every partition
// and runs after routing, so the lookup is paid per row and the creation can never happen.
const ORIGINAL_TRIGGER = `
create function bench_original_ensure_partition() returns trigger language plpgsql as $$
declare
    v_start timestamptz := date_trunc('month', NEW.created_at);
    v_name text := TG_ARGV[0] || '_' || to_char(NEW.created_at, 'YYYY_MM');
begin
    if not exists (select 1 from pg_tables where tablename = v_name) then
        execute format('create table %I partition of %I for values from (%L) to (%L)',
                       v_name, TG_ARGV[0], v_start, v_start + interval '1 month');
    end if;
    return NEW;
end
$$;`;

const CONTENDERS = [
  { id: 'partkeeper', table: 'ins_pk', label: 'partkeeper-managed' },
  { id: 'bare', table: 'ins_bare', label: 'bare partitioned (same partitions)' },
  { id: 'bare_control', table: 'ins_bare2', label: 'bare again (A/A control: the noise)' },
  { id: 'original', table: 'ins_orig', label: "original design's per-row trigger" },
] as const;

const LIVE = 'now()';
// rows of a month without a partition: they land in the DEFAULT partition
const LATE = "timestamptz '2099-01-01' + random() * interval '300 days'";

const MODES = [
  {
    id: 'single',
    label: 'single-row INSERT',
    into: 'partition',
    rowsPerTx: 1,
    script: (t: string, at = LIVE) => `\\set room random(1, 10000)
\\set sender random(1, 100000)
insert into ${t} (room_id, sender_id, body, created_at) values (:room, :sender, 'a chat message of ordinary length, sent by the benchmark', ${at});
`,
  },
  {
    id: 'batch',
    label: '1000-row INSERT ... SELECT',
    into: 'partition',
    rowsPerTx: 1000,
    script: (t: string, at = LIVE) => `insert into ${t} (room_id, sender_id, body, created_at)
select 1 + (random() * 9999)::int, 1 + (random() * 99999)::int, 'a chat message of ordinary length, sent by the benchmark', ${at}
  from generate_series(1, 1000);
`,
  },
] as const;

/** The same inserts, dated in months without a partition: every row goes to the DEFAULT partition. */
const DEFAULT_MODES = MODES.map((m) => ({
  ...m,
  id: `default_${m.id}`,
  label: `${m.label} into the DEFAULT partition`,
  into: 'default' as const,
  script: (t: string) => m.script(t, LATE),
}));

export async function insertPath(ctx: Ctx): Promise<Section> {
  const s = section('insert', '1. Insert path');
  // Many short runs: on a shared machine, more pairs make the median ratio steadier than longer runs do.
  const rounds = ctx.smoke ? 1 : 8;
  const seconds = ctx.smoke ? 1 : 2;
  const clients = 4;
  const { db, name } = await freshDatabase(ctx, 'bench_insert');
  try {
    // partkeeper makes the current month and the next two, plus DEFAULT with its trigger; the others
    // get exactly those partitions by hand (DEFAULT included, no trigger on it).
    await db.exec(livechatShape('ins_pk'));
    await db.query(`select partkeeper.register_table('ins_pk')`);
    await db.query(`select partkeeper.maintain_table('ins_pk')`);
    for (const t of ['ins_bare', 'ins_bare2', 'ins_orig']) await db.exec(livechatShape(t) + handPartitions(t, 0, 2));
    await db.exec(ORIGINAL_TRIGGER);
    await db.exec(
      `create trigger ensure_partition_exists before insert on ins_orig for each row execute function bench_original_ensure_partition('ins_orig')`,
    );
    const parts = await db.query<{ t: string; n: string }>(
      `select i.inhparent::regclass::text as t, string_agg(pg_get_expr(c.relpartbound, c.oid), '; ' order by c.relname) as n
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent::regclass::text in ('ins_pk', 'ins_bare', 'ins_bare2', 'ins_orig') group by 1`,
    );
    if (new Set(parts.map((p) => p.n)).size !== 1 || parts.length !== 4)
      throw new Error(`the contenders' partitions differ: ${JSON.stringify(parts)}`);

    const samples: Record<string, Record<string, number[]>> = {};
    // the original design's trigger cannot take a row of a month without a partition: it fails
    const contendersFor = (into: string) => CONTENDERS.filter((c) => into === 'partition' || c.id !== 'original');
    for (let round = 0; round < rounds; round++) {
      for (const mode of [...MODES, ...DEFAULT_MODES]) {
        for (const c of rotation([...contendersFor(mode.into)], round + (mode.id.endsWith('batch') ? 1 : 0))) {
          await db.exec(`truncate ${c.table}`);
          const r = await pgbench(ctx, {
            database: name,
            tag: `insert_${mode.id}_${c.id}`,
            script: mode.script(c.table),
            clients,
            seconds,
            mode: 'prepared',
          });
          if (r.failed > 0) throw new Error(`${r.failed} failed transactions inserting into ${c.table}`);
          ((samples[mode.id] ??= {})[c.id] ??= []).push(r.tps * mode.rowsPerTx);
          ctx.log(`  insert ${mode.id} ${c.id} round ${round + 1}: ${fmtInt(r.tps * mode.rowsPerTx)} rows/s`);
        }
      }
    }
    // The last runs went to the DEFAULT partition: that is where the rows are.
    const stray = await db.one<{ n: string }>(`select count(*) as n from only ins_pk_default where created_at < '2099-01-01'`);
    if (stray.n !== '0') throw new Error(`rows of this month reached the DEFAULT partition: ${stray.n}`);

    // One bulk INSERT ... SELECT of many rows into the DEFAULT partition, timed as a statement.
    const bulkRows = ctx.smoke ? 20_000 : 1_000_000;
    const bulk: Record<string, number[]> = {};
    for (let round = 0; round < (ctx.smoke ? 1 : 3); round++) {
      for (const c of rotation([...contendersFor('default')], round)) {
        await db.exec(`truncate ${c.table}; checkpoint`);
        const { ms } = await timed(() =>
          db.exec(`insert into ${c.table} (room_id, sender_id, body, created_at)
          select 1 + g % 10000, 1 + g % 100000, 'a chat message of ordinary length, sent by the benchmark', timestamptz '2099-01-01' + g * interval '1 second'
            from generate_series(1, ${bulkRows}) g`),
        );
        (bulk[c.id] ??= []).push(ms);
        ctx.log(`  insert bulk ${fmtInt(bulkRows)} rows into DEFAULT ${c.id} round ${round + 1}: ${fmt(ms, 0)} ms`);
      }
    }
    const landed = await db.one<{ n: number }>(`select count(*)::int as n from only ins_pk_default`);
    if (landed.n !== bulkRows) throw new Error(`the bulk insert left ${landed.n} rows in the DEFAULT partition, expected ${bulkRows}`);

    s.method.push(
      `pgbench, ${clients} clients, 2 threads, \`-M prepared\`, ${seconds} s per run, ${rounds} round(s). In each round every contender runs once, ` +
        'in an order rotated from round to round; the table is truncated before each run. Rows are dated `now()`, so they go to the current month, which every contender has.',
      'Contenders, all with the `livechat_messages` shape (identity id, room, sender, body, created_at; primary key (id, created_at) and index (room_id, created_at desc)) ' +
        `and the same partitions: the current month and the next two (from ${monthStart(0).slice(0, 10)}), plus a DEFAULT partition. ` +
        '**partkeeper**: registered and maintained (partitions and DEFAULT made by partkeeper; no trigger anywhere). **bare**: partitions made by hand, a plain DEFAULT. ' +
        '**bare again**: a second identical bare table, an A/A control that shows how much two identical tables differ on this machine. ' +
        "**original trigger**: the original design's BEFORE INSERT row trigger (looks the month's partition up in `pg_tables`, would create it when missing), cloned by PostgreSQL onto every partition.",
      'Throughput is rows per second (single: transactions/s; batch: 1000 × transactions/s), the median over rounds. ' +
        'The ratio to bare is the median of the per-round ratios (each round pairs runs made seconds apart), with the lowest and highest per-round ratio.',
      'The same two loads dated in months without a partition (2099) measure the path of a row that lands in the DEFAULT partition: ' +
        "a month boundary passed without premake, late data, a backfill. The original design's trigger is left out there: it fails such rows. " +
        `Then one \`INSERT ... SELECT\` of ${fmtInt(bulkRows)} rows into the DEFAULT partition, timed as a statement, ${ctx.smoke ? 1 : 3} round(s), the table truncated and a CHECKPOINT before each.`,
    );
    const table = {
      head: ['insert', 'contender', 'rows/s (median)', 'ratio to bare (median)', 'per-round ratio range'],
      rows: [] as string[][],
    };
    const ratios: Record<string, Record<string, number>> = {};
    for (const mode of [...MODES, ...DEFAULT_MODES]) {
      const bare = samples[mode.id]!.bare!;
      for (const c of contendersFor(mode.into)) {
        const xs = samples[mode.id]![c.id]!;
        const perRound = xs.map((x, i) => ratio(x, bare[i]!));
        const r = median(perRound);
        (ratios[mode.id] ??= {})[c.id] = r;
        table.rows.push([
          mode.label,
          c.label,
          fmtInt(median(xs)),
          c.id === 'bare' ? '1' : fmt(r, 3),
          c.id === 'bare' ? '' : `${fmt(Math.min(...perRound), 3)} – ${fmt(Math.max(...perRound), 3)}`,
        ]);
      }
    }
    s.tables.push(table);
    const bulkTable = {
      head: ['contender', `${fmtInt(bulkRows)}-row INSERT ... SELECT into DEFAULT (ms, median)`, 'time ÷ bare'],
      rows: [] as string[][],
    };
    for (const c of contendersFor('default')) {
      bulkTable.rows.push([c.label, fmt(median(bulk[c.id]!), 0), fmt(ratio(median(bulk[c.id]!), median(bulk.bare!)), 3)]);
    }
    s.tables.push(bulkTable);
    for (const mode of [...MODES, ...DEFAULT_MODES]) {
      const control = ratios[mode.id]!.bare_control!;
      if (Math.abs(1 - control) > 0.03) {
        s.notes.push(
          `${mode.label}: the A/A control, a second bare table identical to the first, came out at ${fmt(control, 3)} of it, so differences of that size are this machine's noise, not the tables'. ` +
            'Judge the partkeeper ratio against it.',
        );
      }
    }
    for (const mode of MODES) {
      const r = ratios[mode.id]!.partkeeper!;
      const bare = samples[mode.id]!.bare!;
      const control = samples[mode.id]!.bare_control!.map((x, i) => ratio(x, bare[i]!));
      const lo = Math.min(...control);
      const hi = Math.max(...control);
      s.targets.push({
        name: `insert throughput, ${mode.label}`,
        goal: '≥ 0.97 of the bare table',
        measured: `${fmt(r, 3)} (A/A control: ${fmt(ratios[mode.id]!.bare_control!, 3)})`,
        met: r >= 0.97,
        ...(r < 0.97 && {
          note:
            `missed by ${fmt((0.97 - r) * 100, 1)} points. partkeeper adds nothing to the path of a row: no trigger, no rule, the same partitions. ` +
            (r >= lo && r <= hi
              ? `The ratio lies within the range the A/A control's per-round ratios spanned in this run (${fmt(lo, 3)} – ${fmt(hi, 3)}, two identical bare tables), so it is this machine's noise; more rounds on a quiet machine would settle it.`
              : `The ratio lies outside the range the A/A control's per-round ratios spanned (${fmt(lo, 3)} – ${fmt(hi, 3)}), so compare the two tables (\`\\d+\`) before putting it down to noise.`),
        }),
      });
    }
    for (const mode of DEFAULT_MODES) {
      const r = ratios[mode.id]!.partkeeper!;
      s.targets.push({
        name: `rows into the DEFAULT partition, ${mode.label.replace(' into the DEFAULT partition', '')}`,
        goal: 'cost ≤ 1.3 × a bare DEFAULT partition (throughput ≥ 0.77 of it)',
        measured: `${fmt(1 / r, 3)} × (throughput ${fmt(r, 3)} of bare; A/A control ${fmt(ratios[mode.id]!.bare_control!, 3)})`,
        met: 1 / r <= 1.3,
      });
    }
    const bulkRatio = ratio(median(bulk.partkeeper!), median(bulk.bare!));
    s.targets.push({
      name: `${fmtInt(bulkRows)}-row INSERT ... SELECT into the DEFAULT partition`,
      goal: '≤ 1.5 × a bare DEFAULT partition',
      measured: `${fmt(bulkRatio, 3)} × (A/A control ${fmt(ratio(median(bulk.bare_control!), median(bulk.bare!)), 3)} ×)`,
      met: bulkRatio <= 1.5,
    });
    s.data = { rounds, seconds, clients, rowsPerSecond: samples, ratioToBare: ratios, bulkRows, bulkMs: bulk };
    return s;
  } finally {
    await db.close();
    await dropDatabase(ctx, name);
  }
}
