// The database right after installing the bundle, made once and cloned for every test that needs
// partkeeper installed but not the install itself: applying the bundle costs far more than a copy
// (PGlite: loading a dump instead of running every file in WASM; a server: CREATE DATABASE ...
// TEMPLATE instead of the whole script). Keyed by the bundle's text, so that an edited SQL file
// is never served from a state made before the edit.
import { createHash } from 'node:crypto';
import { applyBundle, bundleScript, repoRoot } from '../src/bundle.ts';
import type { Db } from '../src/db.ts';
import { cachedDump, dumpPglite } from '../src/pglite.ts';
import { openPostgres, withDatabase } from '../src/postgres.ts';

let current: string | undefined;
/**
 * Hash of the bundle as it is applied: every file the manifest names, in order, with the manifest
 * itself. Of this checkout (computed once per process) unless another root is given.
 */
export function bundleHash(root?: string): string {
  const hash = (r: string) => createHash('sha256').update(bundleScript(r)).digest('hex').slice(0, 16);
  return root === undefined ? (current ??= hash(repoRoot)) : hash(root);
}

/** The install every copy starts from: no partition made by the real clock (tests set their own). */
async function installForTests(db: Db): Promise<void> {
  await db.exec('set partkeeper.premake_on_install = off');
  await applyBundle(db);
}

/** PGlite: the data directory after installing the current bundle, from this process, the disk cache, or made now. */
export function installedDump(): Promise<Blob> {
  return cachedDump('installed', bundleHash(), () => dumpPglite(installForTests));
}

/** Server: the name of the template database holding the current bundle, given the run's prefix. */
export function templateName(runId: string): string {
  return `pk_${runId}_installed_${bundleHash()}`;
}

/** Server: creates the template database (see templateName) through the admin connection. */
export async function createTemplate(admin: Db, adminUrl: string, name: string): Promise<void> {
  // template0: a shared DATABASE_URL server may have things installed in template1
  await admin.exec(`CREATE DATABASE ${name} TEMPLATE template0`);
  const db = await openPostgres(withDatabase(adminUrl, name));
  try {
    await installForTests(db);
  } finally {
    await db.close();
  }
  // CREATE DATABASE ... TEMPLATE refuses a source that anyone is connected to: nobody may be.
  await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
}
