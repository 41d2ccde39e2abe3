// The catalog after a fresh install, as a snapshot (test/__snapshots__/schema.txt): the installed
// objects a DBA relies on (signatures, volatility, SECURITY DEFINER, pinned search_path, grants,
// columns, indexes, policies, triggers) are part of the product's contract, so any change to them
// fails here until the snapshot is updated, and each one is recorded as a diff of that file. Update it with `npx vitest run test/schema.test.ts -u`.
// Function bodies are not in it: they change with every fix; their contracts are tested elsewhere.
import { describe, expect, it } from 'vitest';
import { type Db, freshDb } from '../harness/testing.ts';

// Every object the bundle installs: schema partkeeper, and in public the original design's
// interface and reference table (created by the install on a database without one).
const DESCRIBE = `
with ns as (select oid, nspname from pg_namespace where nspname in ('partkeeper', 'public')),
-- grants to the owning (installing) role are left out: it has them all, and their list differs by version
fns as (
  select 'function ' || p.oid::regprocedure::text
         || ' returns ' || case when p.prokind = 'p' then 'procedure' else pg_get_function_result(p.oid) end
         || ' ' || l.lanname
         || ' ' || case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end
         || case when p.prosecdef then ' security definer' else '' end
         || case when p.proconfig is not null then ' set ' || array_to_string(p.proconfig, ', ') else '' end
         || ' grants ' || coalesce((select string_agg(case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end || ':' || a.privilege_type, ', ' order by 1)
                                      from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee <> p.proowner), '-') as line
    from pg_proc p join ns on ns.oid = p.pronamespace join pg_language l on l.oid = p.prolang
   where not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')),
rels as (
  select c.oid, c.relkind, format('%I.%I', n.nspname, c.relname) as name
    from pg_class c join ns n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p', 'v', 'S') and not c.relispartition
     and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')),
rel_lines as (
  select r.name || ' ' || case r.relkind when 'r' then 'table' when 'p' then 'partitioned table' when 'v' then 'view' else 'sequence' end
         || case when c.relrowsecurity then ' row level security' else '' end
         || ' grants ' || coalesce((select string_agg(case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end || ':' || a.privilege_type, ', ' order by 1)
                                      from aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a where a.grantee <> c.relowner), '-') as line
    from rels r join pg_class c on c.oid = r.oid
  union all
  select r.name || ' column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || case when a.attnotnull then ' not null' else '' end
         || case when a.attidentity <> '' then ' identity ' || a.attidentity::text else '' end
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    from rels r join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  union all
  select r.name || ' constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    from rels r join pg_constraint co on co.conrelid = r.oid and co.contype <> 'n' -- NOT NULL (PostgreSQL 18+) is in the column's line
  union all
  select r.name || ' index ' || pg_get_indexdef(i.indexrelid)
    from rels r join pg_index i on i.indrelid = r.oid
  union all
  select r.name || ' policy ' || p.polname || ' ' || p.polcmd::text || ' using ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-')
         || ' check ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
    from rels r join pg_policy p on p.polrelid = r.oid
  union all
  select r.name || ' trigger ' || pg_get_triggerdef(t.oid)
    from rels r join pg_trigger t on t.tgrelid = r.oid and not t.tgisinternal)
select line from (select line from fns union all select line from rel_lines) x order by line collate "C"`;

async function describeCatalog(db: Db): Promise<string[]> {
  return (await db.query<{ line: string }>(DESCRIBE)).map((r) => r.line);
}

/** The moments inside JSON values (a config recorded in the log, say), which differ between installs by design. */
const moment = (v: unknown): unknown =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(v)
    ? '<moment>'
    : Array.isArray(v)
      ? v.map(moment)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, moment(x)]))
        : v;

describe('the installed catalog', () => {
  it('matches the reviewed snapshot', async () => {
    const db = await freshDb({ bundle: 'apply' });
    const lines = await describeCatalog(db);
    // The snapshot must hold what it is for: a sanity floor, so that an empty query cannot pass.
    expect(lines.filter((l) => l.startsWith('function partkeeper.')).length).toBeGreaterThan(50);
    expect(lines.some((l) => l.startsWith('public.livechat_messages column created_at'))).toBe(true);
    await expect(`${lines.join('\n')}\n`).toMatchFileSnapshot('./__snapshots__/schema.txt');
  });

  // Tests get a copy of one database the bundle was installed into (harness/installed.ts): it
  // must be what installing gives, bodies and rows included, or every such test proves the wrong thing.
  it('is what tests get: the installed copy equals a database the bundle was just applied to', async () => {
    const applied = await freshDb({ bundle: 'apply' });
    const copy = await freshDb();
    const state = async (db: Db) => {
      const bodies = await db.query<{ f: string; body: string }>(
        `select p.oid::regprocedure::text as f, md5(p.prosrc) as body from pg_proc p
          where p.pronamespace in ('partkeeper'::regnamespace, 'public'::regnamespace) order by 1`,
      );
      const rows: Record<string, unknown[]> = {};
      const tables = await db.query<{ t: string; moments: string[] }>(
        `select format('%I.%I', n.nspname, c.relname) as t,
                array(select a.attname::text from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and a.atttypid in ('timestamptz'::regtype, 'oid'::regtype)) as moments
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname in ('partkeeper', 'public') and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
      );
      // every row but the moments it was written and the OIDs it names, which differ between the two installs by design
      for (const { t, moments } of tables) {
        const data = await db.query<{ r: unknown }>(`select to_jsonb(r) - $1::text[] as r from ${t} r order by r::text`, [moments]);
        rows[t] = data.map((d) => moment(d.r));
      }
      return { catalog: await describeCatalog(db), bodies, rows };
    };
    const expected = await state(applied);
    expect(expected.bodies.length).toBeGreaterThan(50);
    expect(expected.rows['partkeeper.config']).toHaveLength(1);
    expect(await state(copy)).toEqual(expected);
  });
});
