// Archives of partitions: the file format, streaming COPY out and in, verification, and progress.
//
// An archive is two files side by side:
//   <partition>.copy.gz        gzip of COPY (SELECT <columns> FROM ONLY <partition>) TO STDOUT,
//                              PostgreSQL's text format, UTF-8, one line per row
//   <partition>.manifest.json  what the archive holds and the checksums to verify it (Manifest)
// Both are written under temporary names and renamed when complete; the manifest last, so a
// manifest exists only for a finished, verified data file.
//
// On a server, rows stream from the COPY through the checksum into gzip and the file (and back,
// for a restore) with backpressure, in constant memory whatever the size. PGlite's COPY goes
// through an in-memory Blob ('/dev/blob'), so there a partition must fit in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { escapeIdentifier } from 'pg';
import { z } from 'zod';
import { instantSchema, issueLines } from './contracts.ts';
import { DbError, type CopySource, type Db } from './db.ts';
import { number, size } from './format.ts';

export const ARCHIVE_FORMAT = 'partkeeper-archive/1';

/** A column of the data file: its name, format_type() (e.g. "character varying(20)") and whether NOT NULL. */
const archiveColumnSchema = z.strictObject({ name: z.string().min(1), type: z.string().min(1), not_null: z.boolean() });
export type ArchiveColumn = z.infer<typeof archiveColumnSchema>;

const nonEmpty = z.string().min(1);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 hex digits');

/**
 * The manifest beside an archive's data file (<partition>.manifest.json): what the archive holds and
 * the checksums to verify it. Written by archivePartition(), checked by readManifest() before a
 * restore trusts any of it.
 */
