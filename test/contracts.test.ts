// The schemas of src/contracts.ts against what the SQL really returns: every shape of
// maintain_table() produced on purpose, then maintain_all(), run_maintenance(), status() and
// health(), each parsed by its schema (the helpers of harness/support.ts parse). And real results broken on
// purpose, which the schemas must refuse naming the field: a green parse means something only if a
// wrong one can fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ContractError,
  healthSchema,
  isMaintenanceRun,
  maintenanceAllSchema,
  maintenanceResultSchema,
  parseContract,
  statusSchema,
} from '../src/contracts.ts';
import type { Db } from '../src/db.ts';
import { openPglite } from '../src/pglite.ts';
import { freshDb, itServer, setClock, target } from '../harness/testing.ts';
import { cli, health, maintain, maintainAll, maintainResult, runMaintenance, status } from '../harness/support.ts';

const T = 'livechat_messages';

/** A table with every kind of run result: rows outside the drain window, a NULL key, retention. */
async function eventful(db: Db): Promise<void> {
  await setClock(db, '2025-10-10 00:00:00+00');
  await db.exec(`create table ev (id int, at timestamptz) partition by range (at)`);
  await db.query(`select partkeeper.register_table('ev')`);
  await db.query(`select partkeeper.configure('ev', p_retention => '2 months')`);
  await db.exec(`insert into ev values (1, '2099-01-01'), (2, null), (3, 'infinity'), (4, '2025-09-11'), (5, '2025-06-15')`);
}

/** What a check of `value` against `schema` says, or 'ok'. */
function verdict(schema: Parameters<typeof parseContract>[0], value: unknown): string {
  try {
    parseContract(schema, value, 'a broken copy');
    return 'ok';
  } catch (e) {
    if (!(e instanceof ContractError)) throw e;
    return e.problems.join('; ');
  }
}

describe('maintain_table(): every shape it returns parses', () => {
  it('ok, warning with rows left in DEFAULT and warnings, retirement with next_expiry, and failed for a refused step', async () => {
    const db = await freshDb();
    await eventful(db);
    const ok = await maintain(db);
    expect(ok).toMatchObject({ status: 'ok', complete: true, warnings: [], left_in_default: [], next_expiry: null });
    expect(ok.created.map((c) => c.method)).toEqual(['attach', 'attach', 'attach']);

    const warned = await maintain(db, 'ev');
    expect(warned.status).toBe('warning');
    // June's and September's rows move into partitions made for them, the gap between is filled, and
    // what has expired by now (retention 2 months) retires in the same run
    expect(warned.created.map((c) => [c.partition, c.method])).toEqual([
      ['public.ev_2025_10', 'attach'],
      ['public.ev_2025_11', 'attach'],
      ['public.ev_2025_12', 'attach'],
      ['public.ev_2025_06', 'move'],
      ['public.ev_2025_09', 'move'],
      ['public.ev_2025_07', 'attach'],
      ['public.ev_2025_08', 'attach'],
    ]);
    expect(warned.retired.map((r) => [r.partition, r.mode])).toEqual([
      ['public.ev_2025_06', 'drop'],
      ['public.ev_2025_07', 'drop'],
    ]);
    expect(warned.left_in_default.map((l) => [l.period, l.reason])).toEqual([
      [null, 'null_key'],
      ['2099-01-01T00:00:00+00:00', 'after_window'],
      ['infinity', 'infinite_key'],
    ]);
    expect(warned.warnings.map((w) => w.code)).toEqual(['rows_in_default']);
    expect(warned.next_expiry).toEqual({ partition: 'public.ev_2025_08', at: '2025-11-01T00:00:00+00:00' });

    // a view on a partition that expires refuses its DROP: the run fails after retiring the older ones
    await db.exec(`create view october as select * from ev_2025_10`);
    await setClock(db, '2026-01-10 00:00:00+00');
    const failed = await maintain(db, 'ev');
    expect(failed.status).toBe('failed');
    expect(failed.retired.map((r) => r.partition)).toEqual(['public.ev_2025_08', 'public.ev_2025_09']);
    expect(failed.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'dependent_objects', sqlstate: '2BP01', partition: 'public.ev_2025_10' })]),
    );
  });

  it('a table that cannot be maintained at all (failed, with error) and a disabled one', async () => {
    const db = await freshDb();
    await setClock(db, '2025-10-10 00:00:00+00');
    await db.exec(`create table gone (at timestamptz not null) partition by range (at);
      create table off (at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('gone'), partkeeper.register_table('off')`);
    await db.query(`select partkeeper.configure('off', p_enabled => false)`);
    await db.exec(`drop table gone`);
    const oid = (await db.one<{ oid: number }>(`select parent::oid::int as oid from partkeeper.config where table_name = 'public.gone'`))
      .oid;
    const failed = await maintainResult(db, String(oid));
    expect(failed).toMatchObject({
      status: 'failed',
      complete: false,
      error: { code: 'table_missing', sqlstate: 'PK002' },
      warnings: [{ code: 'table_missing' }],
    });
    expect(isMaintenanceRun(failed)).toBe(false);
    expect(await maintainResult(db, 'off')).toEqual({
      table: 'public.off',
      status: 'disabled',
      complete: true,
      reason: 'enabled is false in partkeeper.config',
    });
    // and all of them at once: maintain_all() and the procedure's p_results
    for (const all of [await maintainAll(db), await runMaintenance(db)]) {
      expect(all.status).toBe('failed');
      expect(all.tables.map((t) => [t.table, t.status])).toEqual([
        ['public.gone', 'failed'],
        [`public.${T}`, 'ok'],
        ['public.off', 'disabled'],
      ]);
    }
  });

  itServer('busy: at once, and after waiting lock_timeout (with its error)', async () => {
    const db = await freshDb();
    await setClock(db, '2025-10-10 00:00:00+00');
    const [a, b] = [await db.connect(), await db.connect()];
    for (const c of [a, b]) await setClock(c, '2025-10-10 00:00:00+00');
    await a.exec('begin');
    await maintain(a);
    const busy = await maintainResult(b);
    expect(busy).toEqual({
      table: `public.${T}`,
      status: 'busy',
      complete: false,
      clock: '2025-10-10T00:00:00+00:00',
      reason: expect.stringMatching(/another maintenance run/),
    });
    const waited = parseContract(
      maintenanceResultSchema,
      (await b.one<{ r: unknown }>(`select partkeeper.maintain_table('${T}', true) as r`)).r,
      'maintain_table(p_wait => true)',
    );
    expect(waited).toMatchObject({ status: 'busy', error: { code: 'lock_timeout', sqlstate: 'PK005' } });
    await a.exec('commit');
  });
});

