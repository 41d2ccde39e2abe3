import type { Readable, Transform } from 'node:stream';

// The one database interface used by tests, benches and the CLI. Both backends
// (PGlite in WASM, a real server through node-postgres) are thin drivers under
// `Session`, so error shape, notices, value parsing and transactions are
// identical by construction.

export interface Notice {
  severity: string;
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** A readable followed by transforms: what a COPY FROM reads, in pipeline order. */
export type CopySource = [Readable, ...Transform[]];

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  /** Notices/warnings (RAISE NOTICE, ...) received so far; tests may clear it. */
  readonly notices: Notice[];
  /** One statement, $1.. parameters, extended protocol on both backends. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Exactly one row, or throws. */
  one<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T>;
  /**
   * A multi-statement script, no parameters (simple protocol: one implicit
   * transaction unless it has its own). Outside transaction(), a failed script
   * is rolled back, so one with its own BEGIN never leaves the session aborted.
   */
  exec(sql: string): Promise<void>;
  /** BEGIN/COMMIT, ROLLBACK on throw; nested calls use savepoints. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  backendPid(): Promise<number>;
  /** COPY (query) TO STDOUT with options: the data, and the row count reported at its end. PGlite buffers it in memory. */
  copyOut(query: string, options: string): Promise<{ data: Readable; rows: () => number }>;
  /** COPY target FROM STDIN with options, fed by the streams in pipeline order; the rows loaded. PGlite buffers it. */
  copyIn(target: string, options: string, source: CopySource): Promise<number>;
  close(): Promise<void>;
}

/**
 * A PostgreSQL error with its protocol fields, whichever driver raised it. A
 * connection that died without a server message (reset, EOF) reports 08006.
 */
export class DbError extends Error {
  override name = 'DbError';
  code: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  routine?: string;

  constructor(fields: { message: string; code: string } & Partial<Omit<DbError, 'name'>>, cause?: unknown) {
    super(fields.message, { cause });
    this.code = fields.code;
    for (const k of ['severity', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'constraint', 'routine'] as const) {
      const v = fields[k];
      if (typeof v === 'string') this[k] = v;
    }
  }

  /** Wraps anything carrying a SQLSTATE; other errors (bugs, I/O) pass through untouched. */
  static from(e: unknown): unknown {
    if (e instanceof DbError || !(e instanceof Error)) return e;
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    // A server error always has a severity; Node's own errors (EFBIG, EPERM: also five capitals) never do.
    if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || typeof severity !== 'string') return e;
    // Driver errors keep their fields as own properties; message is not enumerable.
    return new DbError({ ...e, message: e.message, code }, e);
  }
}

// Values PostgreSQL prints that JS would lose or reshape (time zones, precision):
// keep them as the server's text. Array OIDs are listed for node-postgres;
// PGlite derives array parsers from the element parsers itself.
const identity = (s: string) => s;
/** int8, numeric, date, time, timestamp, timestamptz, interval, timetz. */
export const TEXT_OIDS = [20, 1700, 1082, 1083, 1114, 1184, 1186, 1266];
/** Their array types. */
export const TEXT_ARRAY_OIDS = [1016, 1231, 1182, 1183, 1115, 1185, 1187, 1270];
export const textParsers: Record<number, (s: string) => string> = Object.fromEntries(TEXT_OIDS.map((oid) => [oid, identity]));

type NoticeFields = {
  severity?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
};

/** Both drivers hand notices over as protocol messages with the same field names. */
export function toNotice(m: NoticeFields): Notice {
  const n: Notice = { severity: m.severity ?? 'NOTICE', message: m.message ?? '' };
  if (m.code) n.code = m.code;
  if (m.detail) n.detail = m.detail;
  if (m.hint) n.hint = m.hint;
  return n;
}

/** What a backend must provide; everything else lives in Session. */
export interface Driver {
  readonly kind: Db['kind'];
  rows(sql: string, params: unknown[], onNotice: (n: Notice) => void): Promise<Record<string, unknown>[]>;
  script(sql: string, onNotice: (n: Notice) => void): Promise<void>;
  copyOut: Db['copyOut'];
  copyIn: Db['copyIn'];
  close(): Promise<void>;
}

/**
 * The Db both backends share, over a Driver. Wraps every driver error with a SQLSTATE as a DbError;
 * records notices in `notices`; tracks transaction depth so that transaction() nests with savepoints
 * (pk_sp_1, ...) and a failed exec() outside one is rolled back, leaving the session usable (PGlite's
 * single connection would otherwise stay aborted). Not safe for concurrent use: one statement at a
 * time, as on one connection. After close() (which may be called again), query(), one(), exec() and
 * transaction() throw Error. Takes no lock of its own.
 */
export class Session implements Db {
  readonly notices: Notice[] = [];
  #depth = 0;
  #closed = false;
  readonly #record = (n: Notice) => void this.notices.push(n);

  constructor(protected readonly driver: Driver) {}

  get kind() {
    return this.driver.kind;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.#open();
    try {
      return (await this.driver.rows(sql, params, this.#record)) as T[];
    } catch (e) {
      throw DbError.from(e);
    }
  }

  async one<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T> {
    const rows = await this.query<T>(sql, params);
    if (rows.length !== 1) throw new Error(`expected exactly one row, got ${rows.length}: ${sql}`);
    return rows[0]!;
  }

  async exec(sql: string): Promise<void> {
    this.#open();
    try {
      await this.driver.script(sql, this.#record);
    } catch (e) {
      // A script with its own BEGIN that fails mid-way would leave the session in
      // an aborted transaction (PGlite: for good). Outside transaction() a failed
      // script is a finished unit: end it. Without BEGIN this is a no-op.
      if (this.#depth === 0) await this.#quiet('ROLLBACK');
      throw DbError.from(e);
    }
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // The connection is shared, so nesting is tracked here; savepoints make an
    // inner failure recoverable without aborting the outer transaction.
    const sp = this.#depth > 0 ? `pk_sp_${this.#depth}` : undefined;
    await this.exec(sp ? `SAVEPOINT ${sp}` : 'BEGIN');
    this.#depth++;
    let result: T;
    try {
      result = await fn(this);
    } catch (e) {
      this.#depth--;
      // Always attempt the rollback: PGlite's single connection would otherwise
      // stay in an aborted transaction and fail every later statement.
      await this.#quiet(sp ? `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}` : 'ROLLBACK');
      throw e;
    }
    this.#depth--;
    // A failed COMMIT (deferred constraint) is a failed script at depth 0: exec ends it.
    await this.exec(sp ? `RELEASE SAVEPOINT ${sp}` : 'COMMIT');
    return result;
  }

  #open(): void {
    if (this.#closed) throw new Error(`this ${this.kind} connection was closed`);
  }

  /** Cleanup statements: their errors and "no transaction in progress" warnings are noise. */
  async #quiet(sql: string): Promise<void> {
    await this.driver.script(sql, () => {}).catch(() => {});
  }

  async copyOut(query: string, options: string): Promise<{ data: Readable; rows: () => number }> {
    try {
      return await this.driver.copyOut(query, options);
    } catch (e) {
      throw DbError.from(e);
    }
  }

  async copyIn(target: string, options: string, source: CopySource): Promise<number> {
    try {
      return await this.driver.copyIn(target, options, source);
    } catch (e) {
      // a server error becomes a DbError; a failing stream's own error passes through as it is
      throw DbError.from(e);
    }
  }

  async backendPid(): Promise<number> {
    return (await this.one<{ pid: number }>('select pg_backend_pid() as pid')).pid;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.driver.close();
  }
}
