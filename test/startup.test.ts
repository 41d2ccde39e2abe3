// The function an application calls at startup: ensures partitions, reports, never throws.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { ensurePartitionsAtStartup, type Queryable } from '../src/index.ts';
import { freshDb, itServer, setClock } from '../harness/testing.ts';

const adapter = (db: Db): Queryable => ({ query: async (sql) => ({ rows: await db.query(sql) }) });

describe('ensurePartitionsAtStartup', () => {
  it('makes the current and premake months and says so', async () => {
    const db = await freshDb();
    await setClock(db, '2025-12-20 00:00:00+00');
    const logged: string[] = [];
    const result = await ensurePartitionsAtStartup(adapter(db), (m) => logged.push(m));
    expect(result).toEqual({
      ok: true,
      partitions: ['livechat_messages_2025_12', 'livechat_messages_2026_01', 'livechat_messages_2026_02'],
    });
    expect(logged).toEqual([
      'partkeeper: partitions ready: livechat_messages_2025_12, livechat_messages_2026_01, livechat_messages_2026_02',
    ]);
  });

  it('reports a failure instead of throwing', async () => {
    const db = await freshDb({ bundle: false });
    const logged: string[] = [];
    const result = await ensurePartitionsAtStartup(adapter(db), (m) => logged.push(m));
    expect(result).toMatchObject({ ok: false, error: { code: '42883' } });
    expect(logged[0]).toMatch(/could not ensure partitions \(42883: .*\)(; hint: .*)?; inserts still succeed$/);
  });

  itServer('works with a node-postgres client as an application holds it', async () => {
    const db = await freshDb();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const result = await ensurePartitionsAtStartup(client, () => {});
      expect(result.ok && result.partitions).toHaveLength(3);
    } finally {
      await client.end();
    }
  });
});
