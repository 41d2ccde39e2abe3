// The DBA's path: psql itself runs sql/install.sql (\ir and all), twice, on an adopted table.
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { describeServer, freshDb, itServer, repoRoot } from '../harness/testing.ts';
import { createOriginalTable, fingerprint, partitions } from '../harness/support.ts';

function psql(url: string, ...args: string[]): string {
  return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describeServer('psql -v ON_ERROR_STOP=1 -f sql/install.sql (PostgreSQL server)', () => {
  itServer('adopts the original table twice over and the documented calls work', async () => {
    const db = await freshDb({ bundle: false });
    await createOriginalTable(db);
    const before = await fingerprint(db);

    // install makes the current months: those of the clock the documented calls below use
    const clock = `SET partkeeper.now = '2025-08-20 10:00+00'`;
    psql(db.url!, '-c', clock, '-f', 'sql/install.sql');
    psql(db.url!, '-c', clock, '-f', 'sql/install.sql');

    expect(await fingerprint(db)).toEqual(before);
    const out = psql(
      db.url!,
      '-At',
      '-c',
      `SET partkeeper.now = '2025-08-20 10:00+00'`,
      '-c',
      `SELECT create_monthly_partition('livechat_messages', '2025-09-01'::date);`,
      '-c',
      'SELECT ensure_livechat_partitions();',
      '-c',
      `SELECT tablename FROM pg_tables WHERE tablename LIKE 'livechat_messages_%' ORDER BY tablename;`,
    );
    expect(out.trim().split('\n')).toEqual([
      'livechat_messages_2025_09',
      '{livechat_messages_2025_08,livechat_messages_2025_09,livechat_messages_2025_10}',
      ...['2025_04', '2025_05', '2025_06', '2025_07', '2025_08', '2025_09', '2025_10', 'default'].map((s) => `livechat_messages_${s}`),
    ]);
    expect((await partitions(db)).filter((p) => !p.is_default).every((p) => p.lower!.endsWith('-01 00:00:00'))).toBe(true);
    expect(await fingerprint(db)).toEqual(before);
  });

  itServer('installs without the reference table when told, says only its own notices, and sql/uninstall.sql removes it', async () => {
    const db = await freshDb({ bundle: false });
    const run = (...args: string[]) =>
      execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-d', db.url!, ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const install = spawnSync(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url!, '-c', 'SET partkeeper.create_reference_table = off', '-f', 'sql/install.sql'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    expect(install.status, install.stderr).toBe(0);
    const notices = install.stderr.split('\n').filter((l) => /NOTICE|WARNING/.test(l));
    expect(notices.filter((l) => !/(NOTICE|WARNING):\s+partkeeper: /.test(l))).toEqual([]);
    expect(install.stderr).toMatch(/livechat_messages not created \(partkeeper\.create_reference_table is off\)/);
    expect(await db.one(`select to_regclass('public.livechat_messages') is null as none`)).toEqual({ none: true });
    run('-f', 'sql/uninstall.sql');
    expect(await db.one(`select to_regnamespace('partkeeper') is null as gone`)).toEqual({ gone: true });
  });

  itServer('installs around a plain livechat_messages, leaves it as it is and says how to convert it', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec(`create table livechat_messages (id bigint, created_at timestamptz)`);
    const run = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url!, '-f', 'sql/install.sql'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const { stderr } = run;
    expect(stderr).toMatch(/WARNING: {2}partkeeper: public.livechat_messages is a plain table/);
    expect(stderr).toMatch(/partkeeper convert/);
    expect(await db.one(`select relkind::text as k from pg_class where oid = 'livechat_messages'::regclass`)).toEqual({ k: 'r' });
    expect(await db.one(`select to_regnamespace('partkeeper') is not null as installed`)).toEqual({ installed: true });
  });
});
