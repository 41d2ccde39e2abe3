import { pipeline } from 'node:stream/promises';
import pg, { escapeIdentifier } from 'pg';
import pgPass from 'pgpass';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DbError, Session, TEXT_ARRAY_OIDS, textParsers, toNotice, type Db, type Notice } from './db.ts';

// Same value shapes as PGlite: date/time, int8 and numeric stay text, arrays of
// them become string[] (the text[] parser), json/jsonb use pg's JSON parser.
const builtin = pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown;
const textArray = builtin(1009 /* text[] */);
// JS Date parameters as UTC, as PGlite sends them (pg would use the process's zone).
pg.defaults.parseInputDatesAsUTC = true;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    textParsers[oid] ?? (TEXT_ARRAY_OIDS.includes(oid) ? textArray : builtin(oid, format))) as typeof pg.types.getTypeParser,
};

/**
 * A Db over one connection to the server at `url` (a postgres:// URL; without one, PGHOST, PGPORT,
 * PGDATABASE, PGUSER and PGPASSWORD as libpq reads them, then ~/.pgpass when the server asks for a
 * password). One pg.Client, not a pool: session state (SET partkeeper.now, roles, temp tables,
 * advisory locks) must stay on the connection its caller holds. `applicationName` is what
 * pg_stat_activity shows: PGAPPNAME, else 'partkeeper'; the URL's application_name wins over both. The connect timeout is the URL's connect_timeout, else PGCONNECT_TIMEOUT,
 * else 30 seconds (at least 2). Throws DbError with the server's SQLSTATE when the server refuses the
 * session (28P01 a wrong or missing password, 3D000 no such database), the driver's Error when no
 * server answers (ECONNREFUSED, the timeout). Once the connection is lost, every later call throws
 * the reason as a DbError (the server's FATAL, else 08006). Takes no lock.
 */
export async function openPostgres(url?: string, applicationName = process.env.PGAPPNAME || 'partkeeper'): Promise<Db> {
  // Without a URL, node-postgres reads PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD like libpq.
  const client = new pg.Client({
    ...(url ? { connectionString: url } : {}),
    types,
    application_name: applicationName,
    // libpq waits for ever by default; a command line run from cron must not
    connectionTimeoutMillis: connectTimeoutSeconds(url) * 1000,
  });
  // Without a password in the URL or PGPASSWORD, ~/.pgpass is read only when the server asks for one
  // (by us, so that the driver prints no deprecation warning about it), and a missing one is an error
  // at once: node-postgres would otherwise send none and wait for ever in the middle of SCRAM.
  const withPassword = client as unknown as { password: unknown };
  if (!withPassword.password) withPassword.password = passwordFile;
  // A dead connection must fail every later call with the reason, as a DbError:
  // the server's FATAL (57P01 terminated, 57P02 crash...) when it sent one, else
  // 08006 connection_failure (reset, EOF). pg reports deaths while idle as an
  // 'error' event, which would also crash the process if nobody listened.
  let lost: unknown;
  client.on('error', (e) => (lost ??= e));
  const dead = (e: unknown) => {
    for (const c of [lost, e]) {
      const d = DbError.from(c);
      if (d instanceof DbError) return d;
    }
    const cause = lost ?? e;
    return new DbError({ code: '08006', message: `connection lost: ${cause instanceof Error ? cause.message : String(cause)}` }, cause);
  };
  let notify: (n: Notice) => void = () => {};
  client.on('notice', (m) => notify(toNotice(m)));
  try {
    await client.connect();
  } catch (e) {
    // the socket may still be open (an error raised on the client side): close it, or the process stays
    await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    throw DbError.from(e);
  }

  // A COPY TO stream left before its end keeps the socket paused with data in flight: no later
  // message would get through, so the session is unusable and close() drops the socket.
  let abandoned = false;
  const run = async (config: pg.QueryConfig, onNotice: (n: Notice) => void) => {
    if (lost) throw dead(lost);
    if (abandoned) throw new DbError({ code: '08006', message: 'connection unusable: a COPY was abandoned before its end' });
    notify = onNotice;
    try {
      return await client.query(config);
    } catch (e) {
      if (/^(FATAL|PANIC)$/.test((e as { severity?: string }).severity ?? '')) lost ??= e;
      throw lost ? dead(e) : e;
    }
  };
  return new Session({
    kind: 'postgres',
    // queryMode 'extended' even without parameters: like PGlite, one statement only.
    rows: async (sql, params, onNotice) =>
      (await run({ text: sql, values: params, queryMode: 'extended' } as pg.QueryConfig, onNotice)).rows,
    script: async (sql, onNotice) => void (await run({ text: sql }, onNotice)),
    async copyOut(query, options) {
      if (lost) throw dead(lost);
      const stream = client.query(copyTo(`copy (${query}) to stdout ${options}`));
      stream.once('close', () => void (abandoned ||= !stream.readableEnded));
      return { data: stream, rows: () => stream.rowCount };
    },
    async copyIn(target, options, source) {
      if (lost) throw dead(lost);
      // An error in any stream destroys the COPY stream, which sends CopyFail: the server aborts
      // the COPY and the session stays usable.
      const sink = client.query(copyFrom(`copy ${target} from stdin ${options}`));
      await pipeline([...source, sink]);
      return sink.rowCount;
    },
    async close() {
      if (!abandoned) return client.end();
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  });
}

/** The password for these connection parameters from the password file (PGPASSFILE, ~/.pgpass), or a 28P01 DbError. */
async function passwordFile(params: { user?: string }): Promise<string> {
  const found = await new Promise<string | undefined>((resolve) => pgPass(params, resolve));
  if (found !== undefined) return found;
  throw new DbError({
    code: '28P01',
    message: `the server asks for a password for user "${params.user ?? ''}" and none was given`,
    hint: 'Put it in the URL (postgres://user:password@host/db), in PGPASSWORD, or in ~/.pgpass (PGPASSFILE); or let pg_hba.conf trust or peer-authenticate this user.',
  });
}

/** connect_timeout of the URL, else PGCONNECT_TIMEOUT, else 30 seconds (libpq: 0, wait for ever). */
function connectTimeoutSeconds(url: string | undefined): number {
  let fromUrl: string | null = null;
  try {
    fromUrl = url ? new URL(url).searchParams.get('connect_timeout') : null;
  } catch {
    // not a URL node-postgres understands either: it reports that itself
  }
  const n = Number(fromUrl ?? process.env.PGCONNECT_TIMEOUT ?? 30);
  return Number.isFinite(n) && n > 0 ? Math.max(2, n) : 30;
}

/** The same server URL pointing at another database (works for socket and TCP URLs). */
export function withDatabase(url: string, database: string): string {
  const m = /^(postgres(?:ql)?:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/.exec(url);
  if (!m) throw new Error(`not a postgres:// URL: ${url}`);
  return `${m[1]}/${encodeURIComponent(database)}${m[3]}`;
}

/** Terminates the database's sessions (tests' leftovers, pg_cron workers) and drops it with its cron jobs. */
export async function dropDatabase(a: Db, name: string): Promise<void> {
  // WITH (FORCE) is pg_terminate_backend on every session of that database, then the drop.
  await a.exec(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
  // pg_cron keeps jobs for other databases in its own database; left there they fail every run.
  const [cron] = await a.query<{ ok: boolean }>(`select to_regclass('cron.job') is not null as ok`);
  if (cron?.ok) await a.query('delete from cron.job where database = $1', [name]);
}
