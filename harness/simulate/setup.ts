// Everything a simulation does before its first step, as SQL a repro can print: the original
// design's table and partitions (when the scenario starts from that history), the install, the
// table's settings and the roles.
import { randomBytes } from 'node:crypto';
import { escapeLiteral } from 'pg';
import type { Db } from '../../src/db.ts';
import { DbError } from '../../src/db.ts';
import { addDuration, parseInstant, type Micros } from '../instant.ts';
import { US, type Ledger, type LedgerRow } from '../invariants.ts';
import { insertSql } from './journal.ts';
import { ScenarioError, type Scenario } from './scenario.ts';
import { ORIGINAL_INDEX_DDL, ORIGINAL_MONTHS, ORIGINAL_TABLE_DDL, originalPartitionsDdl } from '../original.ts';

export const TABLE = 'livechat_messages';

/** A statement, with the ledger rows it inserts and what it is for (named in errors); or the install. */
export type SetupItem = { sql: string; rows?: LedgerRow[]; purpose?: string } | { install: true };

export interface Roles {
  owner: string;
  app: string;
  maintenance: string;
}

function originalHistory(ledger: Ledger): SetupItem[] {
  const ddl = ORIGINAL_TABLE_DDL;
  const purpose = 'the original history (it needs a database without livechat_messages)';
  const items: SetupItem[] = [{ sql: ddl, purpose }, { sql: ORIGINAL_INDEX_DDL }];
  const rows: LedgerRow[] = [];
  for (const [i, month] of ORIGINAL_MONTHS.entries()) {
    const next = ORIGINAL_MONTHS[i + 1] ?? '2025-09';
    items.push({ sql: originalPartitionsDdl()[i]! });
    // a day apart, plus the month's first and last microsecond
    const lower = parseInstant(`${month}-01T00:00:00Z`);
    const upper = parseInstant(`${next}-01T00:00:00Z`);
    for (let at = lower; at < upper; at += 86_400_000_000n) rows.push({ id: ledger.allocate(), at });
    rows.push({ id: ledger.allocate(), at: upper - 1n });
  }
  items.push({ sql: insertSql(TABLE, rows), rows, purpose });
  return items;
}

function settings(s: Scenario): string | undefined {
  const entries = Object.entries(s.table);
  if (entries.length === 0) return undefined;
  const args = entries.map(([k, v]) => `p_${k} => ${typeof v === 'number' ? v : escapeLiteral(String(v))}`);
  return `select partkeeper.configure('${TABLE}', ${args.join(', ')})`;
}

/** The setup of a scenario: history (before install), the install, then settings and roles. */
export function setupItems(s: Scenario, ledger: Ledger): { items: SetupItem[]; roles?: Roles } {
  const items: SetupItem[] = s.history === 'original' ? originalHistory(ledger) : [];
  items.push({ install: true });
  const configure = settings(s);
  if (configure) items.push({ sql: configure, purpose: 'table settings' });
  if (!s.roles) return { items };
  // roles are cluster-wide on a server: unique names, dropped when the simulation ends
  const suffix = randomBytes(3).toString('hex');
  const roles = { owner: `pk_sim_owner_${suffix}`, app: `pk_sim_app_${suffix}`, maintenance: `pk_sim_maint_${suffix}` };
  const purpose = 'roles (the connected role must be allowed to create roles)';
  // The table and its partitions belong to a role nobody logs in as. Maintenance runs as a NOINHERIT
  // member of it: partkeeper acts as the owner, the role itself has none of the owner's rights.
  items.push(
    { sql: `create role ${roles.owner}`, purpose },
    { sql: `grant create on schema public to ${roles.owner}`, purpose },
    {
      sql: `do $$ declare r regclass; begin
              for r in select '${TABLE}'::regclass union all select inhrelid::regclass from pg_inherits where inhparent = '${TABLE}'::regclass loop
                execute format('alter table %s owner to ${roles.owner}', r);
              end loop; end $$`,
      purpose,
    },
    { sql: `create role ${roles.app}`, purpose },
    { sql: `grant select, insert on ${TABLE} to ${roles.app}`, purpose },
    { sql: `create role ${roles.maintenance} noinherit`, purpose },
    { sql: `grant ${roles.owner} to ${roles.maintenance}`, purpose },
    { sql: `select partkeeper.grant_maintenance('${roles.maintenance}')`, purpose },
  );
  return { items, roles };
}

