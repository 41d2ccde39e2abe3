import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleScript, manifestFiles, repoRoot } from '../src/bundle.ts';

function sqlFiles(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sqlFiles(path.posix.join(dir, e.name)) : e.name.endsWith('.sql') ? [path.posix.join(dir, e.name)] : [],
  );
}

describe('sql/install.sql manifest', () => {
  it('lists every sql/ file exactly once, and only files that exist', () => {
    const listed = manifestFiles(); // throws if a listed file is missing
    const dupes = listed.filter((f, i) => listed.indexOf(f) !== i);
    expect(dupes, 'listed more than once').toEqual([]);
    // the two entry points: install.sql (this manifest) and uninstall.sql (a script of its own)
    const onDisk = sqlFiles('sql').filter((f) => f !== 'sql/install.sql' && f !== 'sql/uninstall.sql');
    expect(
      onDisk.filter((f) => !listed.includes(f)),
      'not in the manifest',
    ).toEqual([]);
    expect(
      listed.filter((f) => !onDisk.includes(f)),
      'listed but not under sql/',
    ).toEqual([]);
  });

  it('bundles into plain SQL', () => {
    expect(bundleScript()).not.toMatch(/^\s*\\/m);
    expect(bundleScript(undefined, 'sql/uninstall.sql')).not.toMatch(/^\s*\\/m);
  });
});

describe('bundleScript', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'partkeeper-manifest-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };

  it('inlines nested \\ir relative to the including file, keeping other lines verbatim', () => {
    write('sql/install.sql', "-- head\n\\ir core/a.sql\nselect 'between';\n\\ir 'z.sql'\n-- tail\n");
    write('sql/core/a.sql', 'select 1;\n\\ir ../lib/b.sql\nselect 3;');
    write('sql/lib/b.sql', 'select 2;\n');
    write('sql/z.sql', "  select '\\\\not a meta command';\n");
    expect(manifestFiles(root)).toEqual(['sql/core/a.sql', 'sql/lib/b.sql', 'sql/z.sql']);
    expect(bundleScript(root)).toBe(
      "-- head\nselect 1;\nselect 2;\nselect 3;\nselect 'between';\n  select '\\\\not a meta command';\n-- tail\n",
    );
  });

  it('rejects any other psql meta-command, missing files and cycles', () => {
    write('sql/install.sql', '\\ir a.sql\n');
    write('sql/a.sql', 'select 1;\n\\set ON_ERROR_STOP on\n');
    expect(() => bundleScript(root)).toThrow(/sql\/a\.sql:2: psql meta-command not allowed.*\\set ON_ERROR_STOP on/);
    write('sql/install.sql', '\\i a.sql\n');
    expect(() => bundleScript(root)).toThrow(/install\.sql:1: psql meta-command/);
    write('sql/install.sql', '\\ir missing.sql\n');
    expect(() => bundleScript(root)).toThrow(/missing\.sql does not exist/);
    write('sql/install.sql', '\\ir a.sql\n');
    write('sql/a.sql', '\\ir install.sql\n');
    expect(() => bundleScript(root)).toThrow(/cycle/);
  });
});
