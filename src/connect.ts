import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './command.ts';
import type { Db } from './db.ts';

export interface Target {
  /** A postgres:// or postgresql:// URL, or a libpq keyword/value string; else DATABASE_URL; else libpq's PG* variables. */
  databaseUrl?: string | undefined;
  /** Folder of an embedded PGlite database (created when missing or empty). */
  pglite?: string | undefined;
}

/**
 * Opens the database a command works on: `--pglite DIR`, `--database-url`, `DATABASE_URL` or `PG*`.
 * The drivers are loaded here, on first use, so that a command that needs no database starts fast.
 * --pglite wins when both are given (the command line refuses both: cli.ts). Throws UsageError for
 * a connection string that is neither a postgres URL nor libpq keyword/value pairs, and a --pglite
 * folder that holds something else than a database;
 * connection failures come from the driver (DbError with SQLSTATE, or the system error).
 */
export async function openTarget(t: Target): Promise<Db> {
  if (t.pglite) {
    checkPgliteDir(t.pglite);
    const { openPglite } = await import('./pglite.ts');
    return openPglite({ dataDir: t.pglite });
  }
  const given = t.databaseUrl ?? process.env.DATABASE_URL;
  const url = given === undefined || given === '' ? undefined : connectionUrl(given, t.databaseUrl ? '--database-url' : 'DATABASE_URL');
  const { openPostgres } = await import('./postgres.ts');
  return openPostgres(url, 'partkeeper');
}

/**
 * A --pglite folder must be missing, empty, or a PostgreSQL data directory (it has PG_VERSION):
 * PGlite would otherwise write a cluster among someone else's files.
 */
function checkPgliteDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--pglite ${dir}: not a folder`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  if (readdirSync(dir).length > 0)
    throw new UsageError(`--pglite ${dir}: the folder is not empty and holds no database (no PG_VERSION); name a new or empty folder`);
}

// libpq's keywords that node-postgres understands, by the name it reads them under in a URL
const KEYWORDS: Record<string, string> = {
  host: 'host',
  hostaddr: 'host',
  port: 'port',
  dbname: 'dbname',
  user: 'user',
  password: 'password',
  application_name: 'application_name',
  options: 'options',
  sslmode: 'sslmode',
  sslcert: 'sslcert',
  sslkey: 'sslkey',
  sslrootcert: 'sslrootcert',
  connect_timeout: 'connect_timeout',
};

/**
 * A connection string as node-postgres' URL: a postgres:// or postgresql:// URL as it is, or libpq's
 * keyword/value form (`host=/run/postgresql dbname=app user='me'`, values optionally in single quotes
 * with \' and \\ escapes) rewritten as one. UsageError for another URL scheme, an unknown keyword or
 * a malformed pair; `what` names the option or variable in the message.
 */
export function connectionUrl(s: string, what = 'the connection string'): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s.trim());
  if (scheme) {
    if (/^postgres(ql)?$/i.test(scheme[1]!)) return s.trim();
    throw new UsageError(
      `${what}: ${scheme[1]}:// is not a PostgreSQL URL; use postgres://user@host:port/database or libpq's key=value form`,
    );
  }
  const pairs = parseKeywords(s, what);
  if (!pairs) throw new UsageError(`${what}: neither a postgres:// URL nor libpq key=value pairs: ${JSON.stringify(s)}`);
  const params = new URLSearchParams();
  let database = '';
  for (const [key, value] of pairs) {
    const name = KEYWORDS[key];
    if (!name) throw new UsageError(`${what}: unknown connection keyword "${key}" (known: ${Object.keys(KEYWORDS).join(', ')})`);
    if (name === 'dbname') database = value;
    else params.set(name, value);
  }
  return `postgresql:///${encodeURIComponent(database)}${params.size ? `?${params}` : ''}`;
}

/** libpq's keyword = value pairs (whitespace around '=' allowed), or null when s is not of that form. */
function parseKeywords(s: string, what: string): [string, string][] | null {
  const pairs: [string, string][] = [];
  let i = 0;
  const space = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  space();
  while (i < s.length) {
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))?.[0];
    if (!key) return null;
    i += key.length;
    space();
    if (s[i] !== '=') return null;
    i++;
    space();
    let value = '';
    if (s[i] === "'") {
      i++;
      for (;;) {
        if (i >= s.length) throw new UsageError(`${what}: unterminated quoted value of "${key}"`);
        const c = s[i++]!;
        if (c === "'") break;
        value += c === '\\' && i < s.length ? s[i++]! : c;
      }
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) {
        const c = s[i++]!;
        value += c === '\\' && i < s.length ? s[i++]! : c;
      }
    }
    pairs.push([key.toLowerCase(), value]);
    space();
  }
  return pairs.length ? pairs : null;
}
