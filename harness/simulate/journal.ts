// What a simulation does, as SQL: every action is one statement run in a session whose TimeZone,
// partkeeper.now and role are part of the action. The same entries run live, replay in minimisation
// trials, and print as the repro script, so a repro is exactly what happened.
import { escapeLiteral } from 'pg';
import type { Db } from '../../src/db.ts';
import { formatInstant, type Micros } from '../instant.ts';
import type { LedgerRow } from '../invariants.ts';

export type EntryKind = 'insert' | 'maintain' | 'create' | 'catchUp' | 'hold' | 'release' | 'kill';

export interface Entry {
  step: number;
  clock: Micros;
  zone: string;
  /** Role the statement runs as (SET ROLE); null: the installing role. */
  role: string | null;
  kind: EntryKind;
  /** The statement as executed and as printed in a repro. */
  sql: string;
  /** What a replay inside one transaction runs instead (CALL run_maintenance() commits). */
  trialSql?: string;
  rows?: LedgerRow[];
  /** room_id of the inserted rows: the application session they came from. */
  room?: number;
  /** A maintenance run that changed nothing (minimisation tries without these first). */
  quiet?: boolean;
  /** Needs sessions of its own: printed as a comment, skipped by replays. */
  multiSession?: boolean;
}

/** An INSERT of ledger rows with their own ids, so a repro and the ledger name the same rows. */
export function insertSql(table: string, rows: readonly LedgerRow[], room = 1): string {
  const values = rows.map((r) => `(${r.id}, ${room}, ${(r.id % 50) + 1}, 'sim ${r.id}', '${formatInstant(r.at)}')`);
  return `insert into ${table} (id, room_id, sender_id, body, created_at) overriding system value values\n  ${values.join(',\n  ')}`;
}

export const createSql = (table: string, month: string) =>
  `select create_monthly_partition(${escapeLiteral(table)}, ${escapeLiteral(month)}::date)`;

/** The session settings an entry needs, tracked so that only changes are sent. */
export class SessionState {
  zone: string | undefined;
  clock: Micros | undefined;
  /** A session starts as the role that connected: the installing one. */
  role: string | null = null;

  /** SET statements that bring the session to `e`'s zone, clock and role. */
  prelude(e: Pick<Entry, 'zone' | 'clock' | 'role'>): string[] {
    const out: string[] = [];
    if (e.role !== this.role) out.push(e.role === null ? 'reset role' : `set role ${e.role}`);
    if (e.zone !== this.zone) out.push(`set timezone = ${escapeLiteral(e.zone)}`);
    if (e.clock !== this.clock) out.push(`set partkeeper.now = '${formatInstant(e.clock)}'`);
    this.zone = e.zone;
    this.clock = e.clock;
    this.role = e.role;
    return out;
  }

  async enter(db: Db, e: Pick<Entry, 'zone' | 'clock' | 'role'>): Promise<void> {
    for (const sql of this.prelude(e)) await db.exec(sql);
  }

  /** Back to the installing role (the checks read partkeeper's tables). */
  async asOwner(db: Db): Promise<void> {
    if (this.role !== null) await db.exec('reset role');
    this.role = null;
  }
}
