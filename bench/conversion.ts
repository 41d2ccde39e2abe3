// 8. Converting a plain table: the README's recipe (rename, install, copy the rows in, maintain),
// each step timed, on a plain livechat_messages with rows over two years.
import { livechatTableDdl } from '../harness/original.ts';
import { applyBundle } from '../src/bundle.ts';
import { isMaintenanceRun, maintenanceResultSchema, parseContract } from '../src/contracts.ts';
import { dropDatabase, emptyDatabase, fmt, fmtInt, section, timed, type Ctx, type Section } from './lib.ts';

export async function conversion(ctx: Ctx): Promise<Section> {
  const s = section('conversion', '8. Converting a plain table (the README recipe)');
  const rows = ctx.smoke ? 3_000 : 300_000;
  const { db, name } = await emptyDatabase(ctx, 'bench_conversion');
  try {
    await db.exec(`${livechatTableDdl('livechat_messages', { partitioned: false })};
      insert into livechat_messages (room_id, sender_id, body, created_at)
      select 1 + g % 1000, 1 + g % 5000, 'message ' || g, now() - interval '730 days' * (g::float8 / ${rows}) from generate_series(1, ${rows}) g`);
    await db.exec('vacuum analyze livechat_messages');
    const steps: { step: string; ms: number }[] = [];
    const step = async (label: string, fn: () => Promise<unknown>) => {
      const { ms } = await timed(fn);
      steps.push({ step: label, ms });
      ctx.log(`  conversion ${label}: ${fmt(ms, 0)} ms`);
    };
    await step('ALTER TABLE livechat_messages RENAME TO livechat_messages_plain', () =>
      db.exec('alter table livechat_messages rename to livechat_messages_plain'),
    );
    await step('install (creates the partitioned livechat_messages)', () => applyBundle(db, ctx.root));
    await step('INSERT ... OVERRIDING SYSTEM VALUE SELECT ... FROM livechat_messages_plain', () =>
      db.exec(
        'insert into livechat_messages overriding system value select id, room_id, sender_id, body, created_at from livechat_messages_plain',
      ),
    );
    await step('setval of the identity', () =>
      db.exec(`select setval(pg_get_serial_sequence('livechat_messages', 'id'), (select max(id) from livechat_messages))`),
    );
    await step('configure (drain window 10 years, 200 partitions a run)', () =>
      db.query(`select partkeeper.configure('livechat_messages', p_drain_window_back => '10 years', p_max_create_per_run => 200)`),
    );
    let runs = 0;
    await step('maintenance until complete (moves the rows from DEFAULT into their months)', async () => {
      for (; runs < 20; runs++) {
        const { r } = await db.one<{ r: unknown }>(`select maintain_livechat_partitions() as r`);
        const run = parseContract(maintenanceResultSchema, r, 'maintain_livechat_partitions()');
        if (run.complete && isMaintenanceRun(run) && run.created.length === 0) break;
      }
    });
    const check = await db.one<{ n: number; left: number; parts: number }>(
      `select (select count(*)::int from livechat_messages) as n, (select count(*)::int from only livechat_messages_default) as left,
              (select count(*)::int from partkeeper.partition_bounds('livechat_messages') where not is_default) as parts`,
    );
    if (check.n !== rows || check.left !== 0)
      throw new Error(`conversion: ${check.n} rows, ${check.left} left in DEFAULT, expected ${rows} and 0`);
    const total = steps.reduce((x, st) => x + st.ms, 0);
    s.method.push(
      `A plain \`livechat_messages\` (identity primary key) with ${fmtInt(rows)} rows dated evenly over the last two years, converted by the steps of the README's ` +
        '"Converting a plain table", each timed at the client, in one database with nothing else in it. The table is unavailable under its name from the rename to the end of the copy.',
    );
    s.tables.push({
      head: ['step', 'ms'],
      rows: [...steps.map((st) => [st.step, fmt(st.ms, 0)]), ['total', fmt(total, 0)]],
    });
    s.notes.push(
      `${fmtInt(rows)} rows converted into ${check.parts} monthly partitions in ${fmt(total / 1000, 1)} s (${fmtInt(rows / (total / 1000))} rows/s over the whole recipe), ` +
        `${runs + 1} maintenance run(s); nothing left in the DEFAULT partition.`,
    );
    s.data = { rows, steps, partitions: check.parts, maintenanceRuns: runs + 1 };
    return s;
  } finally {
    await db.close();
    await dropDatabase(ctx, name);
  }
}
