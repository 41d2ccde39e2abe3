import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

/**
 * The package root (where `sql/install.sql` is), found upwards from this module, so that neither
 * the working directory nor running from the sources (`src/`) or the build (`dist/src/`) matters.
 */
export const repoRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'sql', 'install.sql'))) return d + path.sep;
    if (path.dirname(d) === d) throw new Error(`sql/install.sql not found above ${dir}`);
  }
}
/**
 * The manifest, relative to the package root: every SQL file of the install in the order psql runs
 * it (`\ir` lines). bundleScript() and manifestFiles() read it; it is also what a DBA runs with psql.
 */
export const MANIFEST = 'sql/install.sql';

// psql's include-relative, long or short form, path optionally single-quoted.
const INCLUDE = /^\s*\\(?:ir|include_relative)\s+(?:'([^']+)'|(\S+))\s*$/;
const META = /^\s*\\/;

type Part = { kind: 'sql'; text: string } | { kind: 'file'; rel: string; parts: Part[] };

// Line-based on purpose: the manifest convention is one `\ir` per line, and a
// plain-SQL bundle must not contain any other psql meta-command.
function expand(root: string, rel: string, stack: string[]): Part[] {
  const abs = path.join(root, rel);
  if (stack.includes(rel)) throw new Error(`\\ir cycle: ${[...stack, rel].join(' -> ')}`);
  if (!existsSync(abs)) throw new Error(`${stack.at(-1) ?? 'manifest'}: included file ${rel} does not exist`);
  const parts: Part[] = [];
  const lines = readFileSync(abs, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const inc = INCLUDE.exec(line);
    if (inc) {
      const child = path.posix.normalize(path.posix.join(path.posix.dirname(rel), (inc[1] ?? inc[2])!));
      parts.push({ kind: 'file', rel: child, parts: expand(root, child, [...stack, rel]) });
    } else if (META.test(line)) {
      throw new Error(`${rel}:${i + 1}: psql meta-command not allowed (only \\ir is): ${line.trim()}`);
    } else {
      // Re-join with the newline split removed, except after the file's last line.
      parts.push({ kind: 'sql', text: i < lines.length - 1 ? `${line}\n` : line });
    }
  });
  return parts;
}

/** Files included by the manifest, depth-first in include order, repo-relative (duplicates kept so tests can see them). */
export function manifestFiles(root = repoRoot, manifest = MANIFEST): string[] {
  const walk = (parts: Part[]): string[] => parts.flatMap((p) => (p.kind === 'file' ? [p.rel, ...walk(p.parts)] : []));
  return walk(expand(root, manifest, []));
}

/** The manifest as one plain SQL script: each `\ir` line replaced by the file's content. */
export function bundleScript(root = repoRoot, manifest = MANIFEST): string {
  const render = (parts: Part[]): string =>
    parts
      .map((p) => {
        if (p.kind === 'sql') return p.text;
        const body = render(p.parts);
        return body.endsWith('\n') ? body : `${body}\n`;
      })
      .join('');
  return render(expand(root, manifest, []));
}

/**
 * Installs or upgrades partkeeper in `db`'s database from the files under `root`, as psql would run
 * the manifest, for environments without psql (PGlite, the command line's `apply`): the expanded
 * script is sent as one simple-protocol script. The manifest's own BEGIN/COMMIT make it one
 * transaction: it completes or changes nothing, so call it outside `db.transaction()`. It waits for
 * the install advisory lock, so installs into one database run one after the other, and takes the
 * locks of its DDL (ACCESS EXCLUSIVE on partkeeper's own tables a migration changes; SHARE UPDATE
 * EXCLUSIVE on a registered table whose partitions it makes). Throws Error when the manifest names a
 * missing file, includes itself or holds another psql meta-command (before anything is sent), and
 * DbError from the failing statement: PK009 when the role lacks the rights install needs, PK001 for
 * a bad partkeeper.* setting. Idempotent: applying it again upgrades in place.
 */
export async function applyBundle(db: Db, root = repoRoot): Promise<void> {
  await db.exec(bundleScript(root));
}
