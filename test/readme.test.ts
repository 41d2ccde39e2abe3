// Every fenced code block of README.md runs here, so the README cannot say what partkeeper does not do.
//
// A block may be marked by an HTML comment on the line right before its fence:
//   <!-- readme-test: WORD WORD ... -->
// with these words:
//   skip: REASON   not run, for the reason given (required); everything after "skip:" is the reason
//   server         runs only in the postgres project (psql, pg_cron); reported as skipped on PGlite
//   pglite         runs only in the pglite project (needs no database, so once is enough)
//   fixture=NAME   the database the block starts from (see `fixtures`); default: partkeeper installed
//   json=SCHEMA    a json block: parsed and checked against that contract schema (see `jsonSchemas`)
// An unmarked block runs. A block that cannot run and is not marked skip fails the test.
//
// How each language runs, each block on a database of its own:
//   sql  PGlite: the block as one script; server: `psql -X -v ON_ERROR_STOP=1 -f` (so psql's
//        backslash commands work), from the project root.
//   sh   every line (a trailing `# comment` dropped) is one command and must exit 0:
//        `partkeeper ...` / `npx partkeeper ...` run bin/partkeeper.mjs (the build in dist/) in a
//        folder of the block's own, pointed at the block's database: `--database-url X` becomes that
//        database (on PGlite `--pglite DIR`); without a connection option the database comes from
//        DATABASE_URL (on PGlite `--pglite DIR` is added), except `simulate`, which then plays on its
//        own embedded PGlite as documented. `psql ... -d app ...` runs against the block's database
//        (server only). `npm run demo` runs as is. Any other command fails.
//   json with json=SCHEMA, checked against the schema; anything else needs skip.
// Names the README uses for the DBA's own things are the test's: the database `app` (in `-d app`,
// `DATABASE app` and `'app')`), the folder `/backups/chat`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { maintenanceResultSchema } from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { openPglite } from '../src/pglite.ts';
import { applyBundle, freshDb, hasPgCron, itServer, repoRoot, target } from '../harness/testing.ts';
import { runChild } from '../harness/child.ts';
import { createOriginalTable } from '../harness/support.ts';
import { livechatTableDdl } from '../harness/original.ts';

type Block = { line: number; lang: string; code: string; marks: string[]; skip?: string; heading: string };

/** The fenced blocks of a Markdown text, with the marker comment right before each. */
function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^#+ /.test(l)) heading = l.replace(/^#+ /, '');
    const open = /^```(\S*)\s*$/.exec(l);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`README.md:${start + 1}: a code block that is never closed`);
    const marker = /^<!-- readme-test: (.*) -->$/.exec(lines[start - 1] ?? '');
    let words = marker ? marker[1]!.trim() : '';
    let skip: string | undefined;
    const s = words.indexOf('skip:');
    if (s >= 0) {
      skip = words.slice(s + 'skip:'.length).trim();
      words = words.slice(0, s).trim();
    }
    const marks = words ? words.split(/\s+/) : [];
    for (const m of marks)
      if (!/^(server|pglite|fixture=[a-z-]+|json=[a-z-]+)$/.test(m)) throw new Error(`README.md:${start}: unknown readme-test word "${m}"`);
    if (skip !== undefined && skip === '') throw new Error(`README.md:${start}: "skip:" needs a reason`);
    blocks.push({ line: start + 1, lang: open[1]!, code: body.join('\n'), marks, ...(skip !== undefined ? { skip } : {}), heading });
  }
  return blocks;
}

/** Splits a shell command line into words, honouring single and double quotes (no expansions). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return out;
}

/** The database a block runs on: a fresh server database, or a PGlite data folder. */
type Workspace = {
  dbName: string;
  url?: string;
  pgliteDir?: string;
  /** A folder of the block's own: cwd of the command line, and /backups/chat. */
  dir: string;
  sql<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  connection: string[];
};

const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

async function workspace(): Promise<Workspace> {
  const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-readme-'));
  cleanup.push(dir);
  if (target === 'pglite') {
    const pgliteDir = path.join(dir, 'pglite');
    return {
      dbName: 'postgres',
      pgliteDir,
      dir,
      connection: ['--pglite', pgliteDir],
      // PGlite keeps one process per data folder: open it only between commands
      async sql(fn) {
        const db = await openPglite({ dataDir: pgliteDir });
        try {
          return await fn(db);
        } finally {
          await db.close();
        }
      },
    };
  }
  const db = await freshDb({ bundle: false });
  await db.exec('reset partkeeper.premake_on_install'); // a DBA's install makes today's partitions
  return { dbName: db.name, url: db.url!, dir, connection: ['--database-url', db.url!], sql: (fn) => fn(db) };
}

/** The databases a block can start from (fixture=NAME). */
const fixtures: Record<string, (w: Workspace) => Promise<void>> = {
  /** partkeeper installed, as `partkeeper apply` leaves a new database (the reference table made). */
  installed: (w) => w.sql((db) => applyBundle(db)),
  /** a database with nothing in it */
  empty: async () => {},
  /** a plain (non-partitioned) livechat_messages with rows of the last months; partkeeper not installed */
  'plain-table': (w) =>
    w.sql((db) =>
      db.exec(`${livechatTableDdl('livechat_messages', { partitioned: false })};
               insert into livechat_messages (room_id, sender_id, body, created_at)
               select n % 5, n % 7, 'message ' || n, now() - n * interval '7 hours' from generate_series(1, 2000) n`),
    ),
  /** the original design's table with its 2025 partitions and rows, adopted by install; a table to restore into */
  archive: (w) =>
    w.sql(async (db) => {
      await createOriginalTable(db);
      await applyBundle(db);
      await db.exec('create table chat_history_2025_06 (like livechat_messages)');
    }),
  /** as archive, with livechat_messages_2025_06 archived into /backups/chat and then dropped */
  archived: async (w) => {
    await fixtures.archive!(w);
    const r = await runChild(['archive', 'livechat_messages_2025_06', '--dir', w.dir, ...w.connection], { cwd: w.dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    await w.sql((db) => db.exec('drop table livechat_messages_2025_06'));
  },
  /** server: the block runs in the pg_cron database, in a transaction rolled back at its end; `app` is a new database */
  'cron-database': async () => {},
};

const jsonSchemas: Record<string, { parse(v: unknown): unknown }> = {
  'maintenance-result': maintenanceResultSchema,
};

/** The README's names for the DBA's things, made the test's. */
function localize(text: string, w: Workspace): string {
  return text
    .replace(/\bDATABASE app\b/g, `DATABASE "${w.dbName}"`)
    .replace(/'app'\)/g, `'${w.dbName}')`)
    .replaceAll('/backups/chat', w.dir);
}

function psql(w: Workspace, args: string[], url = w.url!): void {
  const r = spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', ...args.map((a, i) => (args[i - 1] === '-d' ? url : a))], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, `psql ${args.join(' ')}\n${r.stderr}`).toBe(0);
}

async function runSql(b: Block, w: Workspace): Promise<void> {
  const code = localize(b.code, w);
  if (target === 'pglite') {
    if (/^\\/m.test(code)) expect.fail(`README.md:${b.line}: psql's backslash commands need psql: mark the block "server"`);
    await w.sql((db) => db.exec(code));
    return;
  }
  const file = path.join(w.dir, 'block.sql');
  if (b.marks.includes('fixture=cron-database')) {
    // pg_cron lives in the server's maintenance database: schedule there, then take it back
    writeFileSync(file, `BEGIN;\nCREATE EXTENSION IF NOT EXISTS pg_cron;\n${code}\nROLLBACK;\n`);
    psql(w, ['-d', 'cron', '-f', file], inject('partkeeperServer').adminUrl);
    return;
  }
  writeFileSync(file, code);
  psql(w, ['-d', 'app', '-f', file]);
}

