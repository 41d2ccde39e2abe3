// sql/cron.sql and the schedule functions: with pg_cron for real on a server of its own, and the
// path every database without pg_cron takes (PGlite, application databases).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { openPostgres } from '../src/postgres.ts';
import { startServer, type Server } from '../harness/server.ts';
import { bundleScript } from '../src/bundle.ts';
import { applyBundle, expectSqlState, freshDb, hasPgCron, target } from '../harness/testing.ts';
import { health, status } from '../harness/support.ts';

type Job = { jobname: string; schedule: string; command: string; database: string; active: boolean };

describe('without pg_cron in the database', () => {
  it('install succeeds and says how to schedule; schedule_jobs refuses with PK001', async () => {
    const db = await freshDb({ bundle: false });
    await applyBundle(db);
    const notice = db.notices.find((n) => n.message.includes('pg_cron is not installed'));
    expect(notice?.message).toMatch(
      /cron\.schedule_in_database\('partkeeper-frequent-[^']+', '\*\/5 \* \* \* \*', 'CALL partkeeper\.run_maintenance\(\)'/,
    );
    // every job, the maintenance ones as the installing role; what follows "run:" is SQL alone, to paste
    const { user } = await db.one<{ user: string }>('select current_user as user');
    const sql = notice!.message.split(' run: ')[1]!;
    expect(sql.match(/SELECT cron\.schedule(_in_database)?\(/g)).toHaveLength(3);
    expect(sql).toContain(`'partkeeper-monthly-${db.name}', '0 2 1 * *', 'CALL partkeeper.run_maintenance()', '${db.name}', '${user}');`);
    expect(sql).toMatch(
      /SELECT cron\.schedule\('partkeeper-prune-history', '30 3 \* \* \*', 'DELETE FROM cron\.job_run_details [^;]*'\);$/,
    );
    await expectSqlState(db.query('select partkeeper.schedule_jobs()'), 'PK001');
    expect(await db.one('select partkeeper.unschedule_jobs() as n')).toEqual({ n: 0 });
    expect(await db.one('select partkeeper.cron_jobs() as j')).toEqual({ j: null });
  });
});

// pg_cron lives in one database per server (cron.database_name): this suite gets a server of its own,
// of the version under test. It runs wherever the test server preloads pg_cron; the version that
// comes with pg_cron (harness/postgres-versions.ts) requires it, so CI cannot skip it there.
const cronRuns = target === 'postgres' && hasPgCron;
describe.skipIf(!cronRuns)(
  `with pg_cron (PostgreSQL server${cronRuns ? '' : ' with pg_cron; skipped: the server under test has none'})`,
  () => {
    let server: Server | undefined;
    let db: Db | undefined;
    afterAll(async () => {
      await db?.close();
      await server?.stop();
    });
    const jobs = async () => db!.query<Job>(`select jobname, schedule, command, database, active from cron.job order by jobname`);

    it('install schedules the three jobs once, however often it runs; a job fires for real', async () => {
      server = await startServer({ pgCron: true });
      db = await openPostgres(server.url('postgres'));
      // this suite plays by the database's clock, set below: no partitions by the real one at install
      await db.exec('create extension pg_cron; set partkeeper.premake_on_install = off');
      await applyBundle(db);
      await applyBundle(db);
      expect(await jobs()).toEqual([
        {
          jobname: 'partkeeper-frequent',
          schedule: '*/5 * * * *',
          command: 'CALL partkeeper.run_maintenance()',
          database: 'postgres',
          active: true,
        },
        {
          jobname: 'partkeeper-monthly',
          schedule: '0 2 1 * *',
          command: 'CALL partkeeper.run_maintenance()',
          database: 'postgres',
          active: true,
        },
        {
          jobname: 'partkeeper-prune-history',
          schedule: '30 3 * * *',
          database: 'postgres',
          active: true,
          command: `DELETE FROM cron.job_run_details WHERE jobid IN (SELECT jobid FROM cron.job WHERE jobname LIKE 'partkeeper-%') AND end_time < now() - interval '7 days'`,
        },
      ]);

      // a DBA's choice survives a re-install
      await db.query(`select partkeeper.schedule_jobs(p_frequent => '* * * * *', p_keep_history => '2 days')`);
      await applyBundle(db);
      const [frequent, , prune] = await jobs();
      expect(frequent!.schedule).toBe('* * * * *');
      expect(prune!.command).toMatch(/interval '2 days'$/);
      await expectSqlState(db.query(`select partkeeper.schedule_jobs(p_frequent => 'every now and then')`), 'PK001');
      expect((await jobs()).map((j) => j.schedule)).toEqual(['* * * * *', '0 2 1 * *', '30 3 * * *']);

      // the job's sessions see the database's clock: 2031-03 partitions can only come from the job
      await db.exec(`alter database postgres set partkeeper.now = '2031-03-15 00:00:00+00'`);
      let run: { status: string; return_message: string } | undefined;
      for (let i = 0; i < 150 && !run; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        [run] = await db.query(
          `select d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
          where j.jobname = 'partkeeper-frequent' and d.status in ('succeeded', 'failed') order by d.runid desc limit 1`,
        );
      }
      expect(run).toEqual({ status: 'succeeded', return_message: 'CALL' });
      expect(await db.one(`select to_regclass('livechat_messages_2031_03') is not null as made`)).toEqual({ made: true });
      expect(
        await db.one(`select count(*)::int as n from partkeeper.log where action = 'create_partition' and partition_name like '%2031_0%'`),
      ).toEqual({ n: 3 });
      const cron = (await health(db)).checks.find((c) => c.check === 'cron');
      expect(cron?.status).toBe('ok');
      expect(cron?.message).toMatch(/partkeeper-frequent \(\* \* \* \* \*, active\): last run succeeded/);
      // and status() lists the jobs with their last runs, in the shape its schema says
      expect((await status(db)).cron_jobs).toEqual(
        expect.arrayContaining([expect.objectContaining({ jobname: 'partkeeper-frequent', active: true })]),
      );
    }, 200_000);

    it('a table whose maintenance fails makes the job run fail, after the other tables were maintained', async () => {
      // retention of events is refused: a view depends on its oldest partition
      await db!.exec(`create table events (at timestamptz not null) partition by range (at)`);
      await db!.query(`select partkeeper.register_table('public.events')`);
      await db!.query(`select partkeeper.create_partition('public.events', '2030-12-01')`);
      await db!.exec(`create view december as select * from events_2030_12`);
      await db!.query(`select partkeeper.configure('public.events', p_retention => '1 month')`);
      const { last } = await db!.one<{ last: number }>(`select coalesce(max(runid), 0)::int as last from cron.job_run_details`);
      let run: { status: string; return_message: string } | undefined;
      for (let i = 0; i < 150 && !run; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        [run] = await db!.query(
          `select d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
          where j.jobname = 'partkeeper-frequent' and d.runid > $1 and d.status in ('succeeded', 'failed') order by d.runid desc limit 1`,
          [last],
        );
      }
      expect(run?.status).toBe('failed');
      expect(run?.return_message).toMatch(/maintenance failed for 1 of 2 table\(s\): public\.events/);
      expect(await db!.query(`select parent::text as t, status from partkeeper.last_run order by 1`)).toEqual([
        { t: 'events', status: 'failed' },
        { t: 'livechat_messages', status: 'ok' },
      ]);
      // events still got its premake months; health says error, and which warning
      expect(await db!.one(`select to_regclass('events_2031_05') is not null as made`)).toEqual({ made: true });
      const check = (await health(db!)).checks.find((c) => c.check === 'last_run' && c.table === 'public.events');
      expect(check).toMatchObject({ status: 'error', message: expect.stringMatching(/\[dependent_objects\]/) });
      await db!.exec(`drop view december; select partkeeper.unregister_table('public.events'); drop table events`);
    }, 200_000);

    it('unschedule_jobs removes the jobs schedule_jobs made, only those, and health then says none is scheduled', async () => {
      // a DBA's own job for an application database, as the README has them made: not partkeeper's to remove
      await db!.query(
        `select cron.schedule_in_database('partkeeper-frequent-app', '*/5 * * * *', 'CALL partkeeper.run_maintenance()', 'postgres')`,
      );
      expect(await db!.one('select partkeeper.unschedule_jobs() as n')).toEqual({ n: 3 });
      expect((await jobs()).map((j) => j.jobname)).toEqual(['partkeeper-frequent-app']);
      await db!.query(`select cron.unschedule('partkeeper-frequent-app')`);
      expect(await jobs()).toEqual([]);
      expect((await health(db!)).checks.find((c) => c.check === 'cron')?.status).toBe('warning');
    });

    it("install's NOTICE in a database without pg_cron is SQL that schedules every job when run in the pg_cron database", async () => {
      const app = `pk_cron_app_${randomBytes(3).toString('hex')}`;
      await db!.exec(`create database ${app}`);
      const other = await openPostgres(server!.url(app));
      try {
        await other.exec('set partkeeper.premake_on_install = off');
        await applyBundle(other);
        const notice = other.notices.find((n) => n.message.includes('no jobs scheduled'))!;
        await db!.exec(notice.message.split(' run: ')[1]!);
        const made = await db!.query<Job & { username: string }>(
          `select jobname, schedule, command, database, active, username from cron.job where jobname like 'partkeeper-%' order by jobname`,
        );
        expect(made.map((j) => [j.jobname, j.database, j.username])).toEqual([
          [`partkeeper-frequent-${app}`, app, 'postgres'],
          [`partkeeper-monthly-${app}`, app, 'postgres'],
          ['partkeeper-prune-history', 'postgres', 'postgres'],
        ]);
      } finally {
        await other.close();
        await db!.exec(`select cron.unschedule(jobid) from cron.job where jobname like 'partkeeper-%'`);
        await db!.exec(`drop database ${app}`);
      }
    });

    it('a table owner without USAGE on schema cron is refused before anything changes (PK009), and installs once granted', async () => {
      // uninstall keeps tables: the reference table the suite used goes too, the owner makes its own
      await db!.exec(bundleScript(undefined, 'sql/uninstall.sql'));
      await db!.exec('drop table livechat_messages');
      const owner = `pk_cron_owner_${randomBytes(3).toString('hex')}`;
      await db!.exec(
        `create role ${owner}; grant create on database postgres to ${owner}; grant create on schema public to ${owner};
         set role ${owner}`,
      );
      try {
        const e = await expectSqlState(applyBundle(db!), 'PK009');
        expect(e.hint).toBe(`As a superuser: GRANT USAGE ON SCHEMA cron TO ${owner}; then install again (the jobs run as ${owner}).`);
        expect(await db!.one(`select to_regnamespace('partkeeper') is null as none`)).toEqual({ none: true });
        await db!.exec(`reset role; grant usage on schema cron to ${owner}; set role ${owner}`);
        await applyBundle(db!);
        await db!.exec('reset role');
        expect(
          (await db!.query<{ username: string }>(`select username from cron.job where jobname like 'partkeeper-%'`)).map((j) => j.username),
        ).toEqual([owner, owner, owner]);
      } finally {
        await db!.exec('reset role');
        await db!.exec(`select cron.unschedule(jobid) from cron.job where username = '${owner}'`);
        await db!.exec(bundleScript(undefined, 'sql/uninstall.sql'));
        await db!.exec(`reassign owned by ${owner} to current_user; drop owned by ${owner}; drop role ${owner}`);
      }
    });
  },
);
