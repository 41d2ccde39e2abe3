import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { PGlite } from '@electric-sql/pglite';
import { Session, textParsers, toNotice, type Db } from './db.ts';

// initdb in WASM costs ~2.5 s, loading a dumped data dir ~0.5 s: every in-memory
// database is a clone of one pristine dump, kept per process and on disk
// (vitest forks a process per test file), keyed by the PGlite version.
const pkgDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..');
const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
const cacheFile = path.resolve(pkgDir, '../../.cache/partkeeper', `pglite-${version}-pristine.tar`);
let pristine: Promise<Blob> | undefined;

async function create(options: { dataDir?: string; loadDataDir?: Blob }): Promise<PGlite> {
  const pg = new PGlite({ ...options, parsers: textParsers });
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

function readCache(): Blob | undefined {
  try {
    return new Blob([readFileSync(cacheFile)]);
  } catch {
    return undefined;
  }
}

async function writeCache(dump: Blob): Promise<void> {
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    // Rename is atomic: concurrent workers never read a half-written dump.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()));
    renameSync(tmp, cacheFile);
  } catch {
    // read-only node_modules: the per-process dump still works
  }
}

/** In-memory (cloned from the pristine dump) unless dataDir is given, which persists on disk. */
export async function openPglite(opts: { dataDir?: string } = {}): Promise<Db> {
  if (opts.dataDir) return wrap(await create({ dataDir: opts.dataDir }));
  const made: { first?: PGlite } = {};
  if (!pristine) {
    // Stored synchronously so concurrent callers wait for the same dump. Without
    // a disk cache the initdb'd instance is itself pristine: dump it, hand it out.
    pristine = (async () => {
      const cached = readCache();
      if (cached) return cached;
      made.first = await create({});
      const dump = await made.first.dumpDataDir('none');
      await writeCache(dump);
      return dump;
    })();
    pristine.catch(() => (pristine = undefined));
  }
  const dump = await pristine;
  return wrap(made.first ?? (await create({ loadDataDir: dump })));
}
