import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError, type Command } from '../command.ts';
import { openTarget } from '../connect.ts';
import type { Db } from '../db.ts';
import { PartkeeperMetrics, readSnapshot } from '../metrics.ts';

/** Where `--listen` binds when it is not given. */
export const DEFAULT_LISTEN = '127.0.0.1:9817';

/**
 * Reads `--listen`: "HOST:PORT", ":PORT" (every interface), "PORT", or "[IPv6]:PORT"; port 0 picks a
 * free one. Returns the host (undefined: every interface) and the port; raises UsageError otherwise.
 */
export function parseListen(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$|^(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3] ?? m?.[4]);
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen ${addr}: expected HOST:PORT, :PORT or PORT (0 to 65535)`);
  return { host: m[1] ?? (m[2] || undefined), port };
}

export interface ExporterOptions {
  /** Opens a connection to the database; called again on the next scrape after any failure. */
  open: () => Promise<Db>;
  host?: string | undefined;
  /** 0 picks a free port: the returned url says which. */
  port: number;
  /** Longest a scrape waits for the database, in milliseconds, before it answers partkeeper_up 0. */
  timeoutMs?: number;
  /** Where a change between reachable and unreachable is reported (one line each time it changes). */
  log?: (line: string) => void;
}

export interface Exporter {
  /** http://host:port/metrics as bound. */
  readonly url: string;
  /** Stops listening and closes the database connection. */
  close(): Promise<void>;
}

/**
 * Serves the metrics of src/metrics.ts at /metrics, reading the database anew at every scrape
 * through one connection (scrapes wait for each other). A database that cannot be reached, or does
 * not answer within timeoutMs, gives partkeeper_up 0 and nothing else, with HTTP 200: the exporter
 * keeps serving and reconnects at the next scrape. Raises the listen error (EADDRINUSE, ...).
 */
export async function startExporter(o: ExporterOptions): Promise<Exporter> {
  const metrics = new PartkeeperMetrics();
  const timeoutMs = o.timeoutMs ?? 10_000;
  let db: Db | undefined;
  let reachable: boolean | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const within = <T>(p: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  };

  async function read(): Promise<void> {
    try {
      if (!db) {
        const opening = o.open();
        // a connection that arrives after the timeout is closed, not leaked
        db = await within(opening, 'connecting').catch((e: unknown) => {
          void opening.then((late) => late.close()).catch(() => {});
          throw e;
        });
      }
      metrics.fill(await within(readSnapshot(db), 'reading partkeeper.status() and partkeeper.metrics()'));
      if (reachable === false) o.log?.('partkeeper exporter: the database answers again');
      reachable = true;
    } catch (e) {
      const broken = db;
      db = undefined;
      await broken?.close().catch(() => {});
      metrics.fill(null);
      if (reachable !== false) o.log?.(`partkeeper exporter: partkeeper_up 0: ${(e as Error)?.message ?? String(e)}`);
      reachable = false;
    }
  }

  const scrape = (): Promise<string> => {
    const next = queue.then(read).then(() => metrics.text());
    queue = next.catch(() => {});
    return next;
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      scrape().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error)?.message ?? e}\n`),
      );
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('partkeeper exporter: metrics at /metrics\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/metrics`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue;
      await db?.close();
      db = undefined;
    },
  };
}

export const exporter: Command = {
  summary: 'serve Prometheus metrics over HTTP (partkeeper_up 0 while the database cannot be read)',
  usage: `usage: partkeeper exporter [--listen ADDR] [--timeout SECONDS] [--database-url URL | --pglite DIR]

Serves at http://ADDR/metrics the metrics that 'partkeeper status --prometheus' prints, read from
partkeeper.status() and partkeeper.metrics() at every scrape (README, "Monitoring kit"). ADDR is
HOST:PORT, :PORT (every interface) or PORT; default ${DEFAULT_LISTEN}. A database that cannot be
reached, or does not answer within --timeout seconds (default 10), gives partkeeper_up 0; the
exporter keeps serving and reconnects at the next scrape. Runs until SIGINT or SIGTERM: exit code 0.`,
  options: { listen: { type: 'string' }, timeout: { type: 'string' } },
  async run(ctx) {
    const { host, port } = parseListen((ctx.values.listen as string | undefined) ?? DEFAULT_LISTEN);
    const timeout = Number((ctx.values.timeout as string | undefined) ?? '10');
    if (!(timeout > 0 && timeout <= 3600))
      throw new UsageError(`--timeout ${ctx.values.timeout}: expected seconds, more than 0 and at most 3600`);
    const target = { databaseUrl: ctx.values['database-url'] as string | undefined, pglite: ctx.values.pglite as string | undefined };
    const server = await startExporter({ open: () => openTarget(target), host, port, timeoutMs: timeout * 1000, log: ctx.err });
    ctx.err(`partkeeper exporter: serving ${server.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
};
