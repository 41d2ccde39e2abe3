// Retention: expired partitions dropped or detached, never the current period or DEFAULT, archives
// required when configured, and the lock discipline of every DDL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archivePartition } from '../src/archive.ts';
import { expectSqlState, freshDb, itServer, setClock } from '../harness/testing.ts';
import { codes, health, maintain, partitions, status } from '../harness/support.ts';

const months = async (db: Parameters<typeof partitions>[0]) =>
  (await partitions(db)).filter((p) => !p.is_default).map((p) => p.lower!.slice(0, 7));

describe('retention', () => {
  it('drops exactly the partitions wholly older than now - retention, and reports them', async () => {
    const db = await freshDb();
    await setClock(db, '2026-01-10 00:00:00+00');
    await db.query(
      `select create_monthly_partition('livechat_messages', d::date) from generate_series(date '2025-09-01', date '2025-12-01', interval '1 month') d`,
    );
    await maintain(db);
    await db.query(
      `insert into livechat_messages (room_id, sender_id, body, created_at) select 1, 1, 'x', d from generate_series(timestamptz '2025-09-01', '2026-01-09', interval '1 day') d`,
    );
    await db.query(`select partkeeper.configure('livechat_messages', p_retention => '3 months')`);
    const run = await maintain(db);
    // 2026-01-10 - 3 months = 2025-10-10: September and October... October ends 2025-11-01, after it
    expect(run.retired.map((r) => [r.partition, r.mode])).toEqual([['public.livechat_messages_2025_09', 'drop']]);
    expect(run.retired[0]!.bytes).toBeGreaterThan(0);
    expect(run.next_expiry).toEqual({ partition: 'public.livechat_messages_2025_10', at: '2026-02-01T00:00:00+00:00' });
    expect(await months(db)).toEqual(['2025-10', '2025-11', '2025-12', '2026-01', '2026-02', '2026-03']);
    expect(await db.one(`select count(*)::int as n from livechat_messages where created_at < '2025-10-01'`)).toEqual({ n: 0 });
    expect(await db.one(`select count(*)::int as n from partkeeper.log where action = 'retire'`)).toEqual({ n: 1 });
    const [table] = (await status(db)).tables;
    if (!table?.exists) throw new Error(`status() lists no livechat_messages: ${JSON.stringify(table)}`);
    expect(table.retention).toMatchObject({ retired: 1 });
    expect(table.retention.bytes_freed).toBeGreaterThan(0);

    // a clock jump retires everything that expired meanwhile, never the current month or DEFAULT
    await db.query(`select partkeeper.configure('livechat_messages', p_retention => '1 day')`);
    await setClock(db, '2026-03-02 12:00:00+00'); // February ended more than a day ago
    const later = await maintain(db);
    expect(later.retired.map((r) => r.partition.slice(-7))).toEqual(['2025_10', '2025_11', '2025_12', '2026_01', '2026_02']);
    expect(await months(db)).toEqual(['2026-03', '2026-04', '2026-05']);
    expect(await db.one(`select to_regclass('livechat_messages_default') is not null as kept`)).toEqual({ kept: true });
  });

  it('detaches into a schema of its own when configured, keeping the rows', async () => {
    const db = await freshDb();
    await db.exec('create schema old_chats');
    await setClock(db, '2025-09-10 00:00:00+00');
    await maintain(db);
    await db.query(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'kept', '2025-09-11')`);
    await db.query(
      `select partkeeper.configure('livechat_messages', p_retention => '1 month', p_retention_mode => 'detach', p_retention_schema => 'old_chats')`,
    );
    await setClock(db, '2025-11-05 00:00:00+00');
    const run = await maintain(db);
    expect(run.retired.map((r) => [r.partition, r.mode])).toEqual([['public.livechat_messages_2025_09', 'detach']]);
    expect(await db.one(`select body from old_chats.livechat_messages_2025_09`)).toEqual({ body: 'kept' });
    expect(await db.one(`select count(*)::int as n from livechat_messages`)).toEqual({ n: 0 });
  });

  it('keeps expired partitions without a recorded archive of all their rows when archives are required', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await maintain(db);
    await db.query(
      `insert into livechat_messages (room_id, sender_id, body, created_at) select 1, 1, 'x', '2025-09-11' from generate_series(1, 5)`,
    );
    await db.query(`select partkeeper.configure('livechat_messages', p_retention => '1 month', p_require_archive => true)`);
    await setClock(db, '2025-11-05 00:00:00+00');
    let run = await maintain(db);
    expect(run.retired).toEqual([]);
    expect(run.warnings).toEqual([
      expect.objectContaining({ code: 'expired_kept', reason: 'archive_missing', partition: 'public.livechat_messages_2025_09' }),
    ]);
    expect((await health(db)).checks.find((c) => c.check === 'retention')?.status).toBe('warning');

    // an archive that no longer holds every row does not count
    await db.query(
      `select partkeeper.record_archive('livechat_messages_2025_09', '/archives/livechat_messages_2025_09', 'partkeeper-archive/1', 5, 100, 'sha256:00')`,
    );
    await db.query(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'late', '2025-09-12')`);
    run = await maintain(db);
    expect(run.warnings).toEqual([expect.objectContaining({ code: 'expired_kept', reason: 'archive_smaller' })]);
    expect(run.warnings[0]!.message).toMatch(/its archive holds 5 rows, the partition 6 .*: archive it again/);
    await expectSqlState(
      db.query(`select partkeeper.record_archive('livechat_messages_2025_09', '/a', 'partkeeper-archive/1', 5, 100, 'sha256:00')`),
      'PK006',
    );

    await db.query(
      `select partkeeper.record_archive('livechat_messages_2025_09', '/archives/livechat_messages_2025_09.2', 'partkeeper-archive/1', 6, 120, 'sha256:01')`,
    );
    run = await maintain(db);
    expect(run.retired.map((r) => r.partition)).toEqual(['public.livechat_messages_2025_09']);
  });

  it('archive, then retention: a real archive is what lets the partition go', async () => {
    const db = await freshDb();
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-retention-'));
    try {
      await setClock(db, '2025-09-10 00:00:00+00');
      await maintain(db);
      await db.query(
        `insert into livechat_messages (room_id, sender_id, body, created_at) select 1, 1, 'x' || g, '2025-09-11' from generate_series(1, 50) g`,
      );
      await db.query(`select partkeeper.configure('livechat_messages', p_retention => '1 month', p_require_archive => true)`);
      await setClock(db, '2025-11-05 00:00:00+00');
      expect((await maintain(db)).retired).toEqual([]);
      const archived = await archivePartition(db, 'livechat_messages_2025_09', { dir });
      expect(archived.manifest.rows).toBe(50);
      expect((await maintain(db)).retired.map((r) => r.partition)).toEqual(['public.livechat_messages_2025_09']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses invalid retention settings and changes nothing', async () => {
    const db = await freshDb();
    await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_retention_mode => 'shred')`), 'PK001');
    await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_retention_schema => 'no_such_schema')`), 'PK001');
    await expectSqlState(db.query(`select partkeeper.configure('livechat_messages', p_retention => '-1 month')`), 'PK001');
    expect(await db.one(`select retention, retention_mode from partkeeper.config`)).toEqual({ retention: null, retention_mode: 'drop' });
  });

  itServer('waits at most lock_timeout for a reader, reports it, and the next run retires', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-10 00:00:00+00');
    await maintain(db);
    await setClock(db, '2025-11-05 00:00:00+00');
    await maintain(db); // premake done first: only retirement is left to do
    await db.query(
      `select partkeeper.configure('livechat_messages', p_retention => '1 month', p_lock_timeout => '100ms', p_lock_retries => 1)`,
    );
    const reader = await db.connect();
    await reader.exec(`begin; select count(*) from livechat_messages`);
    const blocked = await maintain(db);
    expect(blocked.retired).toEqual([]);
    expect(blocked.warnings).toEqual([expect.objectContaining({ code: 'lock_timeout', partition: 'public.livechat_messages_2025_09' })]);
    expect(codes(blocked)).toEqual(['lock_timeout']);
    await reader.exec('commit');
    expect((await maintain(db)).retired.map((r) => r.partition)).toEqual(['public.livechat_messages_2025_09']);
  });
});