async function runSh(b: Block, w: Workspace): Promise<void> {
  for (const raw of b.code.split('\n')) {
    const line = localize(raw.replace(/\s+#\s.*$/, '').trim(), w);
    if (!line) continue;
    let argv = words(line);
    if (argv[0] === 'npx' && argv[1] === 'partkeeper') argv = argv.slice(1);
    if (argv[0] === 'partkeeper') {
      const args = argv.slice(1);
      const at = args.indexOf('--database-url');
      if (at >= 0) args.splice(at, 2, ...w.connection);
      else if (target === 'pglite' && args[0] !== 'simulate') args.push(...w.connection);
      const env = target === 'postgres' && args[0] !== 'simulate' ? { DATABASE_URL: w.url } : {};
      const r = await runChild(args, { cwd: w.dir, env, timeoutMs: 240_000 });
      expect(r.code, `README.md:${b.line}: ${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
    } else if (argv[0] === 'psql') {
      if (target !== 'postgres') expect.fail(`README.md:${b.line}: psql needs a server: mark the block "server"`);
      psql(w, argv.slice(1));
    } else if (line === 'npm run demo') {
      execFileSync('npm', ['run', 'demo'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } else {
      expect.fail(`README.md:${b.line}: the test cannot run "${line}": make it runnable or mark the block skip: with the reason`);
    }
  }
}

async function runBlock(b: Block): Promise<void> {
  if (b.lang === 'json') {
    const name = b.marks.find((m) => m.startsWith('json='))?.slice('json='.length);
    if (!name || !jsonSchemas[name])
      expect.fail(`README.md:${b.line}: a json block needs json=SCHEMA (one of ${Object.keys(jsonSchemas)})`);
    jsonSchemas[name].parse(JSON.parse(b.code));
    return;
  }
  if (b.lang !== 'sql' && b.lang !== 'sh')
    expect.fail(`README.md:${b.line}: a \`\`\`${b.lang} block cannot run: mark it skip: with the reason`);
  const w = await workspace();
  const fixture = b.marks.find((m) => m.startsWith('fixture='))?.slice('fixture='.length) ?? 'installed';
  const make = fixtures[fixture];
  if (!make) expect.fail(`README.md:${b.line}: no fixture "${fixture}"`);
  await make(w);
  await (b.lang === 'sql' ? runSql(b, w) : runSh(b, w));
}

const blocks = readmeBlocks(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));

describe('README.md code blocks', () => {
  it('are found, and every one not run says why', () => {
    expect(blocks.length).toBeGreaterThan(15);
    for (const b of blocks.filter((x) => x.skip !== undefined)) expect(b.skip!.length, `README.md:${b.line}`).toBeGreaterThan(10);
  });

  for (const b of blocks) {
    const name = `README.md:${b.line} \`\`\`${b.lang} in "${b.heading}"`;
    if (b.skip !== undefined) {
      it.skip(`${name} [not run: ${b.skip}]`, () => {});
    } else if (b.marks.includes('server')) {
      const needsCron = b.marks.includes('fixture=cron-database');
      if (needsCron && target === 'postgres' && !hasPgCron)
        it.skip(`${name} [needs pg_cron on the test server: not preloaded here]`, () => {});
      else itServer(name, () => runBlock(b), 300_000);
    } else if (b.marks.includes('pglite')) {
      it.skipIf(target !== 'pglite')(`${name}${target !== 'pglite' ? ' [runs in the pglite project]' : ''}`, () => runBlock(b), 300_000);
    } else {
      it(name, () => runBlock(b), 300_000);
    }
  }
});
