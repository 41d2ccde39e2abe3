// The npm package as a DBA gets it: `npm pack`, installed from the tarball into a folder that is not
// this checkout (as a dependency and globally), with nothing but Node and npm's local cache; then
// --version, apply and maintain against a database, and the library export from plain ESM.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDb, repoRoot, target } from '../harness/testing.ts';
import { runChild } from '../harness/child.ts';

const root = mkdtempSync(path.join(tmpdir(), 'partkeeper-package-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    // the install must not find this checkout's packages: a folder of its own, npm's cache only
    env: { ...process.env, NODE_PATH: '' },
  });

describe('the npm package', () => {
  let tarball: string;
  const app = path.join(root, 'app');
  const global = path.join(root, 'global');

  beforeAll(() => {
    // the build is npm test's first step (prepack runs it for a real `npm pack`); packing here must not
    // rewrite dist/ under the other test files that run it
    if (!existsSync(path.join(repoRoot, 'dist/src/cli.js'))) throw new Error('no dist/: run `npm run build` first');
    const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', root], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    tarball = path.join(root, name.split('\n').at(-1)!);
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    npm(['install', tarball], app);
    npm(['install', '--global', '--prefix', global, tarball], root);
  }, 300_000);

  it('holds the build, the SQL bundle, the LICENSE, and no sources or tests', () => {
    const pkg = path.join(app, 'node_modules/partkeeper');
    for (const f of [
      'dist/src/cli.js',
      'dist/src/index.js',
      'sql/install.sql',
      'sql/uninstall.sql',
      'LICENSE',
      'README.md',
      'schemas/status.schema.json',
    ])
      expect(existsSync(path.join(pkg, f)), f).toBe(true);
    expect(readdirSync(pkg).sort()).not.toEqual(expect.arrayContaining(['src', 'test', 'harness', 'bench']));
    expect(existsSync(path.join(app, 'node_modules/tsx'))).toBe(false);
  });

  it('partkeeper --version from PATH (global install) and from the dependency, well under a second', async () => {
    const bin = path.join(global, 'bin/partkeeper');
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runChild(['--version'], { bin, cwd: root, timeoutMs: 10_000 }));
    expect(runs[0]).toMatchObject({ code: 0, stdout: expect.stringMatching(/^partkeeper \d+\.\d+\.\d+\n$/) });
    expect(Math.min(...runs.map((r) => r.ms))).toBeLessThan(1000);
    const local = await runChild(['--help'], { bin: path.join(app, 'node_modules/.bin/partkeeper'), cwd: app, timeoutMs: 10_000 });
    expect(local.stdout).toMatch(/^usage: partkeeper <command>/);
  });

  it('apply and maintain against a database, with no checkout', async () => {
    const bin = path.join(global, 'bin/partkeeper');
    const where = target === 'pglite' ? ['--pglite', path.join(root, 'db')] : ['--database-url', (await freshDb({ bundle: false })).url!];
    const applied = await runChild(['apply', ...where], { bin, cwd: root, timeoutMs: 120_000 });
    expect(applied.stderr).not.toMatch(/\n\s+at /);
    expect(applied).toMatchObject({ code: 0, stdout: expect.stringMatching(/^partkeeper none -> \d+\.\d+\.\d+\n$/) });
    const maintained = await runChild(['maintain', ...where], { bin, cwd: root, timeoutMs: 120_000 });
    expect(maintained.code, maintained.stderr).toBe(0);
    expect(maintained.stdout).toMatch(/^public\.livechat_messages: ok/m);
  }, 250_000);

  it('the library export loads from plain ESM', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('partkeeper'); console.log(typeof m.ensurePartitionsAtStartup)"],
      { cwd: app, encoding: 'utf8' },
    );
    expect(out).toBe('function\n');
  });
});
