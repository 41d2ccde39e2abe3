// partkeeper archive / restore, in-process on both databases: round trips, damaged files, taken ranges,
// and (server only) a million rows in flat memory.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archivePartition, manifestSchema } from '../src/archive.ts';
import { openTarget, type Target } from '../src/connect.ts';
import type { Db } from '../src/db.ts';
import { openPglite } from '../src/pglite.ts';
import { freshDb, installedFolder, itServer, target } from '../harness/testing.ts';
import { cli, type CliRun } from '../harness/support.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

type Workspace = { args: string[]; target: Target; sql: <T>(fn: (db: Db) => Promise<T>) => Promise<T> };

/** A database with the bundle installed, for the CLI to work on, and a way to look inside. */
async function workspace(): Promise<Workspace> {
  if (target === 'pglite') {
    const dir = tempDir('partkeeper-archive-db-');
    await installedFolder(dir);
    // PGlite keeps one process per data dir: open it only between commands
    const sql = async <T>(fn: (db: Db) => Promise<T>) => {
      const db = await openPglite({ dataDir: dir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };
    return { args: ['--pglite', dir], target: { pglite: dir }, sql };
  }
  const db = await freshDb();
  return { args: ['--database-url', db.url!], target: { databaseUrl: db.url! }, sql: (fn) => fn(db) };
}

const PART = 'livechat_messages_2025_06';
const JUNE = `created_at >= '2025-06-01' and created_at < '2025-07-01'`;

/** June 2025 with `rows` awkward rows: NULLs, tabs, newlines, CR, backslashes, "\.", unicode. */
async function seed(w: Workspace, rows = 300): Promise<void> {
  await w.sql((db) =>
    db.exec(`
      alter table livechat_messages add column note text;
      select create_monthly_partition('livechat_messages', '2025-06-01');
      insert into livechat_messages (room_id, sender_id, body, created_at, note)
      select g % 7, g % 13,
             case g % 7 when 0 then E'\\\\.' when 1 then E'tab\\there\\t' when 2 then E'line\\nbreak\\r\\n' when 3 then E'back\\\\slash \\\\N'
                        when 4 then 'ünïcödé ✓ 🎉 日本語' when 5 then '' else repeat('x', g) end,
             '2025-06-01'::timestamptz + g * interval '1 hour' + g * interval '1 microsecond',
             case when g % 3 = 0 then null when g % 3 = 1 then E'\\\\N' else 'NULL' end
        from generate_series(1, ${rows}) g`),
  );
}

/** An md5 over every row of June, in id order: equal before and after means identical rows. */
const fingerprint = (w: Workspace, from = 'livechat_messages') =>
  w.sql(
    async (db) =>
      await db.one<{ md5: string | null; n: string }>(
        `select md5(string_agg(md5(t::text), '' order by id)) as md5, count(*)::text as n from (select id, room_id, sender_id, body, created_at, note from ${from} where ${JUNE}) t`,
      ),
  );

const archives = (w: Workspace) =>
  w.sql((db) =>
    db.query<{ partition_name: string; rows: string; bytes: string; checksum: string; location: string; format: string }>(
      'select partition_name, rows::text, bytes::text, checksum, location, format from partkeeper.archives order by id',
    ),
  );

const exists = (w: Workspace, rel: string) =>
  w.sql(async (db) => (await db.one<{ ok: boolean }>('select to_regclass($1) is not null as ok', [rel])).ok);

const flipByte = (file: string, at = 0.5) => {
  const b = readFileSync(file);
  const i = Math.floor(b.length * at);
  b[i] = b[i]! ^ 0x55;
  writeFileSync(file, b);
};

describe('partkeeper archive and restore', () => {
  it('archive -> drop -> restore gives back identical rows, and the archive is recorded', async () => {
    const w = await workspace();
    await seed(w);
    const before = await fingerprint(w);
    expect(before.n).toBe('300');
    const dir = tempDir('partkeeper-archive-');

    const a = await cli('archive', PART, '--dir', dir, '--progress', ...w.args);
    expect(a.stderr).not.toMatch(/\n\s+at /);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(
      /^archived public\.livechat_messages_2025_06 \[2025-06-01T00:00:00\+00:00, 2025-07-01T00:00:00\+00:00\): 300 rows/,
    );
    expect(a.stderr).toMatch(/\rverify public\.livechat_messages_2025_06: 100% 300\/300 rows/);
    const manifestPath = path.join(dir, `${PART}.manifest.json`);
    const m = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
    expect(m).toMatchObject({
      format: 'partkeeper-archive/1',
      table: 'public.livechat_messages',
      partition: PART,
      schema: 'public',
      lower: '2025-06-01T00:00:00+00:00',
      upper: '2025-07-01T00:00:00+00:00',
      rows: 300,
      file: `${PART}.copy.gz`,
      bytes: statSync(path.join(dir, `${PART}.copy.gz`)).size,
      partkeeper_version: '0.1.0',
    });
    expect(m.columns).toEqual([
      { name: 'id', type: 'bigint', not_null: true },
      { name: 'room_id', type: 'bigint', not_null: true },
      { name: 'sender_id', type: 'bigint', not_null: true },
      { name: 'body', type: 'text', not_null: true },
      { name: 'created_at', type: 'timestamp with time zone', not_null: true },
      { name: 'note', type: 'text', not_null: false },
    ]);
    expect(m.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await archives(w)).toEqual([
      {
        partition_name: `public.${PART}`,
        rows: '300',
        bytes: String(m.bytes),
        checksum: m.checksum,
        location: manifestPath,
        format: 'partkeeper-archive/1',
      },
    ]);

    await w.sql((db) => db.exec(`drop table ${PART}`));
    expect((await fingerprint(w)).n).toBe('0');
    const r = await cli('restore', manifestPath, ...w.args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^restored 300 rows of public\.livechat_messages \[2025-06-01T00:00:00\+00:00, 2025-07-01T00:00:00\+00:00\) as partition public\.livechat_messages_2025_06/,
    );
    expect(await fingerprint(w)).toEqual(before);
    const bounds = await w.sql((db) =>
      db.query<{ lower: string; upper: string }>(
        `select lower::text, upper::text from partkeeper.partition_bounds('livechat_messages') where partition = $1::regclass`,
        [PART],
      ),
    );
    expect(bounds).toEqual([{ lower: '2025-06-01 00:00:00+00', upper: '2025-07-01 00:00:00+00' }]);
    // the restored partition is a full member: indexes, and new rows of June route to it
    await w.sql((db) =>
      db.exec(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'after', '2025-06-15')`),
    );
    expect(await w.sql(async (db) => (await db.one<{ n: string }>(`select count(*) as n from only ${PART}`)).n)).toBe('301');
    expect(
      await w.sql(async (db) => (await db.one<{ n: string }>(`select count(*) as n from pg_indexes where tablename = '${PART}'`)).n),
    ).toBe('2');
  }, 120_000);

  it("a restored partition is made like a new one: the parent's NOT VALID CHECK (old rows may break it) and replica identity", async () => {
    const w = await workspace();
    await seed(w, 20);
    // an old row breaks a CHECK added NOT VALID since; the parent replicates deletes with FULL rows
    await w.sql((db) =>
      db.exec(`alter table livechat_messages add constraint body_short check (length(body) < 10) not valid;
               alter table livechat_messages replica identity full;`),
    );
    const before = await fingerprint(w);
    const dir = tempDir('partkeeper-archive-');
    expect((await cli('archive', PART, '--dir', dir, ...w.args)).code).toBe(0);
    await w.sql((db) => db.exec(`drop table ${PART}`));
    const r = await cli('restore', path.join(dir, `${PART}.manifest.json`), ...w.args);
    expect(r.code, r.stderr).toBe(0);
    expect(await fingerprint(w)).toEqual(before);
    const made = await w.sql((db) =>
      db.one<{ checks: string[]; ident: string; leftovers: string[] }>(
        `select array(select conname || ':' || convalidated from pg_constraint where conrelid = $1::regclass and contype = 'c' order by 1)::text[] as checks,
                (select relreplident::text from pg_class where oid = $1::regclass) as ident,
                array(select conname from pg_constraint where conrelid = $1::regclass and conname like 'partkeeper%')::text[] as leftovers`,
        [PART],
      ),
    );
    expect(made).toEqual({ checks: ['body_short:false'], ident: 'f', leftovers: [] });
  });

  it("a restored partition belongs to the parent's owner, not to the role that restored it", async () => {
    const w = await workspace();
    await seed(w, 5);
    const owner = `pk_restore_owner_${Math.random().toString(16).slice(2, 8)}`;
    // the table and every partition belong to another role, who may create in its schema (README, Roles)
    await w.sql((db) =>
      db.exec(`create role ${owner}; grant create on schema public to ${owner}; alter table livechat_messages owner to ${owner};
               do $$ declare r record; begin
                 for r in select inhrelid::regclass as p from pg_inherits where inhparent = 'livechat_messages'::regclass loop
                   execute format('alter table %s owner to ${owner}', r.p);
                 end loop;
               end $$`),
    );
    try {
      const dir = tempDir('partkeeper-archive-');
      expect((await cli('archive', PART, '--dir', dir, ...w.args)).code).toBe(0);
      await w.sql((db) => db.exec(`drop table ${PART}`));
      const r = await cli('restore', path.join(dir, `${PART}.manifest.json`), ...w.args);
      expect(r.code, r.stderr).toBe(0);
      expect(await w.sql((db) => db.one(`select relowner::regrole::text as owner from pg_class where oid = $1::regclass`, [PART]))).toEqual(
        {
          owner,
        },
      );
    } finally {
      await w.sql((db) => db.exec(`reset role; reassign owned by ${owner} to current_user; drop owned by ${owner}; drop role ${owner}`));
    }
  });

  it('a file damaged before verification is refused: nothing recorded, no file left, the partition untouched', async () => {
    const w = await workspace();
    await seed(w);
    const before = await fingerprint(w);
    const dir = tempDir('partkeeper-archive-');
    for (const damage of [(f: string) => flipByte(f), (f: string) => truncateSync(f, statSync(f).size - 10)]) {
      const db = await openTarget(w.target);
      try {
        await expect(archivePartition(db, PART, { dir, beforeVerify: async (f) => damage(f) })).rejects.toThrow(
          /^the archive of public\.livechat_messages_2025_06 failed verification: .+; it was removed and nothing was recorded$/,
        );
        // the session is usable afterwards (its transaction was rolled back)
        expect(await db.query('select 1 as one')).toEqual([{ one: 1 }]);
      } finally {
        await db.close();
      }
      expect(await archives(w)).toEqual([]);
      expect(await fingerprint(w)).toEqual(before);
      expect(await exists(w, PART)).toBe(true);
    }
    expect(readdirSync(dir).sort()).toEqual([]);
  }, 120_000);

  it('restore refuses a damaged or mismatched archive and changes nothing', async () => {
    const w = await workspace();
    await seed(w);
    const before = await fingerprint(w);
    const dir = tempDir('partkeeper-archive-');
    expect((await cli('archive', PART, '--dir', dir, ...w.args)).code).toBe(0);
    await w.sql((db) => db.exec(`drop table ${PART}`));
    const manifestPath = path.join(dir, `${PART}.manifest.json`);
    const dataPath = path.join(dir, `${PART}.copy.gz`);
    const good = { data: readFileSync(dataPath), manifest: readFileSync(manifestPath, 'utf8') };
    const m = manifestSchema.parse(JSON.parse(good.manifest));
    const cases: [string, () => void, RegExp][] = [
      ['flipped byte', () => flipByte(dataPath), /\.copy\.gz is damaged: /],
      ['flipped byte near the end', () => flipByte(dataPath, 0.97), /\.copy\.gz is damaged: /],
      ['truncated', () => truncateSync(dataPath, m.bytes - 100), /\.copy\.gz is damaged: \d+ bytes, the manifest says \d+/],
      [
        'rows in the manifest',
        () => writeFileSync(manifestPath, JSON.stringify({ ...m, rows: m.rows + 1 })),
        /does not match its manifest: 300 rows, expected 301/,
      ],
      [
        'checksum in the manifest',
        () => writeFileSync(manifestPath, JSON.stringify({ ...m, checksum: `sha256:${'0'.repeat(64)}` })),
        /does not match its manifest: checksum sha256:[0-9a-f]{64}, expected sha256:0{64}/,
      ],
      ['not a manifest', () => writeFileSync(manifestPath, '{"format": "something else"}'), /is not a partkeeper-archive\/1 manifest/],
      [
        'a field of the wrong type, and a data file outside the folder',
        () => writeFileSync(manifestPath, JSON.stringify({ ...m, rows: 'many', file: '../elsewhere.copy.gz' })),
        /manifest\.json is damaged: rows: [^;]*expected number[^;]*; file: must be a name in the manifest's folder/,
      ],
      [
        'a column without its type',
        () => writeFileSync(manifestPath, JSON.stringify({ ...m, columns: [{ name: 'id' }] })),
        /is damaged: columns\[0\]\.type: /,
      ],
      [
        'a key the format does not have',
        () => writeFileSync(manifestPath, JSON.stringify({ ...m, note: 'x' })),
        /is damaged: Unrecognized key: "note"/,
      ],
      ['unreadable manifest', () => writeFileSync(manifestPath, good.manifest.slice(0, 100)), /cannot be read as an archive manifest/],
    ];
    for (const [name, damage, message] of cases) {
      writeFileSync(dataPath, good.data);
      writeFileSync(manifestPath, good.manifest);
      damage();
      const r = await cli('restore', manifestPath, ...w.args);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(new RegExp(`^partkeeper restore: .*${message.source}`, 'm'));
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
      expect(await exists(w, PART), name).toBe(false);
      expect((await fingerprint(w)).n, name).toBe('0');
    }
    // the intact archive still restores: nothing was left behind in the way
    writeFileSync(dataPath, good.data);
    writeFileSync(manifestPath, good.manifest);
    expect((await cli('restore', manifestPath, ...w.args)).code).toBe(0);
    expect(await fingerprint(w)).toEqual(before);
  }, 120_000);

  it('restore refuses a range that is taken (PK006) and changes nothing; --into loads a table of your choice', async () => {
    const w = await workspace();
    await seed(w);
    const before = await fingerprint(w);
    const dir = tempDir('partkeeper-archive-');
    expect((await cli('archive', PART, '--dir', dir, ...w.args)).code).toBe(0);
    const manifestPath = path.join(dir, `${PART}.manifest.json`);
    const relations = () =>
      w.sql(async (db) =>
        (await db.query<{ relname: string }>(`select relname from pg_class where relname like 'livechat%' order by 1`)).map(
          (r) => r.relname,
        ),
      );
    const rels = await relations();

    const taken = await cli('restore', manifestPath, ...w.args);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(
      /^partkeeper restore: error PK006: range \[2025-06-01 00:00:00\+00, 2025-07-01 00:00:00\+00\) of public\.livechat_messages is taken by partition public\.livechat_messages_2025_06$/m,
    );
    expect(taken.stderr).toMatch(/^hint: .*--into/m);
    expect(await relations()).toEqual(rels);
    expect(await fingerprint(w)).toEqual(before);

    // rows of June waiting in the DEFAULT partition take the range too
    await w.sql((db) =>
      db.exec(
        `drop table ${PART}; insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'waiting', '2025-06-02')`,
      ),
    );
    const waiting = await cli('restore', manifestPath, ...w.args);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toMatch(/error PK006: the DEFAULT partition of public\.livechat_messages holds 1 row\(s\) of/);
    expect(await exists(w, PART)).toBe(false);

    const nowhere = await cli('restore', manifestPath, '--into', 'no_such_table', ...w.args);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/error PK002: table 'no_such_table' does not exist/);
    expect(nowhere.stderr).toMatch(/^hint: .*'no_such_table'/m);
    await w.sql((db) => db.exec(`create table restored (like livechat_messages)`));
    const into = await cli('restore', manifestPath, '--into', 'restored', ...w.args);
    expect(into.code, into.stderr).toBe(0);
    expect(into.stdout).toMatch(/^restored 300 rows of public\.livechat_messages_2025_06 into restored$/m);
    expect(await fingerprint(w, 'restored')).toEqual(before);
    expect(await exists(w, PART)).toBe(false);
  }, 120_000);

  it('reports wrong usage with 64 and refuses the DEFAULT partition and existing files', async () => {
    expect((await cli('archive')).code).toBe(64);
    expect((await cli('restore')).code).toBe(64);
    expect((await cli('restore', 'a', 'b')).code).toBe(64);
    const w = await workspace();
    await seed(w, 3);
    const dir = tempDir('partkeeper-archive-');
    const d = await cli('archive', 'livechat_messages_default', '--dir', dir, ...w.args);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/error PK003: .*DEFAULT partition/);
    const t = await cli('archive', 'livechat_messages', '--dir', dir, ...w.args);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/error PK003: .* is not a partition/);
    expect((await cli('archive', PART, '--dir', dir, ...w.args)).code).toBe(0);
    const again = await cli('archive', PART, '--dir', dir, ...w.args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/manifest\.json exists \(--force replaces it\)/);
    expect((await cli('archive', PART, '--dir', dir, '--force', ...w.args)).code).toBe(0);
    expect(await archives(w)).toHaveLength(2);
    expect(readdirSync(dir).sort()).toEqual([`${PART}.copy.gz`, `${PART}.manifest.json`]);
    // rows deleted since: --force keeps the archive that holds more, unless asked explicitly
    await w.sql((db) => db.exec(`delete from ${PART} where ctid = (select min(ctid) from ${PART})`));
    const fewer = await cli('archive', PART, '--dir', dir, '--force', ...w.args);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr).toMatch(
      /holds 3 rows, the partition only 2 now: replacing it would lose 1 row\(s\) \(--allow-fewer-rows replaces it anyway\)/,
    );
    expect(await archives(w)).toHaveLength(2);
    expect((await cli('archive', PART, '--dir', dir, '--allow-fewer-rows', ...w.args)).code).toBe(64);
    expect((await cli('archive', PART, '--dir', dir, '--force', '--allow-fewer-rows', ...w.args)).code).toBe(0);
    expect(await archives(w)).toHaveLength(3);
  }, 120_000);

  itServer(
    'a million rows: archive -> drop -> restore, identical, in flat memory',
    async () => {
      const w = await workspace();
      const rows = 1_000_000;
      await w.sql((db) =>
        db.exec(`
        alter table livechat_messages add column note text;
        select create_monthly_partition('livechat_messages', '2025-06-01');
        insert into livechat_messages (room_id, sender_id, body, created_at)
        select g % 1000, g % 9973, md5(g::text) || E' \\t ' || md5((g * 7)::text) || E'\\n' || repeat(chr(945 + g % 20), 1 + g % 40),
               '2025-06-01'::timestamptz + g * interval '2 seconds'
          from generate_series(1, ${rows}) g;
        analyze livechat_messages`),
      );
      const before = await fingerprint(w);
      expect(before.n).toBe(String(rows));
      const dir = tempDir('partkeeper-archive-');

      /** Samples rss and heapUsed while fn runs: max growth over the start, and over the run's first half. */
      const measure = async (fn: () => Promise<CliRun>) => {
        const base = process.memoryUsage();
        const samples: { t: number; rss: number; heap: number; buffers: number }[] = [];
        const t0 = performance.now();
        const sample = () => {
          const m = process.memoryUsage();
          samples.push({
            t: performance.now() - t0,
            rss: m.rss - base.rss,
            heap: m.heapUsed - base.heapUsed,
            buffers: m.arrayBuffers - base.arrayBuffers,
          });
        };
        const timer = setInterval(sample, 10);
        try {
          const r = await fn();
          sample();
          const ms = performance.now() - t0;
          const max = (xs: typeof samples, k: 'rss' | 'heap' | 'buffers') => Math.max(0, ...xs.map((x) => x[k]));
          const firstHalf = samples.filter((x) => x.t <= ms / 2);
          return {
            r,
            ms,
            rss: max(samples, 'rss'),
            heap: max(samples, 'heap'),
            buffers: max(samples, 'buffers'),
            rssFirstHalf: max(firstHalf, 'rss'),
            baseRss: base.rss,
          };
        } finally {
          clearInterval(timer);
        }
      };
      const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

      const a = await measure(() => cli('archive', PART, '--dir', dir, ...w.args));
      expect(a.r.code, a.r.stderr).toBe(0);
      const m = manifestSchema.parse(JSON.parse(readFileSync(path.join(dir, `${PART}.manifest.json`), 'utf8')));
      const textBytes = await w.sql(async (db) =>
        Number(
          (
            await db.one<{ n: string }>(
              `select sum(octet_length(t::text))::text as n from (select id, room_id, sender_id, body, created_at from ${PART}) t`,
            )
          ).n,
        ),
      );
      await w.sql((db) => db.exec(`drop table ${PART}`));
      const r = await measure(() => cli('restore', path.join(dir, `${PART}.manifest.json`), ...w.args));
      expect(r.r.code, r.r.stderr).toBe(0);
      expect(await fingerprint(w)).toEqual(before);

      const report = (x: Awaited<ReturnType<typeof measure>>) =>
        `${(x.ms / 1000).toFixed(1)} s, rss ${mb(x.baseRss)} at start, max growth rss ${mb(x.rss)} (${mb(x.rssFirstHalf)} by half-time), heapUsed ${mb(x.heap)}, arrayBuffers ${mb(x.buffers)}`;
      console.log(`${rows} rows, ~${mb(textBytes)} of COPY text, ${mb(m.bytes)} gzip\n  archive: ${report(a)}\n  restore: ${report(r)}`);
      // Streaming holds a few buffers at a time: far less than the data, which would be held whole otherwise.
      for (const x of [a, r]) {
        expect(x.rss).toBeLessThan(textBytes / 2);
        expect(x.heap).toBeLessThan(32 * 2 ** 20);
        expect(x.buffers).toBeLessThan(64 * 2 ** 20);
      }
    },
    600_000,
  );
});
