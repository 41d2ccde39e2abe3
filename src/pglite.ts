import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { MemoryFS, PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { parseTar } from 'nanotar';
import { Session, textParsers, toNotice, type Db } from './db.ts';

// initdb in WASM costs ~2.5 s, loading a dumped data dir ~0.5 s: every new database, in
// memory or in a new folder, is a clone of a dump, kept per process and on disk (for the
// next process: each command is one), keyed by the PGlite version and by what the dump holds.
const pkgDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..');
const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
const cacheDir = path.resolve(pkgDir, '../../.cache/partkeeper');
/** A dump of a given content grows stale when that content changes: older ones of its kind are removed after a day. */
const STALE_MS = 24 * 3600_000;
const dumps = new Map<string, Promise<Blob>>();

// The engine, read and compiled once per process and shared by every instance: each new PGlite
// would otherwise read and compile the 9 MB module again, and run its first queries on code V8
// has not optimised yet. Without the files where this version keeps them, PGlite finds its own.
type Engine = Pick<PGliteOptions, 'pgliteWasmModule' | 'fsBundle'>;
// lib ES2023 declares no WebAssembly; Node has it
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<Engine['pgliteWasmModule']> } }).WebAssembly;
let engine: Promise<Engine> | undefined;
const loadEngine = () =>
  (engine ??= (async () => {
    const wasm = path.join(pkgDir, 'dist', 'pglite.wasm');
    const data = path.join(pkgDir, 'dist', 'pglite.data');
    if (!existsSync(wasm) || !existsSync(data)) return {};
    return { pgliteWasmModule: await wasmApi.compile(readFileSync(wasm)), fsBundle: new Blob([readFileSync(data)]) };
  })());

// One session at a time needs few buffers. PostgreSQL's 128 MB makes every start grow the engine's
// memory past its initial 128 MB, which cost ~0.3 s of CPU per database opened (measured: ~1.1 s
// to open a dump and run a first query, ~0.65 s with 32 MB).
const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/** A file of a dumped data dir, by its path inside the data dir; no data: a directory. */
type DumpEntry = { path: string; data?: Uint8Array };
const unpacked = new WeakMap<Blob, Promise<DumpEntry[]>>();

/** The entries of a dump (an uncompressed ustar archive, as dumpDataDir('none') writes it), read once per dump. */
function entries(dump: Blob): Promise<DumpEntry[]> {
  let got = unpacked.get(dump);
  if (!got) {
    got = dump.arrayBuffer().then((buf) => {
      // file data are views into buf: no copy until a database takes its own
      const out = parseTar(buf).flatMap((e): DumpEntry[] => {
        const name = e.name.replace(/\/+$/, '');
        if (!name) return [];
        if (e.type === 'directory') return [{ path: name }];
        if (e.type === 'file') return [{ path: name, data: e.data ?? new Uint8Array(0) }];
        throw new Error(`not a dump of a PostgreSQL data dir: ${e.name} is a ${e.type}`);
      });
      if (!out.some((e) => e.path === 'PG_VERSION')) throw new Error('not a dump of a PostgreSQL data dir: no PG_VERSION');
      return out;
    });
    unpacked.set(dump, got);
  }
  return got;
}

/**
 * PGlite's in-memory file system with a copy of a dump's files in place before PostgreSQL starts:
 * what loadDataDir does, without unpacking the archive again for every database (~0.3 s of CPU).
 */
class CopyFS extends MemoryFS {
  readonly #files: DumpEntry[];
  constructor(files: DumpEntry[]) {
    super();
    this.#files = files;
  }
  override async init(...args: Parameters<MemoryFS['init']>): ReturnType<MemoryFS['init']> {
    const { emscriptenOpts } = await super.init(...args);
    const fill = (mod: { FS: { mkdirTree(path: string): void; writeFile(path: string, data: Uint8Array): void } }) => {
      const root = PGlite.paths.PGDATA;
      mod.FS.mkdirTree(root);
      // a copy of each file: the database writes to them
      for (const f of this.#files) {
        if (f.data) mod.FS.writeFile(`${root}/${f.path}`, f.data.slice());
        else mod.FS.mkdirTree(`${root}/${f.path}`);
      }
    };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), fill] } };
  }
}

/** Writes a dump's files into a new data dir, as PGlite's loadDataDir would through its file system. */
function writeDump(files: DumpEntry[], dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  for (const f of files) {
    const to = path.join(dataDir, f.path);
    if (f.data) writeFileSync(to, f.data);
    else mkdirSync(to, { recursive: true });
  }
}

