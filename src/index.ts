// For applications: make sure the partitions exist when the application starts.
// Inserts never depend on it (rows of a month without partition wait in the DEFAULT partition),
// so a failure is reported and never thrown: an application must not refuse to start over it.

/** Anything with node-postgres' query(): pg.Client, pg.Pool, a pool client. */
export interface Queryable {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export type StartupResult = { ok: true; partitions: string[] } | { ok: false; error: { code?: string; message: string; hint?: string } };

/**
 * Calls `SELECT ensure_livechat_partitions()` (the current month and the next premake months,
 * waiting up to the table's lock_timeout for a maintenance run in progress) and reports what
 * happened through `log` (console by default). Resolves; never rejects.
 */
export async function ensurePartitionsAtStartup(
  db: Queryable,
  log: (message: string) => void = (m) => console.info(m),
): Promise<StartupResult> {
  try {
    const { rows } = await db.query('select ensure_livechat_partitions() as partitions');
    const partitions = (rows[0]?.partitions ?? []) as string[];
    log(`partkeeper: partitions ready: ${partitions.join(', ')}`);
    return { ok: true, partitions };
  } catch (e) {
    const { code, message, hint } = e as { code?: string; message?: string; hint?: string };
    log(
      `partkeeper: could not ensure partitions (${code ?? 'error'}: ${message ?? String(e)})${hint ? `; hint: ${hint}` : ''}; inserts still succeed`,
    );
    return { ok: false, error: { ...(code && { code }), message: message ?? String(e), ...(hint && { hint }) } };
  }
}