describe('status() and health() parse', () => {
  it('with tables present and dropped, retention, last runs of every kind, and every per-table check', async () => {
    const db = await freshDb();
    await eventful(db);
    await db.exec(`create table gone (at timestamptz not null) partition by range (at)`);
    await db.query(`select partkeeper.register_table('gone')`);
    await maintainAll(db);
    await db.exec(`drop table gone`);
    await maintainAll(db);
    const s = await status(db);
    expect(s.tables.map((t) => [t.table, t.exists, t.last_run?.status])).toEqual([
      ['public.ev', true, 'warning'],
      ['public.gone', false, 'failed'],
      [`public.${T}`, true, 'ok'],
    ]);
    expect(s.tables[0]).toMatchObject({
      retention: { retention: '2 mons', mode: 'drop', next_expiry: { partition: 'public.ev_2025_08' } },
    });
    expect(s.simulated_clock).toBe('2025-10-10 00:00:00+00');

    const h = await health(db);
    expect(h.status).toBe('error');
    expect(new Set(h.checks.map((c) => c.check))).toEqual(
      new Set([
        'table_exists',
        'default_partition',
        'horizon',
        'default_rows',
        'retention',
        'last_run',
        'pruning',
        'public_execute',
        'simulated_clock',
        'time_zone',
        'cron',
        'maintenance_roles',
      ]),
    );
    // partition_size only fires over its thresholds
    const small = parseContract(
      healthSchema,
      (await db.one<{ h: unknown }>(`select partkeeper.health(p_max_partition_bytes => 1) as h`)).h,
      'partkeeper.health(1)',
    );
    expect(small.checks.filter((c) => c.check === 'partition_size').length).toBeGreaterThan(0);
  });
});

