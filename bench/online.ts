// 9. Online conversion: a plain table converted into a managed partitioned one by the convert_*
// steps, with the fill's throughput against the floor (one INSERT ... SELECT of the same rows into
// the same twin), and the longest write of concurrent writers while the swap runs.
import { livechatTableDdl } from '../harness/original.ts';
import type { Db } from '../src/db.ts';
import { connect, dropDatabase, freshDatabase, fmt, fmtInt, ratio, section, sleep, timed, type Ctx, type Section } from './lib.ts';

/** Writers that insert, update and delete one row at a time until stopped; every statement's start and duration. */
function writers(url: string, n: number) {
  let stop = false;
  const samples: { at: number; ms: number }[] = [];
  let failed = 0;
  const run = async () => {
    const c: Db = await connect(url, 'partkeeper-bench-writer');
    try {
      for (let i = 0; !stop; i++) {
        const at = performance.now();
        try {
          if (i % 3 === 0)
            await c.query(
              `insert into messages (room_id, sender_id, body, created_at) values (1, 1, 'w', now() - random() * interval '700 days')`,
            );
          else if (i % 3 === 1)
            await c.query(
              `update messages set body = body || '+' where id = (select floor(random() * (select last_value from messages_id_seq))::bigint + 1)`,
            );
          else
            await c.query(
              `delete from messages where id = (select floor(random() * (select last_value from messages_id_seq))::bigint + 1)`,
            );
        } catch {
          failed++;
        }
        samples.push({ at, ms: performance.now() - at });
      }
    } finally {
      await c.close();
    }
  };
  const all = Array.from({ length: n }, run);
  return {
    samples,
    failed: () => failed,
    async stop() {
      stop = true;
      await Promise.all(all);
    },
  };
}

export async function online(ctx: Ctx): Promise<Section> {
  const s = section('online', '9. Online conversion (partkeeper convert)');
  const rows = ctx.smoke ? 20_000 : 5_000_000;
  const batch = 10_000;
  const { db, url, name } = await freshDatabase(ctx, 'bench_online');
  try {
    await db.exec(`${livechatTableDdl('messages', { partitioned: false })};
      create index messages_room_created_idx on messages (room_id, created_at desc);
      insert into messages (room_id, sender_id, body, created_at)
      select 1 + g % 1000, 1 + g % 5000, 'message ' || g, now() - interval '730 days' * (g::float8 / ${rows}) from generate_series(1, ${rows}) g`);
    await db.exec('vacuum analyze messages');
    const prepare = await timed(() => db.query(`select partkeeper.convert_prepare('messages', 'created_at')`));
    ctx.log(`  online prepare: ${fmt(prepare.ms, 0)} ms`);
    // the floor: the same rows into the same twin (partitions, indexes), one statement, nothing else running
    const floor = await timed(() => db.exec('insert into messages_twin overriding system value select * from messages'));
    ctx.log(`  online floor INSERT ... SELECT: ${fmt(floor.ms, 0)} ms`);
    await db.exec('truncate messages_twin');
    await db.exec('vacuum analyze messages_twin');
    await db.query(`select partkeeper.convert_capture('messages')`);
    const fill = await timed(() => db.query(`call partkeeper.convert_fill('messages', ${batch}, '0', null, null)`));
    ctx.log(`  online fill: ${fmt(fill.ms, 0)} ms`);
    const copied = Number((await db.one<{ n: string }>('select count(*) as n from messages_twin')).n);
    if (copied !== rows) throw new Error(`online: fill copied ${copied} rows, expected ${rows}`);

    const lockTimeout = 500;
    const w = writers(url, 4);
    await sleep(ctx.smoke ? 300 : 2000);
    const verify = await timed(() => db.one<{ r: { equal: boolean } }>(`select partkeeper.convert_verify('messages') as r`));
    if (!verify.value.r.equal) throw new Error('online: verify found differences under writers');
    const swapAt = performance.now();
    const swap = await timed(() => db.query(`select partkeeper.convert_swap('messages')`));
    const swapEnd = performance.now();
    await sleep(ctx.smoke ? 300 : 2000);
    await w.stop();
    const atSwap = w.samples.filter((x) => x.at + x.ms >= swapAt && x.at <= swapEnd);
    const longest = Math.max(0, ...atSwap.map((x) => x.ms));
    const overall = Math.max(0, ...w.samples.map((x) => x.ms));
    if (w.failed() > 0) throw new Error(`online: ${w.failed()} writer statements failed`);
    const diff = await db.one<{ n: string }>(
      `select (select count(*) from (table messages except all table messages_retired) a) + (select count(*) from (table messages_retired except all table messages) b) as n`,
    );
    if (Number(diff.n) !== 0) throw new Error(`online: the converted table and the retired one differ by ${diff.n} rows`);

    const floorRate = rows / (floor.ms / 1000);
    const fillRate = rows / (fill.ms / 1000);
    s.method.push(
      `A plain \`messages\` table shaped like livechat_messages (identity primary key, the room index) with ${fmtInt(rows)} rows over two years. ` +
        '`convert_prepare` makes the partitioned twin with its 25 months and premake; the floor is one `INSERT ... SELECT` of every row into that twin ' +
        `(then truncated), the same target, partitions and indexes; fill is \`CALL partkeeper.convert_fill('messages', ${fmtInt(batch)})\`: batches in primary key order, ` +
        'rows locked FOR SHARE, a commit per batch, the state recorded with each. Then 4 writers insert, update and delete single rows throughout ' +
        `verify and swap (lock_timeout ${lockTimeout} ms); the longest of their statements that overlapped the swap is reported. ` +
        'Afterwards the converted table and the retired one (kept in step by the reverse capture) are compared row by row.',
    );
    s.tables.push({
      head: ['measurement', 'value'],
      rows: [
        ['prepare (twin, partitions, register)', `${fmt(prepare.ms, 0)} ms`],
        ['floor: one INSERT ... SELECT into the twin', `${fmt(floor.ms / 1000, 1)} s (${fmtInt(floorRate)} rows/s)`],
        [`fill, batches of ${fmtInt(batch)}`, `${fmt(fill.ms / 1000, 1)} s (${fmtInt(fillRate)} rows/s)`],
        ['fill throughput / floor', fmt(ratio(fillRate, floorRate))],
        ['verify under writers', `${fmt(verify.ms / 1000, 1)} s`],
        ['swap', `${fmt(swap.ms, 0)} ms`],
        ['longest writer statement overlapping the swap', `${fmt(longest, 0)} ms`],
        ['longest writer statement overall', `${fmt(overall, 0)} ms`],
        ['writer statements / failed', `${fmtInt(w.samples.length)} / ${w.failed()}`],
      ],
    });
    s.targets.push({
      name: 'no writer waits longer than lock_timeout at the swap',
      goal: `≤ ${lockTimeout} ms`,
      measured: `${fmt(longest, 0)} ms`,
      met: longest <= lockTimeout,
    });
    s.notes.push(
      `Fill copied ${fmtInt(rows)} rows at ${fmt(ratio(fillRate, floorRate))} of the floor's speed; the swap took ${fmt(swap.ms, 0)} ms and no writer statement overlapping it took longer than ${fmt(longest, 0)} ms.`,
    );
    s.data = {
      rows,
      batch,
      prepareMs: prepare.ms,
      floorMs: floor.ms,
      fillMs: fill.ms,
      verifyMs: verify.ms,
      swapMs: swap.ms,
      longest,
      overall,
      writes: w.samples.length,
    };
    return s;
  } finally {
    await db.close();
    await dropDatabase(ctx, name);
  }
}
