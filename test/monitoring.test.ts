// monitoring/: the alert rules pass their unit tests (promtool test rules), and a real Prometheus
// scraping `partkeeper exporter` has every metric the rules and the dashboard name. Both need Debian's
// prometheus package: skipped where it is absent, except in CI (CI=true), where its absence fails.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startExporter } from '../src/commands/exporter.ts';
import type { Db } from '../src/db.ts';
import { openPostgres } from '../src/postgres.ts';
import { startServer, type Server } from '../harness/server.ts';
import { applyBundle, hasPgCron, repoRoot, target } from '../harness/testing.ts';

const run = promisify(execFile);
const CI = process.env.CI === 'true';
const dir = path.join(repoRoot, 'monitoring');

/** Where Debian's prometheus package puts a binary, or on PATH; undefined when absent. */
function binary(name: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/bin']) if (d && existsSync(path.join(d, name))) return path.join(d, name);
  return undefined;
}
const promtool = binary('promtool');
const prometheus = binary('prometheus');
const required = (name: string, found: string | undefined): string => {
  if (!found) throw new Error(`${name} not found on PATH: install Debian's prometheus package (apt-get install prometheus; .ci/run does)`);
  return found;
};

/** The metric names PromQL expressions use (lower case, so alert names and labels are left out). */
const metricNames = (exprs: string[]) => new Set(exprs.flatMap((e) => e.match(/\bpartkeeper_[a-z_]+\b/g) ?? []));

function ruleExprs(): string[] {
  return readFileSync(path.join(dir, 'alerts.yml'), 'utf8')
    .split('\n')
    .flatMap((l) => /^\s*expr:\s*(.+)$/.exec(l)?.[1] ?? []);
}

function dashboardExprs(): string[] {
  type Panel = { targets?: { expr?: string }[] };
  const d = JSON.parse(readFileSync(path.join(dir, 'grafana-dashboard.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: { definition?: string }[] };
  };
  return [
    ...d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr ?? [])),
    ...d.templating.list.flatMap((v) => v.definition ?? []),
  ];
}

describe.skipIf(target !== 'pglite' || (!promtool && !CI))(
  `alert rules${promtool || CI ? '' : ' [skipped: promtool not installed here (Debian package prometheus)]'}`,
  () => {
    it('pass promtool check rules and their unit tests', async () => {
      const tool = required('promtool', promtool);
      expect((await run(tool, ['check', 'rules', 'alerts.yml'], { cwd: dir })).stdout).toMatch(/SUCCESS: \d+ rules found/);
      expect((await run(tool, ['test', 'rules', 'alerts.test.yml'], { cwd: dir })).stdout).toMatch(/SUCCESS/);
    });

    it('and the dashboard name metrics, and every one is in the README', () => {
      const used = metricNames([...ruleExprs(), ...dashboardExprs()]);
      expect(used.size).toBeGreaterThan(15);
      const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
      expect([...used].filter((m) => !readme.includes(`\`${m}\``))).toEqual([]);
    });
  },
);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
}

// a server of its own: pg_cron lives in one database per server, and the cron metrics need it
const scrapes = target === 'postgres' && ((hasPgCron && !!prometheus) || CI);
describe.skipIf(!scrapes)(
  `a real Prometheus scraping the exporter${scrapes ? '' : ' [skipped: needs a PostgreSQL server with pg_cron and Debian package prometheus]'}`,
  () => {
    it('has every metric the alert rules and the dashboard use, and no alert for pg_cron jobs that have not run yet', async () => {
      const bin = required('prometheus', prometheus);
      let server: Server | undefined;
      let db: Db | undefined;
      let child: ChildProcess | undefined;
      let exporter: Awaited<ReturnType<typeof startExporter>> | undefined;
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'partkeeper-prometheus-'));
      try {
        server = await startServer({ pgCron: true });
        const url = server.url('postgres');
        db = await openPostgres(url);
        await db.exec('create extension pg_cron');
        await applyBundle(db); // schedules the jobs; none has run yet
        await db.query(`select partkeeper.configure('livechat_messages', p_retention => '10 years')`);
        await db.query(`select partkeeper.maintain_table('livechat_messages')`);
        await db.exec('analyze livechat_messages');

        exporter = await startExporter({ open: () => openPostgres(url), host: '127.0.0.1', port: 0, log: () => {} });
        const port = await freePort();
        const api = `http://127.0.0.1:${port}/api/v1`;
        writeFileSync(
          path.join(tmp, 'prometheus.yml'),
          JSON.stringify({
            global: { scrape_interval: '1s', evaluation_interval: '1s' },
            rule_files: [path.join(dir, 'alerts.yml')],
            scrape_configs: [{ job_name: 'partkeeper', static_configs: [{ targets: [new URL(exporter.url).host] }] }],
          }),
        );
        let log = '';
        child = spawn(
          bin,
          [
            `--config.file=${path.join(tmp, 'prometheus.yml')}`,
            `--storage.tsdb.path=${path.join(tmp, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout?.on('data', (b: Buffer) => (log += b));
        child.stderr?.on('data', (b: Buffer) => (log += b));
        const get = async <T>(q: string): Promise<T> => {
          const r = (await (await fetch(`${api}/${q}`)).json()) as { status: string; data: T };
          if (r.status !== 'success') throw new Error(`${q}: ${JSON.stringify(r)}`);
          return r.data;
        };

        // two scrapes and a rule evaluation after the target is up
        await until('the exporter scraped', 60_000, async () => {
          const t = await get<{ activeTargets: { health: string; lastError: string }[] }>('targets');
          if (t.activeTargets[0]?.lastError) throw new Error(t.activeTargets[0].lastError);
          return t.activeTargets[0]?.health === 'up' ? true : undefined;
        }).catch((e: Error) => {
          throw new Error(`${e.message}\nprometheus said:\n${log.slice(-3000)}`);
        });
        await new Promise((r) => setTimeout(r, 3000));

        const names = new Set(await get<string[]>('label/__name__/values'));
        const used = metricNames([...ruleExprs(), ...dashboardExprs()]);
        expect([...used].filter((m) => !names.has(m))).toEqual([]);

        const query = async (q: string) =>
          (await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(q)}`))
            .result;
        expect((await query('partkeeper_up')).map((s) => s.value[1])).toEqual(['1']);
        // the monthly job cannot have run during the test: it is in state never, and no rule calls that a failure
        expect((await query('partkeeper_cron_job_last_run_state{jobname="partkeeper-monthly"} == 1')).map((s) => s.metric.state)).toEqual([
          'never',
        ]);
        expect(await query('ALERTS{alertname=~"PartkeeperCronJob.*"}')).toEqual([]);
        const rules = (await get<{ groups: { rules: { name: string; health: string }[] }[] }>('rules')).groups.flatMap((g) => g.rules);
        expect(rules.length).toBeGreaterThan(10);
        expect(rules.filter((r) => r.health === 'err')).toEqual([]);
      } finally {
        child?.kill('SIGTERM');
        await exporter?.close();
        await db?.close();
        await server?.stop();
        rmSync(tmp, { recursive: true, force: true });
      }
    }, 120_000);
  },
);