describe('the schemas refuse what does not match, naming the field', () => {
  it('maintenance results, status() and health(), each broken one way', async () => {
    const db = await freshDb();
    await eventful(db);
    const run = await maintain(db, 'ev');
    const raw = (await db.one<{ r: Record<string, unknown> }>(`select result as r from partkeeper.last_run where parent = 'ev'::regclass`))
      .r;
    expect(verdict(maintenanceResultSchema, raw)).toBe('ok');
    const { clock: _, ...noClock } = raw;
    const broken: [string, unknown, RegExp][] = [
      ['a field the schema does not know', { ...raw, surprise: 1 }, /^Unrecognized key: "surprise"$/],
      ['a field missing', noClock, /^clock: .*expected string, received undefined/],
      ['a count as text', { ...raw, rows_moved: '3' }, /^rows_moved: .*expected number, received string \(got "3"\)$/],
      [
        'a status nobody knows',
        { ...raw, status: 'fine' },
        /^status: expected one of "ok", "warning", "failed", "busy", "skipped", "disabled"/,
      ],
      ['a timestamp in another format', { ...raw, horizon: '2026-01-01 00:00:00+00' }, /^horizon: expected a timestamp/],
      [
        'a warning code not in the README',
        { ...raw, warnings: [{ code: 'new_code', message: 'x' }] },
        /^warnings\[0\]\.code: Invalid option: expected one of "lock_timeout"/,
      ],
      [
        'a left_in_default entry with a field too many',
        { ...raw, left_in_default: [{ ...run.left_in_default[0], state: 'null' }] },
        /^left_in_default\[0\]: Unrecognized key: "state"$/,
      ],
      ['a disabled table that claims to be incomplete', { table: 'x', status: 'disabled', complete: false, reason: 'r' }, /^complete: /],
      ['not an object at all', null, /^Invalid input: expected object, received null/],
    ];
    for (const [what, value, message] of broken) expect(verdict(maintenanceResultSchema, value), what).toMatch(message);
    expect(verdict(maintenanceAllSchema, { status: 'ok', tables: [{ ...raw, surprise: 1 }] })).toMatch(
      /^tables\[0\]: Unrecognized key: "surprise"$/,
    );

    const s = (await db.one<{ s: { tables: Record<string, unknown>[] } }>('select partkeeper.status() as s')).s;
    expect(verdict(statusSchema, s)).toBe('ok');
    const table = s.tables[0]!;
    expect(verdict(statusSchema, { ...s, tables: [{ ...table, partitions: [{ partition: 'x' }] }] })).toMatch(
      /^tables\[0\]\.partitions\[0\]\.lower: .*expected string, received undefined/,
    );
    expect(verdict(statusSchema, { ...s, tables: [{ ...table, exists: 'yes' }] })).toMatch(/^tables\[0\]\.exists: /);
    expect(verdict(statusSchema, { ...s, version: undefined })).toMatch(/^version: /);

    const h = (await db.one<{ h: { checks: Record<string, unknown>[] } }>('select partkeeper.health() as h')).h;
    expect(verdict(healthSchema, h)).toBe('ok');
    expect(verdict(healthSchema, { ...h, checks: [{ ...h.checks[0], status: 'fatal' }] })).toMatch(/^checks\[0\]\.status: Invalid option/);
    expect(verdict(healthSchema, { ...h, checks: [{ ...h.checks[0], check: 'new_check' }] })).toMatch(/^checks\[0\]\.check: /);
  });

  it('a result kept from 0.1.0 (no "complete") is shown by status(); a current result is never read as one', () => {
    const lastRun = (result: unknown) => ({
      tables: [
        {
          table: 'public.t',
          exists: false,
          enabled: true,
          last_run: { finished_at: 'infinity', clock: 'infinity', status: 'ok', complete: null, result },
        },
      ],
      version: '0.1.0',
      clock: 'infinity',
      simulated_clock: null,
      cron_jobs: null,
    });
    const earlier = { table: 'public.t', status: 'ok', created: [{ partition: 'p', rows_moved: 0 }], warnings: [] };
    expect(verdict(statusSchema, lastRun(earlier))).toBe('ok');
    expect(verdict(statusSchema, lastRun({ ...earlier, complete: true }))).toMatch(/^tables\[0\]\.last_run\.result\./);
  });
});

describe('the command line refuses SQL results that do not match', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('doctor, status and maintain fail with exit 1 and the field, never a stack trace', async () => {
    let args: string[];
    let sql: (text: string) => Promise<void>;
    if (target === 'pglite') {
      const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-contracts-'));
      dirs.push(dir);
      args = ['--pglite', dir];
      sql = async (text) => {
        const db = await openPglite({ dataDir: dir });
        try {
          await db.exec(text);
        } finally {
          await db.close();
        }
      };
    } else {
      const db = await freshDb({ bundle: false });
      args = ['--database-url', db.url!];
      sql = (text) => db.exec(text);
    }
    expect((await cli('apply', ...args)).code).toBe(0);
    await sql(`
      create or replace function partkeeper.health(p_max_partition_bytes bigint default 53687091200, p_max_partition_rows bigint default null,
          p_max_default_rows bigint default 0, p_max_run_age interval default '1 hour', p_max_cron_failures integer default 0)
        returns jsonb language sql as $$ select '{"status": "ok", "checks": [{"check": "horizon", "table": null, "status": "fine", "message": "", "fix": null}]}'::jsonb $$;
      create or replace function partkeeper.status() returns jsonb language sql as $$ select '{"version": "0.1.0"}'::jsonb $$;
      create or replace function partkeeper.maintain_table(p_parent regclass, p_wait boolean default false, p_max_create integer default null)
        returns jsonb language sql as $$ select '{"table": "t", "status": "ok"}'::jsonb $$;`);
    const doctor = await cli('doctor', ...args);
    expect(doctor.code).toBe(1);
    expect(doctor.stderr).toMatch(
      /^partkeeper doctor: partkeeper\.health\(\) returned JSON that does not match its contract \(src\/contracts\.ts\): checks\[0\]\.status: /m,
    );
    const st = await cli('status', ...args);
    expect(st.code).toBe(1);
    expect(st.stderr).toMatch(/^partkeeper status: partkeeper\.status\(\) returned JSON .*: clock: .*; tables: .*; cron_jobs: /m);
    const maintained = await cli('maintain', ...args);
    expect(maintained.code).toBe(1);
    expect(maintained.stderr).toMatch(
      /^partkeeper maintain: CALL partkeeper\.run_maintenance\(\) returned JSON .*: tables\[0\]\.complete: /m,
    );
    for (const r of [doctor, st, maintained]) expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
