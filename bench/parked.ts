// 7. Parked rows: rows kept in the DEFAULT partition because they lie outside the drain window
// (a bogus year, data older than the window) are scanned by every ATTACH. A writer inserting into an
// existing partition must not wait for that scan while maintenance premakes an empty month.
import type { Db } from '../src/db.ts';
import {
  connect,
  dropDatabase,
  fmt,
  fmtInt,
  freshDatabase,
  handPartitions,
  livechatShape,
  median,
  monthStart,
  rotation,
  section,
  sleep,
  timed,
  type Ctx,
  type Section,
} from './lib.ts';

type Contender = 'partkeeper' | 'share_attach';
const LABEL: Record<Contender, string> = {
  partkeeper: 'partkeeper (guard CHECK validated on the DEFAULT first, then SHARE for the ATTACH)',
  share_attach: 'SHARE lock, then ATTACH scanning the DEFAULT (partkeeper until this change, and the usual script)',
};
const LOCK_TIMEOUT_MS = 500;

/** A table with this month and the next two, and `parked` rows in its DEFAULT dated four years back. */
async function setUp(db: Db, parked: number): Promise<void> {
  await db.exec(`drop table if exists pk_parked cascade`);
  await db.exec(livechatShape('pk_parked') + handPartitions('pk_parked', 0, 2, false));
  await db.query(`select partkeeper.register_table('pk_parked')`);
  await db.query(`select partkeeper.configure('pk_parked', p_lock_timeout => '${LOCK_TIMEOUT_MS} milliseconds')`);
  await db.exec(`insert into pk_parked (room_id, sender_id, body, created_at)
    select 1 + g % 10000, 1, 'parked ' || g, timestamptz '${monthStart(-48)}' + g * interval '1 second' from generate_series(1, ${parked}) g`);
  await db.exec('vacuum analyze pk_parked');
}

/** Makes next-month-plus-3 empty, as the contender does, and returns how long that took. */
async function premake(db: Db, c: Contender): Promise<number> {
  if (c === 'partkeeper') {
    const { ms } = await timed(() => db.query(`select partkeeper.create_partition('pk_parked', $1::date)`, [monthStart(3).slice(0, 10)]));
    const made = await db.one<{ n: number }>(
      `select count(*)::int as n from partkeeper.partition_bounds('pk_parked') where not is_default`,
    );
    if (made.n !== 4) throw new Error(`partkeeper made no partition: ${made.n} partitions`);
    return ms;
  }
  const { ms } = await timed(() =>
    db.exec(`begin; set local lock_timeout = '${LOCK_TIMEOUT_MS}ms';
      lock table pk_parked in share mode;
      create table pk_parked_next (like pk_parked including defaults);
      alter table pk_parked attach partition pk_parked_next for values from ('${monthStart(3)}') to ('${monthStart(4)}');
      commit`),
  );
  return ms;
}

/** Worst single-row insert into this month's partition while the contender premakes. */
async function race(url: string, db: Db, c: Contender): Promise<{ worstMs: number; inserts: number; premakeMs: number }> {
  const writer = await connect(url);
  try {
    let stop = false;
    let worst = 0;
    let inserts = 0;
    const writing = (async () => {
      while (!stop) {
        const t = performance.now();
        await writer.query(`insert into pk_parked (room_id, sender_id, body, created_at) values (1, 1, 'live', now())`);
        worst = Math.max(worst, performance.now() - t);
        inserts++;
        await sleep(2);
      }
    })();
    await sleep(200);
    const premakeMs = await premake(db, c);
    await sleep(200);
    stop = true;
    await writing;
    return { worstMs: worst, inserts, premakeMs };
  } finally {
    await writer.close();
  }
}

export async function parked(ctx: Ctx): Promise<Section> {
  const s = section('parked', '7. Parked rows in the DEFAULT partition and writers');
  const sizes = ctx.smoke ? [0, 20_000] : [0, 1_000_000, 2_000_000];
  const rounds = ctx.smoke ? 1 : 3;
  const contenders: Contender[] = ['partkeeper', 'share_attach'];
  const { db, url, name } = await freshDatabase(ctx, 'bench_parked');
  try {
    const worst: Record<string, Record<Contender, number[]>> = {};
    const premakeMs: Record<string, Record<Contender, number[]>> = {};
    for (const n of sizes) {
      for (let round = 0; round < rounds; round++) {
        for (const c of rotation(contenders, round)) {
          await setUp(db, n);
          const r = await race(url, db, c);
          const left = await db.one<{ n: number }>(`select count(*)::int as n from only pk_parked_default`);
          if (left.n !== n) throw new Error(`${c}: ${left.n} rows in DEFAULT after the premake, expected the ${n} parked`);
          if (r.inserts < 10) throw new Error(`${c}: the writer made only ${r.inserts} inserts`);
          ((worst[String(n)] ??= {} as Record<Contender, number[]>)[c] ??= []).push(r.worstMs);
          ((premakeMs[String(n)] ??= {} as Record<Contender, number[]>)[c] ??= []).push(r.premakeMs);
          ctx.log(
            `  parked ${fmtInt(n)} rows, ${c} round ${round + 1}: worst insert ${fmt(r.worstMs, 1)} ms, premake ${fmt(r.premakeMs, 1)} ms (${r.inserts} inserts)`,
          );
        }
      }
    }
    s.method.push(
      `A table of the \`livechat_messages\` shape with this month and the next two, and N rows parked in its DEFAULT partition, dated four years back (outside the drain window), N = ${sizes.map(fmtInt).join(', ')}. ` +
        "A writer inserts one row at a time into the current month (its own partition), every 2 ms, and records each insert's time; meanwhile the empty partition for the month after the premade ones is made, once, by each contender. " +
        `Reported: the worst insert of the writer, the median over ${rounds} round(s), contenders alternating; and how long making the partition took. lock_timeout ${LOCK_TIMEOUT_MS} ms.`,
      `Contenders: ${contenders.map((c) => `**${c}**: ${LABEL[c]}`).join('; ')}.`,
    );
    const table = {
      head: ['parked rows', 'contender', 'worst insert (ms, median)', 'making the partition (ms, median)'],
      rows: [] as string[][],
    };
    for (const n of sizes) {
      for (const c of contenders)
        table.rows.push([fmtInt(n), c, fmt(median(worst[String(n)]![c]), 1), fmt(median(premakeMs[String(n)]![c]), 1)]);
    }
    s.tables.push(table);
    const big = String(sizes.at(-1));
    const pk = median(worst[big]!.partkeeper);
    const pk0 = median(worst[String(sizes[0])]!.partkeeper);
    s.targets.push({
      name: `worst insert into an existing partition while a partition is made, ${fmtInt(Number(big))} parked rows`,
      goal: `≤ lock_timeout (${LOCK_TIMEOUT_MS} ms), not growing with the parked rows`,
      measured: `${fmt(pk, 1)} ms (${fmt(pk0, 1)} ms with none parked; the SHARE-then-ATTACH way: ${fmt(median(worst[big]!.share_attach), 1)} ms)`,
      met: pk <= LOCK_TIMEOUT_MS && pk <= Math.max(pk0 * 3, pk0 + 20),
    });
    s.data = { sizes, rounds, lockTimeoutMs: LOCK_TIMEOUT_MS, worstInsertMs: worst, premakeMs };
    return s;
  } finally {
    await db.close();
    await dropDatabase(ctx, name);
  }
}