export const manifestSchema = z.strictObject({
  format: z.literal(ARCHIVE_FORMAT),
  /** The partitioned table as schema.name, each part quoted where SQL needs it. */
  table: nonEmpty,
  /** The partition's name (unqualified) and schema. */
  partition: nonEmpty,
  schema: nonEmpty,
  /** Bounds [lower, upper) as instants, as partkeeper.partition_bounds() returns them. */
  lower: instantSchema,
  upper: instantSchema,
  /** The columns in the data file, in order: every non-generated column in attnum order. */
  columns: z.array(archiveColumnSchema).min(1),
  rows: count,
  /** sha256 of the uncompressed COPY text. */
  checksum: sha256,
  /** The data file, relative to the manifest, its size and the sha256 of its (compressed) bytes. */
  file: nonEmpty.refine((f) => f === path.basename(f), "must be a name in the manifest's folder"),
  bytes: count,
  file_checksum: sha256,
  partkeeper_version: nonEmpty,
  created_at: z.iso.datetime(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * Session settings under which COPY text is unambiguous and the same from every session. Without
 * synchronized scans a partition that did not change archives to the same bytes every time.
 */
const COPY_SETTINGS = `set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'; set local intervalstyle = 'postgres';
  set local extra_float_digits = 3; set local bytea_output = 'hex'; set local synchronize_seqscans = off`;

// a name as it reads in messages: quoted only when it must be
const ident = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : escapeIdentifier(name));
/** The archived partition as schema.name, quoted where SQL needs it. */
export const archivedPartition = (m: Pick<Manifest, 'schema' | 'partition'>) => `${ident(m.schema)}.${ident(m.partition)}`;

/* ------------------------------------------------------------------------------------------ */
/* Connections                                                                                */
/* ------------------------------------------------------------------------------------------ */

const COPY_OPTIONS = `(format text, encoding 'UTF8')`;

/** A file system error (it has a syscall) as an ArchiveError; others as DbError.from() makes them. */
function ioError(e: unknown, what?: string): unknown {
  if (!(e as { syscall?: unknown })?.syscall) return DbError.from(e);
  return what ? new ArchiveError(`${what}: ${(e as Error).message}`) : e;
}

/* ------------------------------------------------------------------------------------------ */
/* Checksums, row counts, progress                                                            */
/* ------------------------------------------------------------------------------------------ */

/** An archive that does not match what it should hold: nothing was recorded, dropped or restored. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

/**
 * Passes bytes through, hashing them and counting lines (= rows of COPY text format, where a newline
 * inside a value is written as \n). With `expect`, fails at the end of the stream when the count or
 * checksum differ, so that a COPY FROM fed by it is aborted before it completes.
 */
export class Tally extends Transform {
  rows = 0;
  bytes = 0;
  checksum = '';
  #hash = createHash('sha256');
  #lastByte = 10;

  constructor(
    private readonly expect?: { rows?: number; checksum: string; what: string },
    private readonly onProgress?: (t: Tally) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++;
    if (chunk.length) this.#lastByte = chunk[chunk.length - 1]!;
    this.onProgress?.(this);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.checksum = `sha256:${this.#hash.digest('hex')}`;
    const e = this.expect;
    if (this.#lastByte !== 10) {
      cb(new ArchiveError(`${e?.what ?? 'COPY data'}: the last row is incomplete (no end of line)`));
      return;
    }
    if (e?.rows !== undefined && e.rows !== this.rows) {
      cb(new ArchiveError(`${e.what}: ${this.rows} rows, expected ${e.rows}`));
      return;
    }
    if (e && e.checksum !== this.checksum) {
      cb(new ArchiveError(`${e.what}: checksum ${this.checksum}, expected ${e.checksum}`));
      return;
    }
    cb();
  }
}

/** A progress line on stderr, rewritten in place (at most ~10 times a second). */
export class Progress {
  #last = 0;
  #shown = false;
  constructor(
    private readonly enabled: boolean,
    private readonly write: (s: string) => void = (s) => void process.stderr.write(s),
  ) {}

  update(line: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    this.#shown = true;
    this.write(`\r${line}\x1b[K`);
  }

  done(line?: string): void {
    if (line !== undefined) this.update(line, true);
    if (this.#shown) this.write('\n');
    this.#shown = false;
  }
}

const rowsLine = (label: string, done: number, total: number, extra = '') =>
  `${label}: ${total ? `${Math.min(100, Math.floor((done / total) * 100))}% ` : ''}${number(done)}/${number(total)} rows${extra}`;

/** Counts and hashes bytes passing through (the compressed file), without looking at them. */
class FileTap extends Transform {
  bytes = 0;
  checksum = '';
  #hash = createHash('sha256');
  constructor(private readonly expect?: { checksum: string; bytes: number; what: string }) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.checksum = `sha256:${this.#hash.digest('hex')}`;
    const e = this.expect;
    if (e && e.bytes !== this.bytes) {
      cb(new ArchiveError(`${e.what}: ${this.bytes} bytes, the manifest says ${e.bytes}`));
      return;
    }
    if (e && e.checksum !== this.checksum) {
      cb(new ArchiveError(`${e.what}: file checksum ${this.checksum}, the manifest says ${e.checksum}`));
      return;
    }
    cb();
  }
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

/** Reads a data file back: its file checksum and size, and the rows and checksum of its COPY text. */
async function readBack(file: string, onProgress?: (t: Tally) => void) {
  const tap = new FileTap();
  const tally = new Tally(undefined, onProgress);
  try {
    await pipeline(createReadStream(file), tap, createGunzip(), tally, discard());
  } catch (e) {
    throw new ArchiveError(`it cannot be read back: ${(e as Error).message}`);
  }
  return { rows: tally.rows, checksum: tally.checksum, bytes: tap.bytes, fileChecksum: tap.checksum };
}

/* ------------------------------------------------------------------------------------------ */
/* Archive                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/**
 * Makes sure `dir` is a folder this process can write to, creating it and its parents when missing.
 * One level at a time: node's recursive mkdir never returns for a path under /proc. Throws an
 * ArchiveError naming the folder and the reason.
 */
export async function prepareDir(dir: string): Promise<void> {
  const make = async (d: string, depth: number): Promise<void> => {
    try {
      await mkdir(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'ENOENT' || depth > 64 || path.dirname(d) === d) throw e;
      await make(path.dirname(d), depth + 1);
      await mkdir(d).catch((again: NodeJS.ErrnoException) => {
        if (again.code !== 'EEXIST') throw again;
      });
    }
  };
  try {
    await make(path.resolve(dir), 0);
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new ArchiveError(`cannot write archives into ${dir}: ${(e as Error).message}`);
  }
}

export interface ArchiveOptions {
  /** Folder for the two files (created beforehand by the caller). */
  dir: string;
  /** Replace an existing archive of the same partition in dir (never one holding more rows; see allowFewerRows). */
  force?: boolean;
  /** With force: replace it even when it holds more rows than the partition does now. */
  allowFewerRows?: boolean;
  progress?: Progress;
  /** Stops the archive: the temporary files are removed and nothing is recorded (the transaction rolls back). */
  signal?: AbortSignal;
  /** Called with the finished, not yet verified data file (tests damage it here). */
  beforeVerify?: (dataFile: string) => Promise<void>;
}

export interface ArchiveResult {
  id: number;
  manifest: Manifest;
  manifestPath: string;
  dataPath: string;
}

type Target0 = { partition: string; name: string; schema: string; parent: string | null; rel: string };

/** Archives one range partition, verifies the file, and records it with partkeeper.record_archive(). */
export async function archivePartition(db: Db, partition: string, opts: ArchiveOptions): Promise<ArchiveResult> {
  const progress = opts.progress ?? new Progress(false);
  const p = await db.one<Target0>(
    `select format('%I.%I', n.nspname, c.relname) as partition, c.relname as name, n.nspname as schema,
            format('%I.%I', n.nspname, c.relname) as rel,
            (select format('%I.%I', pn.nspname, pc.relname) from pg_inherits i join pg_class pc on pc.oid = i.inhparent
               join pg_namespace pn on pn.oid = pc.relnamespace where i.inhrelid = c.oid) as parent
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = partkeeper.resolve_table($1)`,
    [partition],
  );
  if (!p.parent) {
    throw new DbError({
      code: 'PK003',
      message: `${p.partition} is not a partition`,
      hint: 'Archive a range partition of a managed table.',
    });
  }
  const base = encodeURIComponent(p.name);
  const dataPath = path.resolve(opts.dir, `${base}.copy.gz`);
  const manifestPath = path.resolve(opts.dir, `${base}.manifest.json`);
  const tmpData = `${dataPath}.${process.pid}.tmp`;
  const tmpManifest = `${manifestPath}.${process.pid}.tmp`;
  if (!opts.force) {
    for (const f of [manifestPath, dataPath]) {
      if (
        await stat(f).then(
          () => true,
          () => false,
        )
      )
        throw new ArchiveError(`${f} exists (--force replaces it)`);
    }
  }

  let placed = false;
  try {
    return await db.transaction(async () => {
      await db.exec(COPY_SETTINGS);
      await db.query('select partkeeper.table_info($1::regclass)', [p.parent]);
      const bounds = await db.query<{ lower: string; upper: string }>(
        `select to_jsonb(b.lower) #>> '{}' as lower, to_jsonb(b.upper) #>> '{}' as upper
           from partkeeper.partition_bounds($1::regclass) b where b.partition = $2::regclass and not b.is_default`,
        [p.parent, p.rel],
      );
      if (!bounds[0]) {
        throw new DbError({
          code: 'PK003',
          message: `${p.partition} is the DEFAULT partition of ${p.parent}; only range partitions are archived`,
          hint: 'Let maintenance place the rows of the DEFAULT partition first.',
        });
      }
      const { lockTimeout } = await db.one<{ lockTimeout: string }>(`select current_setting('lock_timeout') as "lockTimeout"`);
      // Writers of this partition wait until the archive is recorded, so it is a copy of it; the
      // wait for the lock itself is bounded (below).
      // One wait of the table's whole lock budget, lock_timeout x (lock_retries + 1): it outlasts
      // deadlock_timeout, after which autovacuum (often busy on a freshly filled partition) yields.
      await db.query(
        `select set_config('lock_timeout', (extract(epoch from c.lock_timeout) * 1000 * (c.lock_retries + 1))::bigint || 'ms', true)
                        from partkeeper.config_for($1::regclass) c`,
        [p.parent],
      );
      await db.exec(`lock table ${p.rel} in share mode`);
      await db.query(`select set_config('lock_timeout', $1, true)`, [lockTimeout]);
      const columns = await db.query<ArchiveColumn>('select name, type, not_null from partkeeper.copyable_columns($1::regclass)', [p.rel]);
      const { count } = await db.one<{ count: string }>(`select count(*) from only ${p.rel}`);
      const expected = Number(count);
      if (opts.force && !opts.allowFewerRows) {
        // rows deleted since the archive was written: the archive is the better copy, keep it
        const old = await readManifest(manifestPath).catch(() => undefined);
        if (old && old.rows > expected) {
          throw new ArchiveError(
            `${manifestPath} holds ${old.rows} rows, the partition only ${expected} now: replacing it would lose ${old.rows - expected} row(s) ` +
              '(--allow-fewer-rows replaces it anyway)',
          );
        }
      }
      const { version } = await db.one<{ version: string }>('select partkeeper.version() as version');
      const label = `archive ${p.partition}`;

      // Write: COPY -> row count and checksum -> gzip -> file. Opening the file first ('wx': never
      // over a file another run is writing) fails before any COPY starts.
      const file = (await open(tmpData, opts.force ? 'w' : 'wx')).createWriteStream();
      const tally = new Tally(undefined, (t) => progress.update(rowsLine(label, t.rows, expected, `, ${size(t.bytes)} of COPY text`)));
      const tap = new FileTap();
      const out = await db
        .copyOut(`select ${columns.map((c) => escapeIdentifier(c.name)).join(', ')} from only ${p.rel}`, COPY_OPTIONS)
        .catch((e: unknown) => {
          file.destroy();
          throw e;
        });
      try {
        await pipeline(out.data, tally, createGzip(), tap, file, { signal: opts.signal ?? new AbortController().signal });
      } catch (e) {
        opts.signal?.throwIfAborted();
        throw ioError(e, `writing ${dataPath} failed`);
      }
      progress.done(rowsLine(label, tally.rows, expected, `, ${size(tap.bytes)} written`));
      if (tally.rows !== expected || out.rows() !== expected) {
        throw new ArchiveError(`${label}: ${tally.rows} rows written (COPY reported ${out.rows()}), the partition holds ${expected}`);
      }

      // Verify: read the file back and compare with what was written and with the partition.
      opts.signal?.throwIfAborted();
      await opts.beforeVerify?.(tmpData);
      const failed = (why: string) =>
        new ArchiveError(`the archive of ${p.partition} failed verification: ${why}; it was removed and nothing was recorded`);
      const back = await readBack(tmpData, (t) => progress.update(rowsLine(`verify ${p.partition}`, t.rows, expected))).catch(
        (e: Error) => {
          throw failed(e.message);
        },
      );
      progress.done(rowsLine(`verify ${p.partition}`, back.rows, expected));
      opts.signal?.throwIfAborted();
      const compare = (what: string, got: string | number, want: string | number) => {
        if (got !== want) throw failed(`${what} ${got} read back, ${want} written`);
      };
      compare('size', back.bytes, tap.bytes);
      compare('file checksum', back.fileChecksum, tap.checksum);
      compare('rows', back.rows, tally.rows);
      compare('checksum', back.checksum, tally.checksum);

      const manifest: Manifest = {
        format: ARCHIVE_FORMAT,
        table: p.parent!,
        partition: p.name,
        schema: p.schema,
        lower: bounds[0].lower,
        upper: bounds[0].upper,
        columns,
        rows: tally.rows,
        checksum: tally.checksum,
        file: path.basename(dataPath),
        bytes: tap.bytes,
        file_checksum: tap.checksum,
        partkeeper_version: version,
        created_at: new Date().toISOString(),
      };
      await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`, { flag: opts.force ? 'w' : 'wx' });
      opts.signal?.throwIfAborted();
      placed = true;
      await rename(tmpData, dataPath);
      await rename(tmpManifest, manifestPath);
      const { id } = await db.one<{ id: string }>('select partkeeper.record_archive($1::regclass, $2, $3, $4, $5, $6)::text as id', [
        p.rel,
        manifestPath,
        ARCHIVE_FORMAT,
        manifest.rows,
        manifest.bytes,
        manifest.checksum,
      ]);
      return { id: Number(id), manifest, manifestPath, dataPath };
    });
  } catch (e) {
    progress.done();
    // Nothing may look like a finished archive unless it was recorded.
    const leftovers = [tmpData, tmpManifest, ...(placed ? [manifestPath, dataPath] : [])];
    await Promise.all(leftovers.map((f) => rm(f, { force: true })));
    throw e;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Restore                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** Reads a manifest and checks it against manifestSchema; an ArchiveError names the file and every field that is wrong. */
export async function readManifest(file: string): Promise<Manifest> {
  let m: unknown;
  try {
    m = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ArchiveError(`${file} cannot be read as an archive manifest: ${(e as Error).message}`);
  }
  // another file altogether is told apart from a damaged manifest
  const format = (m as { format?: unknown } | null)?.format;
  if (format !== ARCHIVE_FORMAT) throw new ArchiveError(`${file} is not a ${ARCHIVE_FORMAT} manifest (format: ${JSON.stringify(format)})`);
  const r = manifestSchema.safeParse(m);
  if (!r.success) throw new ArchiveError(`${file} is damaged: ${issueLines(r.error).join('; ')}`);
  return r.data;
}

export interface RestoreOptions {
  /** An existing table to load the rows into, instead of a new partition. */
  into?: string;
  progress?: Progress;
}

export interface RestoreResult {
  table: string;
  rows: number;
  attached: boolean;
  manifest: Manifest;
}

/**
 * Loads an archive into a new table made LIKE the partitioned table and attaches it as the
 * partition [lower, upper) with partkeeper.attach_restored(); or, with `into`, loads it into that
 * table. One transaction: the rows are checked against the manifest (count and checksum) while they
 * load, and on any mismatch or error nothing is created, loaded or attached.
 */
export async function restoreArchive(db: Db, manifestFile: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const m = await readManifest(manifestFile);
  const dataFile = path.join(path.dirname(manifestFile), m.file);
  const st = await stat(dataFile).catch((e: Error) => {
    throw new ArchiveError(`the data file of ${manifestFile} cannot be read: ${e.message}`);
  });
  if (st.size !== m.bytes) throw new ArchiveError(`${dataFile} is damaged: ${st.size} bytes, the manifest says ${m.bytes}`);
  const progress = opts.progress ?? new Progress(false);

  try {
    return await db.transaction(async () => {
      await db.exec(COPY_SETTINGS);
      let target: string;
      let parent: string | undefined;
      if (opts.into) {
        target = (await db.one<{ t: string }>('select partkeeper.resolve_table($1)::text as t', [opts.into])).t;
      } else {
        const found = await db.one<{ parent: string | null }>('select to_regclass($1)::text as parent', [m.table]);
        if (!found.parent) {
          throw new DbError({
            code: 'PK002',
            message: `table ${m.table} of the archive does not exist`,
            hint: 'Restore into a table of your choice with --into.',
          });
        }
        parent = found.parent;
        // refuses before anything is loaded; attach_restored() checks the range again when it attaches
        target = (
          await db.one<{ t: string }>('select partkeeper.restore_target($1::regclass, $2, $3, $4) as t', [
            parent,
            m.lower,
            m.upper,
            m.partition,
          ])
        ).t;
      }

      // Every archived column must be there to take its values (further columns get their defaults).
      const have = new Set(
        (await db.query<{ name: string }>('select name from partkeeper.copyable_columns($1::regclass)', [target])).map((r) => r.name),
      );
      const missing = m.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
      if (missing.length) throw new ArchiveError(`${target} has no column ${missing.join(', ')} of the archive`);

      const label = `restore ${archivedPartition(m)}`;
      const what = `${dataFile} does not match its manifest`;
      // Verified on the way: the file's size and checksum, then the rows and checksum of its
      // content. A mismatch or a gzip error fails the stream, which aborts the COPY.
      const source: CopySource = [
        createReadStream(dataFile),
        new FileTap({ bytes: m.bytes, checksum: m.file_checksum, what: `${dataFile} is damaged` }),
        createGunzip(),
        new Tally({ rows: m.rows, checksum: m.checksum, what }, (t) => progress.update(rowsLine(label, t.rows, m.rows))),
      ];
      let rows: number;
      try {
        rows = await db.copyIn(`${target} (${m.columns.map((c) => escapeIdentifier(c.name)).join(', ')})`, COPY_OPTIONS, source);
      } catch (e) {
        if (e instanceof ArchiveError || e instanceof DbError) throw e;
        throw new ArchiveError(`${dataFile} is damaged: ${(e as Error).message}`);
      }
      progress.done(rowsLine(label, rows, m.rows));
      if (rows !== m.rows) throw new ArchiveError(`${label}: ${rows} rows loaded, the manifest says ${m.rows}`);
      if (parent)
        await db.query('select partkeeper.attach_restored($1::regclass, $2::regclass, $3::timestamptz, $4::timestamptz)', [
          parent,
          target,
          m.lower,
          m.upper,
        ]);
      return { table: target, rows, attached: !!parent, manifest: m };
    });
  } catch (e) {
    progress.done();
    throw e;
  }
}
