import { UsageError } from './command.ts';
import type { Db } from './db.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface Target {
  /** postgres:// URL; else DATABASE_URL; else libpq's PG* variables. */
  databaseUrl?: string | undefined;
  /** Folder of an embedded PGlite database (created when missing). */
  pglite?: string | undefined;
}

/** Opens the database a command works on: `--pglite DIR`, `--database-url`, `DATABASE_URL` or `PG*`. */
export async function openTarget(t: Target): Promise<Db> {
  if (t.pglite && t.databaseUrl) throw new UsageError('--pglite and --database-url exclude each other');
  if (t.pglite) return openPglite({ dataDir: t.pglite });
  return openPostgres(t.databaseUrl ?? process.env.DATABASE_URL, 'partkeeper');
}
