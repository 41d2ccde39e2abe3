// Maintenance does nothing on a hot standby: a real one, made with pg_basebackup from the test server.
import { afterAll, expect } from 'vitest';
import type { Server } from '../harness/server.ts';
import { openPostgres } from '../src/postgres.ts';
import { maintenanceResult } from '../harness/invariants.ts';
import { describeServer, expectSqlState, freshDb, itServer, setClock, startStandby } from '../harness/testing.ts';
import { maintainAll } from '../harness/support.ts';

describeServer('on a hot standby (PostgreSQL server)', () => {
  let standby: Server | undefined;
  afterAll(async () => standby?.stop());

  itServer(
    'maintenance reports "skipped" and changes nothing; creating partitions is refused',
    async () => {
      const db = await freshDb();
      await db.exec(`insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'waiting', '2025-10-10')`);
      standby = await startStandby();
      const replica = await openPostgres(standby.url(db.name));
      try {
        expect(await replica.one(`select pg_is_in_recovery() as r`)).toEqual({ r: true });
        await setClock(replica, '2025-10-01 00:00:00+00');
        const run = await maintenanceResult(replica, `select maintain_livechat_partitions() as r`);
        expect(run).toEqual({
          table: 'public.livechat_messages',
          status: 'skipped',
          complete: true,
          reason: expect.stringMatching(/standby/),
        });
        const all = await maintainAll(replica);
        expect(all).toMatchObject({ status: 'ok', tables: [{ status: 'skipped' }] });
        await expectSqlState(replica.query(`select ensure_livechat_partitions()`), '25006');
        await expectSqlState(replica.query(`select create_monthly_partition('livechat_messages', '2025-10-01')`), '25006');
        expect(await replica.one(`select count(*)::int as n from only livechat_messages_default`)).toEqual({ n: 1 });
      } finally {
        await replica.close();
      }
      // the primary was untouched as well
      expect(await db.one(`select count(*)::int as n from partkeeper.log where action in ('create_partition', 'maintain')`)).toEqual({
        n: 0,
      });
    },
    60_000,
  );
});