/** Runs setup items; the rows they insert join the ledger. */
export async function runSetup(db: Db, items: readonly SetupItem[], install: (db: Db) => Promise<void>, ledger?: Ledger): Promise<void> {
  for (const item of items) {
    if ('install' in item) {
      await install(db);
      continue;
    }
    try {
      await db.exec(item.sql);
    } catch (e) {
      if (e instanceof DbError && item.purpose) throw new ScenarioError(`${item.purpose}: ${e.code} ${e.message}`);
      throw e;
    }
    if (item.rows) ledger?.commit(item.rows);
  }
}

/**
 * Drops the scenario's roles (none: does nothing): resets the session's role, gives what the owner
 * role owns to the role that connected, then drops whatever the three roles still own or were granted
 * in this database, and the roles. Throws DbError when they own objects in another database or the
 * connected role may not drop them; the simulator ignores that at its end, after a failure.
 */
export async function dropRoles(db: Db, roles: Roles | undefined): Promise<void> {
  if (!roles) return;
  await db.exec('reset role');
  await db.exec(`reassign owned by ${roles.owner} to current_user; revoke create on schema public from ${roles.owner};
                 drop owned by ${roles.app}, ${roles.maintenance}, ${roles.owner}; drop role ${roles.app}, ${roles.maintenance}, ${roles.owner}`);
}

/** Every time zone the scenario names must be one PostgreSQL knows. */
export async function checkZones(db: Db, s: Scenario): Promise<void> {
  const zones = new Set([...s.sessions, s.maintenance.timeZone]);
  for (const e of s.events)
    if ((e.type === 'createPartition' || e.type === 'late' || e.type === 'early') && e.session) zones.add(e.session);
  for (const zone of zones) {
    try {
      await db.query('select now() at time zone $1', [zone]);
    } catch (e) {
      throw new ScenarioError(`time zone ${JSON.stringify(zone)}: ${(e as Error).message}`);
    }
  }
}

/**
 * Instants worth probing 1 µs either side: month boundaries in every session's zone and the table's
 * own period boundaries, as the SQL computes them (month_start, periods_between), over the clock's range.
 */
export async function edgeInstants(db: Db, s: Scenario): Promise<Micros[]> {
  if (!s.messages.edges) return [];
  const start = parseInstant(s.start);
  let reach = 0n;
  for (const e of s.events)
    if (e.type === 'clockJump') reach += (addDuration(start, e.by) - start) * (addDuration(start, e.by) > start ? 1n : -1n);
  const from = addDuration(start - reach, { months: -2 });
  const to = addDuration(start, { months: s.months + 2 }) + reach;
  const months = s.months + 4 + Math.ceil(Number(reach) / (28 * 86_400e6)) * 2;
  const fromText = new Date(Number(from / 1000n)).toISOString();
  const rows = await db.query<{ e: string }>(
    `select distinct ${US('partkeeper.month_start($1::timestamptz, z, k)')} as e
       from unnest($2::text[]) z, generate_series(0, $3::int) k
     union
     select ${US('p.lower')} from partkeeper.periods_between('${TABLE}', $1::timestamptz, $4::timestamptz) p
      where (partkeeper.config_for('${TABLE}')).part_interval <> 'month'
     order by 1`,
    [fromText, [...new Set([...s.sessions, s.table.time_zone ?? 'UTC'])], months, new Date(Number(to / 1000n)).toISOString()],
  );
  return rows.map((r) => BigInt(r.e));
}
