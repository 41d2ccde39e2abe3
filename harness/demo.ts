// `npm run demo`: partkeeper on an embedded PGlite, across a simulated month boundary.
// Everything it shows is done by the SQL bundle; this file only sets the clock, inserts and prints.
import { isMaintenanceRun } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { setClock } from './clock.ts';
import { maintenanceResult } from './invariants.ts';
import { applyBundle } from '../src/bundle.ts';
import { baselineEngineOnly } from '../src/engine.ts';
import { openPglite } from '../src/pglite.ts';

const say = (line = '') => process.stdout.write(`${line}\n`);

async function partitions(db: Db): Promise<void> {
  const rows = await db.query<{ partition: string; lower: string | null; upper: string | null; rows: string }>(
    `select b.partition::text as partition, b.lower::text as lower, b.upper::text as upper,
            (select count(*) from livechat_messages m where m.tableoid = b.partition)::text as rows
       from partkeeper.partition_bounds('livechat_messages') b`,
  );
  for (const r of rows) {
    const range = r.lower ? `[${r.lower.slice(0, 10)}, ${r.upper!.slice(0, 10)})` : 'DEFAULT';
    say(`    ${r.partition.padEnd(28)} ${range.padEnd(26)} ${r.rows.padStart(3)} row(s)`);
  }
}

async function maintain(db: Db, at: string): Promise<void> {
  await setClock(db, at);
  const result = await maintenanceResult(db, 'select maintain_livechat_partitions() as r');
  say(`\nclock ${at}: SELECT maintain_livechat_partitions() -> status ${result.status}`);
  if (!isMaintenanceRun(result)) throw new Error(`maintenance did not run: ${JSON.stringify(result)}`);
  for (const c of result.created) say(`    created ${c.partition}${c.rows_moved ? `, moved ${c.rows_moved} row(s) in from DEFAULT` : ''}`);
  if (result.created.length === 0) say('    nothing to create');
  for (const l of result.left_in_default)
    say(`    left in DEFAULT: ${l.rows} row(s) of ${l.period?.slice(0, 7) ?? 'no period'} (${l.reason})`);
  say(`    partitions cover up to ${result.horizon?.slice(0, 10) ?? 'nothing at now'}`);
}

baselineEngineOnly();
const db = await openPglite();
try {
  const { version } = await db.one<{ version: string }>('select version()');
  say(`partkeeper demo on embedded ${version.split(' on ')[0]}`);
  await applyBundle(db);
  say(
    `installed partkeeper ${(await db.one<{ v: string }>('select partkeeper.version() as v')).v}: sql/install.sql, applied as psql would`,
  );

  await maintain(db, '2025-09-30 23:50:00+00');

  say('\ninsert 4 messages: two of today, one dated 2025-12-24 (no partition yet), one dated 2099-01-01 (a bogus clock)');
  await db.query(
    `insert into livechat_messages (room_id, sender_id, body, created_at)
     values (1, 7, 'see you tomorrow', $1), (1, 8, 'good night', $2), (2, 7, 'christmas plans', '2025-12-24 18:00+00'), (3, 9, 'from a broken phone', '2099-01-01 00:00+00')`,
    ['2025-09-30 23:51:00+00', '2025-09-30 23:52:00+00'],
  );
  say('    every insert succeeded; where the rows are:');
  await partitions(db);

  await maintain(db, '2025-10-01 00:05:00+00');
  say('\nafter the month boundary:');
  await partitions(db);

  const { n } = await db.one<{ n: string }>(`select count(*)::text as n from partkeeper.log`);
  say(`\npartkeeper.log holds ${n} actions; SELECT * FROM partkeeper.log shows them.`);
} finally {
  await db.close();
}