async function create(options: { dataDir?: string; fs?: MemoryFS }): Promise<PGlite> {
  const pg = new PGlite({ ...options, ...(await loadEngine()), startParams, parsers: textParsers });
  await pg.waitReady;
  return pg;
}

function wrap(pg: PGlite): Db {
  return new Session({
    kind: 'pglite',
    async rows(sql, params, onNotice) {
      return (await pg.query<Record<string, unknown>>(sql, params, { onNotice: (n) => onNotice(toNotice(n)) })).rows;
    },
    async script(sql, onNotice) {
      await pg.exec(sql, { onNotice: (n) => onNotice(toNotice(n)) });
    },
    // PGlite's COPY goes through an in-memory Blob ('/dev/blob'): not streamed, so it needs memory
    // for the whole data; fine for the embedded databases it serves.
    async copyOut(query, options) {
      const r = await pg.query(`copy (${query}) to '/dev/blob' ${options}`);
      const blob = r.blob ?? new Blob([]);
      return { data: Readable.fromWeb(blob.stream() as ReadableStream<Uint8Array>), rows: () => r.affectedRows ?? 0 };
    },
    async copyIn(target, options, source) {
      const chunks: Uint8Array[] = [];
      await pipeline([
        ...source,
        new Writable({
          write: (c: Buffer, _e, cb) => {
            chunks.push(c);
            cb();
          },
        }),
      ]);
      const r = await pg.query(`copy ${target} from '/dev/blob' ${options}`, [], { blob: new Blob(chunks) });
      return r.affectedRows ?? 0;
    },
    close: () => pg.close(),
  });
}

function cacheFile(kind: string, key: string): string {
  return path.join(cacheDir, `pglite-${version}-${kind}${key ? `-${key}` : ''}.tar`);
}

function readCache(file: string): Blob | undefined {
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return undefined;
  }
}

async function writeCache(file: string, kind: string, dump: Blob): Promise<void> {
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Rename is atomic: concurrent workers never read a half-written dump.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()));
    renameSync(tmp, file);
    const prefix = `pglite-${version}-${kind}-`;
    for (const name of readdirSync(cacheDir)) {
      const other = path.join(cacheDir, name);
      if (name.startsWith(prefix) && name.endsWith('.tar') && other !== file && Date.now() - statSync(other).mtimeMs > STALE_MS) {
        rmSync(other, { force: true });
      }
    }
  } catch {
    // read-only node_modules: the per-process dump still works
  }
}

/**
 * The dump of `kind` (with `key` naming its content), from this process, else from the disk
 * cache, else made by make() and cached. Concurrent callers wait for the same dump.
 */
export function cachedDump(kind: string, key: string, make: () => Promise<Blob>): Promise<Blob> {
  const file = cacheFile(kind, key);
  let dump = dumps.get(file);
  if (!dump) {
    dump = (async () => {
      const cached = readCache(file);
      if (cached) return cached;
      const made = await make();
      await writeCache(file, kind, made);
      return made;
    })();
    dumps.set(file, dump);
    dump.catch(() => dumps.delete(file));
  }
  return dump;
}

const pristine = () =>
  cachedDump('pristine', '', async () => {
    const pg = await create({});
    try {
      return await pg.dumpDataDir('none');
    } finally {
      await pg.close();
    }
  });

/**
 * In-memory unless dataDir is given, which persists on disk. A new database (in memory, or a data
 * dir without PG_VERSION) starts as a clone of `from` (a dump of another database, see dumpPglite),
 * else of a pristine one: for a new data dir PGlite itself runs initdb in memory and loads its dump
 * into the folder, which is the same without initdb's cost. `from` is ignored for an existing data dir.
 */
export async function openPglite(opts: { dataDir?: string; from?: Blob } = {}): Promise<Db> {
  const files = async () => entries(opts.from ?? (await pristine()));
  if (!opts.dataDir) return wrap(await create({ fs: new CopyFS(await files()) }));
  if (!existsSync(path.join(opts.dataDir, 'PG_VERSION'))) writeDump(await files(), opts.dataDir);
  return wrap(await create({ dataDir: opts.dataDir }));
}

/** A new in-memory database after prepare(db), dumped for openPglite({ from }). */
export async function dumpPglite(prepare: (db: Db) => Promise<void>): Promise<Blob> {
  const pg = await create({ fs: new CopyFS(await entries(await pristine())) });
  try {
    await prepare(wrap(pg));
    // Flushed to the data files, so that each clone starts without replaying WAL.
    await pg.exec('checkpoint');
    return await pg.dumpDataDir('none');
  } finally {
    await pg.close();
  }
}
