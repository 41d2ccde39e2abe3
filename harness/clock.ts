import type { Db } from '../src/db.ts';

/** Session-level fake "now" for partkeeper (null or '' = real time again). */
export async function setClock(db: Db, at: string | null): Promise<void> {
  await db.query(`select set_config('partkeeper.now', $1, false)`, [at ?? '']);
}

/**
 * Database-level fake "now", seen by sessions that start later (background
 * workers, pg_cron jobs). ALTER DATABASE takes no parameters, so format() quotes.
 */
export async function setDatabaseClock(db: Db, dbname: string, at: string | null): Promise<void> {
  const { sql } = await db.one<{ sql: string }>(
    `select case when coalesce($2, '') = '' then format('ALTER DATABASE %I RESET partkeeper.now', $1::text)
                 else format('ALTER DATABASE %I SET partkeeper.now = %L', $1::text, $2::text) end as sql`,
    [dbname, at],
  );
  await db.exec(sql);
}
