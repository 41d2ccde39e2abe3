// 5. The promised benefits of monthly partitioning, partitioned against unpartitioned at 10 million
// messages: the latest 50 messages of a room, one room's day, dropping a month against deleting
// it, VACUUM of the current month against the whole table.
import { livechatTableDdl } from '../harness/original.ts';
import {
  connect,
  dropDatabase,
  fmt,
  fmtInt,
  freshDatabase,
  handPartitions,
  median,
  monthStart,
  monthSuffix,
  pgbench,
  ratio,
  rotation,
  section,
  timed,
  type Ctx,
  type Section,
} from './lib.ts';

const MONTHS = 12; // this month and the 11 before it

const columns = (table: string, partitioned: boolean) => `${livechatTableDdl(table, { partitioned, primaryKey: null })};`;

export async function benefits(ctx: Ctx): Promise<Section> {
  const s = section('benefits', '5. The promised benefits: partitioned against unpartitioned');
  const rows = ctx.smoke ? 20_000 : 10_000_000;
  const rooms = ctx.smoke ? 100 : 10_000;
  const rounds = ctx.smoke ? 1 : 3;
  const seconds = ctx.smoke ? 1 : 4;
  const first = monthStart(-(MONTHS - 1));
  // Messages evenly spread from the first month's start to now: the current month is partly filled.
  const end = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString().replace('T', ' ').replace('.000Z', '+00');
  const { db, url, name } = await freshDatabase(ctx, 'bench_benefits');
  const db2 = await connect(url);
  try {
    // ---- load: the same rows into both, unindexed, then the indexes, then VACUUM ANALYZE
    await db.exec(columns('msg_part', true) + handPartitions('msg_part', -(MONTHS - 1), 2, false));
    await db.query(`select partkeeper.register_table('msg_part')`);
    await db.exec(columns('msg_plain', false));
    const fill = (t: string) => `insert into ${t} (id, room_id, sender_id, body, created_at) overriding system value
      select g, 1 + (g * 7919) % ${rooms}, 1 + (g * 104729) % 100000, 'message ' || g || ' ' || md5(g::text),
             timestamptz '${first}' + (timestamptz '${end}' - timestamptz '${first}') * ((g - 1)::float8 / ${rows})
        from generate_series(1::bigint, ${rows}) g`;
    const load = await timed(() => Promise.all([db.exec(fill('msg_part')), db2.exec(fill('msg_plain'))]));
    ctx.log(`  benefits: loaded 2 × ${fmtInt(rows)} rows in ${fmt(load.ms / 1000, 1)} s`);
    const idx = await timed(() =>
      Promise.all([
        db.exec(
          `alter table msg_part add primary key (id, created_at); create index msg_part_room_recent_idx on msg_part (room_id, created_at desc)`,
        ),
        db2.exec(
          `alter table msg_plain add primary key (id); create index msg_plain_room_recent_idx on msg_plain (room_id, created_at desc)`,
        ),
      ]),
    );
    await Promise.all([db.exec('vacuum analyze msg_part'), db2.exec('vacuum analyze msg_plain')]);
    await db.exec('checkpoint');
    ctx.log(`  benefits: indexed in ${fmt(idx.ms / 1000, 1)} s`);
    const sizes = await db.one<{ part: string; plain: string; current: string; inDefault: number }>(
      `select pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) as part, pg_size_pretty(pg_total_relation_size('msg_plain')) as plain,
              (select count(*)::text from msg_part_${monthSuffix(0)}) as current, (select count(*)::int from msg_part_default) as "inDefault"
         from pg_inherits i where i.inhparent = 'msg_part'::regclass`,
    );
    if (sizes.inDefault !== 0) throw new Error(`${sizes.inDefault} rows in msg_part_default`);

    // ---- queries: pgbench, contenders alternating
    const queries = [
      {
        id: 'latest50',
        label: 'latest 50 messages of a room',
        sql: (t: string) => `select id, sender_id, body, created_at from ${t} where room_id = :room order by created_at desc limit 50;`,
      },
      {
        id: 'latest50_month',
        label: 'latest 50 messages of a room, last 30 days only',
        sql: (t: string) =>
          `select id, sender_id, body, created_at from ${t} where room_id = :room and created_at > now() - interval '30 days' order by created_at desc limit 50;`,
      },
      {
        id: 'room_day',
        label: "one room's day",
        sql: (t: string) =>
          `select id, sender_id, body, created_at from ${t} where room_id = :room and created_at >= timestamptz '${first}' + :day * interval '1 day' and created_at < timestamptz '${first}' + (:day + 1) * interval '1 day' order by created_at;`,
      },
    ];
    const days =
      Math.floor(
        (Date.parse(end.replace(' ', 'T').replace('+00', 'Z')) - Date.parse(first.replace(' ', 'T').replace('+00', 'Z'))) / 86_400_000,
      ) - 1;
    const q: Record<string, Record<string, number[]>> = {};
    for (let round = 0; round < rounds; round++) {
      for (const query of queries) {
        for (const t of rotation(['msg_part', 'msg_plain'], round)) {
          const r = await pgbench(ctx, {
            database: name,
            tag: `benefits_${query.id}_${t}`,
            clients: 2,
            seconds,
            mode: 'prepared',
            script: `\\set room random(1, ${rooms})\n\\set day random(0, ${days})\n${query.sql(t)}\n`,
          });
          ((q[query.id] ??= {})[t] ??= []).push(r.latencyAvgMs);
        }
      }
    }

    // ---- VACUUM: the same 1% of the current month's rows updated in both, then VACUUM of the current month's partition against the whole table
    const vac: Record<string, number[]> = { msg_part: [], msg_plain: [] };
    for (let round = 0; round < rounds; round++) {
      for (const t of ['msg_part', 'msg_plain']) {
        await db.exec(`update ${t} set body = body || ' (edited)' where created_at >= '${monthStart(0)}' and id % 100 = ${round}`);
      }
      await db.exec('checkpoint');
      for (const t of rotation(['msg_part', 'msg_plain'], round)) {
        const target = t === 'msg_part' ? `msg_part_${monthSuffix(0)}` : 'msg_plain';
        vac[t]!.push((await timed(() => db.exec(`vacuum ${target}`))).ms);
      }
    }

    // ---- retiring a month: DETACH + DROP of the oldest partition against DELETE of the same month (then the VACUUM that DELETE leaves behind)
    const retire: Record<string, number[]> = { msg_part: [], msg_plain: [], vacuumAfterDelete: [] };
    const retireRounds = ctx.smoke ? 1 : 2;
    let deleted = 0;
    for (let round = 0; round < retireRounds; round++) {
      const m = -(MONTHS - 1) + round;
      await db.exec('checkpoint');
      for (const t of rotation(['msg_part', 'msg_plain'], round)) {
        if (t === 'msg_part') {
          retire.msg_part!.push(
            (
              await timed(() =>
                db.exec(`alter table msg_part detach partition msg_part_${monthSuffix(m)}; drop table msg_part_${monthSuffix(m)}`),
              )
            ).ms,
          );
        } else {
          const { ms, value } = await timed(() =>
            db.query<{ n: number }>(
              `with d as (delete from msg_plain where created_at >= '${monthStart(m)}' and created_at < '${monthStart(m + 1)}' returning 1) select count(*)::int as n from d`,
            ),
          );
          deleted += value[0]!.n;
          retire.msg_plain!.push(ms);
        }
      }
      retire.vacuumAfterDelete!.push((await timed(() => db.exec('vacuum msg_plain'))).ms);
    }

    s.method.push(
      `${fmtInt(rows)} messages in each of two tables with the same rows: **partitioned**, managed by partkeeper (${MONTHS} monthly partitions from ${first.slice(0, 7)} to this month, the next two, and DEFAULT; ` +
        'primary key (id, created_at), index (room_id, created_at desc)), and **unpartitioned** (primary key (id), index (room_id, created_at desc)). ' +
        `Rows are spread evenly in time from ${first.slice(0, 16)} to ${end.slice(0, 16)} UTC over ${fmtInt(rooms)} rooms; built with one \`INSERT ... SELECT generate_series\` each, ` +
        `then indexed and VACUUM ANALYZEd (${fmt(load.ms / 1000, 0)} s to load, ${fmt(idx.ms / 1000, 0)} s to index, both tables at once). ` +
        `Sizes with indexes: partitioned ${sizes.part}, unpartitioned ${sizes.plain}; ${fmtInt(Number(sizes.current))} rows in the current month.`,
      `Queries: pgbench, 2 clients, \`-M prepared\`, ${seconds} s per run, a random room (and day) per query, ${rounds} round(s) with the two tables alternating; the figure is the median over rounds of the mean latency. ` +
        `VACUUM: in each of ${rounds} round(s) the same 1% of the current month's rows is updated in both tables, then \`VACUUM\` of the current month's partition is timed against \`VACUUM\` of the unpartitioned table (the work autovacuum would do after that churn). ` +
        `Retiring a month: \`ALTER TABLE ... DETACH PARTITION\` + \`DROP TABLE\` of the oldest month against \`DELETE\` of the same month's rows (${fmtInt(deleted / retireRounds)} rows) from the unpartitioned table, ` +
        `${retireRounds} month(s), and the VACUUM the unpartitioned table then needs to reclaim them. Autovacuum is off for the whole benchmark, so each VACUUM is the one timed.`,
    );
    const t = {
      head: ['operation', 'partitioned', 'unpartitioned', 'unpartitioned ÷ partitioned (> 1: partitioned faster)'],
      rows: [] as string[][],
    };
    for (const query of queries) {
      const a = median(q[query.id]!.msg_part!);
      const b = median(q[query.id]!.msg_plain!);
      t.rows.push([`${query.label} (mean latency, ms)`, fmt(a, 3), fmt(b, 3), fmt(ratio(b, a), 2)]);
    }
    const va = median(vac.msg_part!);
    const vb = median(vac.msg_plain!);
    t.rows.push([
      'VACUUM after 1% of the current month changed (ms): the current month against the whole table',
      fmt(va, 0),
      fmt(vb, 0),
      fmt(ratio(vb, va), 1),
    ]);
    const ra = median(retire.msg_part!);
    const rb = median(retire.msg_plain!);
    t.rows.push(['retire a month (ms): DETACH + DROP against DELETE', fmt(ra, 1), fmt(rb, 0), fmt(ratio(rb, ra), 0)]);
    const rv = median(retire.vacuumAfterDelete!);
    t.rows.push(['… and the VACUUM the DELETE leaves behind (ms)', '0', fmt(rv, 0), '']);
    s.tables.push(t);
    const latest = ratio(median(q.latest50!.msg_plain!), median(q.latest50!.msg_part!));
    if (latest < 1) {
      s.notes.push(
        `The latest 50 messages of a room with no time bound are ${fmt(1 / latest, 2)} × slower partitioned: PostgreSQL reads the newest rows of that room from every partition's index ` +
          '(a Merge Append over all months) before the LIMIT applies. Bounding the query in time (the "last 30 days" row) lets it skip the other months at execution start; ' +
          'an application that pages back through history should bound each page by created_at.',
      );
    }
    s.data = {
      rows,
      rooms,
      seconds,
      rounds,
      first,
      end,
      sizes,
      loadMs: load.ms,
      indexMs: idx.ms,
      queryMeanLatencyMs: q,
      vacuumMs: vac,
      retireMs: retire,
      deletedPerMonth: deleted / retireRounds,
    };
    return s;
  } finally {
    await db2.close();
    await db.close();
    await dropDatabase(ctx, name);
  }
}
