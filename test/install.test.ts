// Install, upgrade in place, adoption of the original table, and the documented calls.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { maintenanceResult } from '../harness/invariants.ts';
import { applyBundle, bundleScript, type Db, expectSqlState, freshDb, itServer, repoRoot, setClock } from '../harness/testing.ts';
import {
  asRole,
  cli,
  createOriginalTable,
  fingerprint,
  health,
  partitions,
  rowsByPartition,
  status,
  withRoles,
} from '../harness/support.ts';

describe('fresh install', () => {
  it('creates the reference table, registers it and gives it a DEFAULT partition, with no trigger anywhere', async () => {
    const db = await freshDb({ bundle: 'apply' });
    const cols = await db.query<{ attname: string; type: string; notnull: boolean; identity: string }>(
      `select attname, format_type(atttypid, atttypmod) as type, attnotnull as notnull, attidentity as identity
         from pg_attribute where attrelid = 'livechat_messages'::regclass and attnum > 0 and not attisdropped order by attnum`,
    );
    expect(cols.map((c) => c.attname)).toEqual(['id', 'room_id', 'sender_id', 'body', 'created_at']);
    expect(cols[0]!.identity).toBe('a');
    expect(cols.find((c) => c.attname === 'created_at')).toMatchObject({ type: 'timestamp with time zone', notnull: true });

    const pk = await db.one<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'livechat_messages'::regclass and contype = 'p'`,
    );
    expect(pk.def).toBe('PRIMARY KEY (id, created_at)');
    const idx = await db.query<{ def: string }>(
      `select pg_get_indexdef(indexrelid) as def from pg_index where indrelid = 'livechat_messages'::regclass and not indisprimary`,
    );
    expect(idx.map((i) => i.def).join()).toMatch(/\(room_id, created_at DESC\)/);

    expect(await db.one(`select parent::text as parent, time_zone, premake from partkeeper.config`)).toEqual({
      parent: 'livechat_messages',
      time_zone: 'UTC',
      premake: 2,
    });
    expect(await partitions(db)).toEqual([{ partition: 'livechat_messages_default', lower: null, upper: null, is_default: true }]);
    // No row trigger: an insert costs what it costs on a bare table, whichever partition it lands in;
    // maintenance finds the rows waiting in the DEFAULT partition by reading it.
    const triggers = await db.query<{ rel: string; tgname: string }>(
      `select tgrelid::regclass::text as rel, tgname from pg_trigger
        where not tgisinternal and tgrelid in (select 'livechat_messages'::regclass union select inhrelid from pg_inherits where inhparent = 'livechat_messages'::regclass)`,
    );
    expect(triggers).toEqual([]);
  });

  it('reports the version of package.json', async () => {
    const db = await freshDb();
    const pkg = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as { version: string };
    expect((await db.one<{ v: string }>('select partkeeper.version() as v')).v).toBe(pkg.version);
  });

  it('uses the same defaults for unregistered tables as the config table does', async () => {
    const db = await freshDb();
    await db.exec(`create table ev (at timestamptz not null) partition by range (at)`);
    const registered = await db.one(
      `select to_jsonb(c) - 'parent' - 'table_name' - 'registered_at' - 'updated_at' as j from partkeeper.config c`,
    );
    const fallback = await db.one(
      `select to_jsonb(partkeeper.config_for('ev')) - 'parent' - 'table_name' - 'registered_at' - 'updated_at' as j`,
    );
    expect(fallback).toEqual(registered);
  });
});

describe('re-install', () => {
  it('is safe: settings, partitions, rows and privileges survive, migrations run once', async () => {
    const db = await freshDb();
    await setClock(db, '2025-09-15 00:00+00');
    await db.query(`select partkeeper.configure('livechat_messages', p_premake => 4)`);
    await db.query(`select ensure_livechat_partitions()`);
    await db.query(
      `insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'x', '2025-09-16'), (1, 1, 'late', '2023-01-01')`,
    );
    const before = {
      parts: await partitions(db),
      rows: await fingerprint(db),
      log: await db.one(`select count(*)::int as n from partkeeper.log`),
    };

    await applyBundle(db);
    await applyBundle(db);

    expect(await partitions(db)).toEqual(before.parts);
    expect(await fingerprint(db)).toEqual(before.rows);
    expect(await db.one(`select count(*)::int as n from partkeeper.log`)).toEqual(before.log);
    expect((await db.one<{ premake: number }>(`select premake from partkeeper.config`)).premake).toBe(4);
    expect(await db.query(`select version from partkeeper.schema_version order by 1`)).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
    ]);
  });
});

describe('upgrade from the previous release', () => {
  it('keeps settings, partitions and rows, and removes the per-row trigger and every SECURITY DEFINER function', async () => {
    const db = await freshDb({ bundle: false });
    // partkeeper 0.1.0 as released (commit c048fb3): its bundle as one script
    await db.exec(gunzipSync(readFileSync(`${repoRoot}/test/fixtures/bundle-c048fb3.sql.gz`)).toString('utf8'));
    await setClock(db, '2025-09-15 00:00+00');
    await db.query(`select partkeeper.configure('livechat_messages', p_premake => 4)`);
    await db.query(`select maintain_livechat_partitions()`);
    await db.query(
      `insert into livechat_messages (room_id, sender_id, body, created_at) values (1, 1, 'x', '2025-09-16'), (1, 1, 'waiting', '2026-03-01')`,
    );
    expect(await db.query(`select tgname from pg_trigger where tgname = 'ensure_partition_exists'`)).toHaveLength(1);
    // a maintenance role granted by the previous release (roles are cluster-wide: a unique name)
    const maint = `pk_upgrade_${randomBytes(3).toString('hex')}`;
    await db.exec(`create role ${maint}; grant ${maint} to current_user`);
    await db.query(`select partkeeper.grant_maintenance('${maint}')`);
    const before = { parts: await partitions(db), rows: await fingerprint(db) };

    await applyBundle(db);

    expect(await partitions(db)).toEqual(before.parts);
    expect(await fingerprint(db)).toEqual(before.rows);
    // the last run kept from 0.1.0 (no "complete" then) is still shown until the next run replaces it
    expect((await status(db)).tables).toEqual([
      expect.objectContaining({ last_run: expect.objectContaining({ status: 'ok', complete: null }) }),
    ]);
    expect(await db.one<{ premake: number; table_name: string }>(`select premake, table_name from partkeeper.config`)).toEqual({
      premake: 4,
      table_name: 'public.livechat_messages',
    });
    expect(await db.query(`select version from partkeeper.schema_version order by 1`)).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
    ]);
    expect(await db.query(`select tgname from pg_trigger where tgname = 'ensure_partition_exists'`)).toEqual([]);
    expect(
      await db.query(
        `select p.oid::regprocedure::text as f from pg_proc p where p.pronamespace = 'partkeeper'::regnamespace and p.prosecdef`,
      ),
    ).toEqual([]);
    const run = await maintenanceResult(db, `select maintain_livechat_partitions() as r`);
    expect(run).toMatchObject({ status: 'ok', rows_moved: 1 });

    // the role keeps what grant_maintenance gives, functions added by this release included:
    // status() of a table with retention calls next_expiry(), which the previous release did not have
    try {
      expect(
        await db.query(
          `select p.oid::regprocedure::text as f from pg_proc p
            where p.pronamespace = 'partkeeper'::regnamespace and p.prokind = 'f' and not has_function_privilege('${maint}', p.oid, 'EXECUTE')`,
        ),
      ).toEqual([]);
      await db.query(`select partkeeper.configure('livechat_messages', p_retention => '2 years')`);
      await db.exec(`set role ${maint}`);
      expect((await status(db)).tables[0]).toMatchObject({
        exists: true,
        retention: { next_expiry: { partition: expect.stringMatching(/^public\.livechat_messages_\d{4}_\d{2}$/) } },
      });
    } finally {
      await db.exec('reset role');
      await db.exec(`drop owned by ${maint}; drop role ${maint}`);
    }
  });
});

describe('adoption of the original table', () => {
  it('keeps its partitions and rows, replaces the original trigger and functions, and the documented calls work', async () => {
    const db = await freshDb({ bundle: false });
    await createOriginalTable(db);
    // what the original design installed: a row trigger on the parent and its own functions
    await db.exec(`
      create function ensure_partition_exists() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger ensure_partition_exists before insert on livechat_messages for each row execute function ensure_partition_exists();
      create function create_monthly_partition(table_name text, start_date date) returns void language plpgsql as $$ begin end $$;
      create function maintain_livechat_partitions() returns json language sql as $$ select '{}'::json $$;
    `);
    const before = {
      rows: await fingerprint(db),
      oids: await db.query(`select inhrelid::int from pg_inherits where inhparent = 'livechat_messages'::regclass order by 1`),
      where: await rowsByPartition(db),
    };
    expect(Number(before.rows.rows)).toBe(250);

    await applyBundle(db);
    await applyBundle(db);

    expect(await fingerprint(db)).toEqual(before.rows);
    expect(await rowsByPartition(db)).toEqual(before.where);
    const kept = await db.query(`select inhrelid::int from pg_inherits where inhparent = 'livechat_messages'::regclass order by 1`);
    expect(kept).toEqual(expect.arrayContaining(before.oids));
    expect(kept).toHaveLength(before.oids.length + 1); // + the DEFAULT partition
    expect(await db.query(`select tgname from pg_trigger where tgrelid = 'livechat_messages'::regclass and not tgisinternal`)).toEqual([]);
    expect(db.notices.map((n) => n.message).join('\n')).toMatch(/dropped the original trigger ensure_partition_exists/);

    // The documented calls, exactly as written.
    await setClock(db, '2025-08-20 10:00:00+00');
    expect(await db.query(`SELECT create_monthly_partition('livechat_messages', '2025-09-01'::date);`)).toEqual([
      { create_monthly_partition: 'livechat_messages_2025_09' },
    ]);
    expect(await db.query(`SELECT ensure_livechat_partitions();`)).toEqual([
      { ensure_livechat_partitions: ['livechat_messages_2025_08', 'livechat_messages_2025_09', 'livechat_messages_2025_10'] },
    ]);
    expect(await db.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'livechat_messages_%' ORDER BY tablename;`)).toEqual(
      ['2025_04', '2025_05', '2025_06', '2025_07', '2025_08', '2025_09', '2025_10', 'default'].map((s) => ({
        tablename: `livechat_messages_${s}`,
      })),
    );
    expect((await maintenanceResult(db, `SELECT maintain_livechat_partitions() as r;`)).status).toBe('ok');

    // Bounds are UTC months; the data never moved.
    const parts = await partitions(db);
    expect(parts.filter((p) => !p.is_default).map((p) => [p.lower, p.upper])).toEqual(
      ['04', '05', '06', '07', '08', '09', '10'].map((m, i, all) => [
        `2025-${m}-01 00:00:00`,
        i + 1 < all.length ? `2025-${all[i + 1]}-01 00:00:00` : '2025-11-01 00:00:00',
      ]),
    );
    expect(await fingerprint(db)).toEqual(before.rows);
  });

  it('installs around a plain livechat_messages: the table and its rows stay as they are, unmanaged, ready to convert', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec(`
      create table livechat_messages (id bigint primary key, room_id bigint, sender_id bigint, body text, created_at timestamptz not null);
      insert into livechat_messages select g, 1, 1, 'm', '2025-05-01'::timestamptz + g * interval '1 day' from generate_series(1, 20) g;
    `);
    const before = await fingerprint(db);
    await applyBundle(db);
    expect(await fingerprint(db)).toEqual(before);
    expect(await db.one(`select relkind::text as k from pg_class where oid = 'livechat_messages'::regclass`)).toEqual({ k: 'r' });
    expect(await db.one(`select count(*)::int as n from partkeeper.config where parent = 'livechat_messages'::regclass`)).toEqual({ n: 0 });
    // what the warning's hint points to is there: the conversion's first step accepts the table
    const plan = await db.one<{ p: { statements: string[] } }>(
      `select partkeeper.convert_prepare('livechat_messages', 'created_at', p_dry_run => true) as p`,
    );
    expect(plan.p.statements.length).toBeGreaterThan(0);
    expect(await fingerprint(db)).toEqual(before);
  });
});

describe('what install does and says', () => {
  it('makes the current period and the premake ones at once, and every notice is its own', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec('reset partkeeper.premake_on_install');
    await setClock(db, '2025-08-20 10:00:00+00');
    await applyBundle(db);
    expect((await partitions(db)).map((p) => p.partition)).toEqual([
      'livechat_messages_2025_08',
      'livechat_messages_2025_09',
      'livechat_messages_2025_10',
      'livechat_messages_default',
    ]);
    // nothing like "function ... does not exist, skipping": each notice is partkeeper's own
    expect(db.notices.filter((n) => !n.message.startsWith('partkeeper: '))).toEqual([]);
    expect(db.notices.map((n) => n.message)).toEqual(
      expect.arrayContaining([
        'partkeeper: created public.livechat_messages',
        expect.stringMatching(/^partkeeper: made the partitions of public\.livechat_messages for now and the premake periods: /),
      ]),
    );
    expect((await health(db)).checks.filter((c) => c.check === 'horizon')).toEqual([expect.objectContaining({ status: 'ok' })]);
  });

  it('creates the reference table only when partkeeper.create_reference_table is not off; an existing one is adopted and named', async () => {
    const db = await freshDb({ bundle: false });
    await db.exec('set partkeeper.create_reference_table = off');
    await applyBundle(db);
    expect(await db.one(`select to_regclass('public.livechat_messages') is null as none`)).toEqual({ none: true });
    expect(await db.query(`select parent from partkeeper.config`)).toEqual([]);
    expect(db.notices.map((n) => n.message).join('\n')).toMatch(
      /livechat_messages not created \(partkeeper\.create_reference_table is off\)/,
    );
    await expectSqlState(db.exec(`set partkeeper.create_reference_table = maybe; ${bundleScript()}`), 'PK001');

    // adopted when it exists, whatever the switch says
    await db.exec('set partkeeper.create_reference_table = off');
    await createOriginalTable(db);
    db.notices.length = 0;
    await applyBundle(db);
    expect(db.notices.map((n) => n.message)).toContain(
      'partkeeper: adopted public.livechat_messages with its 5 partition(s), rows untouched; its DEFAULT partition is public.livechat_messages_default',
    );
  });

  it('a table owner without superuser installs, maintains and uninstalls; each missing right is named with its GRANT', async () => {
    const db = await freshDb({ bundle: false });
    await createOriginalTable(db);
    await setClock(db, '2025-08-20 10:00:00+00');
    await withRoles(db, ['owner'], async ({ owner }) => {
      await db.exec(`alter table livechat_messages owner to ${owner}`);
      const asOwner = async () => {
        await db.exec(`set role ${owner}`);
        try {
          await applyBundle(db);
        } finally {
          await db.exec('reset role');
        }
      };
      const database = (await db.one<{ d: string }>('select current_database() as d')).d;
      await db.exec(`revoke create on schema public from public; revoke create on database "${database}" from public`);
      let e = await expectSqlState(asOwner(), 'PK009');
      expect(e.hint).toMatch(new RegExp(`GRANT CREATE ON DATABASE "?${database}"? TO ${owner}`));
      await db.exec(`grant create on database "${database}" to ${owner}`);
      e = await expectSqlState(asOwner(), 'PK009');
      expect(e.hint).toMatch(new RegExp(`GRANT CREATE ON SCHEMA public TO ${owner}`));
      await db.exec(`grant create on schema public to ${owner}`);
      db.notices.length = 0;
      await asOwner();
      expect(db.notices.map((n) => n.message).join('\n')).toMatch(/adopted public\.livechat_messages/);
      await db.exec(`set role ${owner}`);
      try {
        expect((await maintenanceResult(db, `select maintain_livechat_partitions() as r`)).status).toBe('ok');
        const before = await fingerprint(db);
        await db.exec(bundleScript(undefined, 'sql/uninstall.sql'));
        expect(await fingerprint(db)).toEqual(before);
        expect(await db.one(`select to_regnamespace('partkeeper') is null as gone`)).toEqual({ gone: true });
      } finally {
        await db.exec('reset role');
      }
    });
  });

  itServer(
    'partkeeper apply by a role without the rights: PK009 with the GRANT as hint, from install itself, and nothing changed',
    async () => {
      // roles are cluster-wide: a unique name, logging in as itself
      const role = `pk_norights_${randomBytes(3).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      const fresh = await freshDb({ bundle: false });
      const installed = await freshDb();
      await fresh.exec(`create role ${role} login password '${password}'`);
      // every catalog row install would write: a CREATE OR REPLACE gives its row a new xmin
      const catalog = (db: Db) =>
        db.one(`select (select string_agg(p.oid || ':' || p.xmin, ',' order by p.oid) from pg_proc p
                       where p.pronamespace in (select oid from pg_namespace where nspname in ('partkeeper', 'public'))) as functions,
                     (select string_agg(n.nspname || ':' || n.xmin, ',' order by n.nspname) from pg_namespace n) as schemas,
                     (select string_agg(c.oid || ':' || c.xmin, ',' order by c.oid) from pg_class c
                       where c.relnamespace in (select oid from pg_namespace where nspname in ('partkeeper', 'public'))) as relations`);
      try {
        // an upgrade: partkeeper is there, in a schema this role may not even look into
        let before = await catalog(installed);
        const upgrade = await cli('apply', '--database-url', asRole(installed.url!, role, password));
        expect(upgrade.code, upgrade.stderr).toBe(1);
        expect(upgrade.stderr).toMatch(new RegExp(`error PK009: role ${role} may not upgrade partkeeper`));
        expect(upgrade.stderr).toMatch(new RegExp(`^hint: .*GRANT \\S+ TO ${role};`, 'm'));
        expect(await catalog(installed)).toEqual(before);
        // a first install: no CREATE on the database
        before = await catalog(fresh);
        const first = await cli('apply', '--database-url', asRole(fresh.url!, role, password));
        expect(first.code, first.stderr).toBe(1);
        expect(first.stderr).toMatch(new RegExp(`^hint: .*GRANT CREATE ON DATABASE \\S+ TO ${role};`, 'm'));
        expect(await catalog(fresh)).toEqual(before);
      } finally {
        await fresh.exec(`drop role ${role}`);
      }
    },
  );

  it('uninstall refuses (PK013) while objects outside partkeeper depend on it, and changes nothing', async () => {
    const db = await freshDb();
    await db.exec('create view my_partitions as select * from partkeeper.partitions');
    const e = await expectSqlState(db.exec(bundleScript(undefined, 'sql/uninstall.sql')), 'PK013');
    expect(e.message).toMatch(/view my_partitions/);
    expect(await db.one(`select to_regnamespace('partkeeper') is not null as kept`)).toEqual({ kept: true });
  });
});
