// The partkeeper command line: dispatch, shared options, and how errors and exit codes look.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { repoRoot } from './bundle.ts';
import { EXIT, UsageError, type Command, type Context } from './command.ts';
import { DbError, type Db } from './db.ts';
import { baselineEngineOnly } from './engine.ts';
import { errorOutput } from './outputs.ts';

/**
 * The commands by the name typed after `partkeeper`, each loaded only when run: a command's
 * dependencies (the simulator, the exporter's HTTP server, COPY streams) cost nothing to the others.
 * The loader resolves to the Command (options, usage, run); it rejects only if the module cannot load.
 */
export const commands: Record<string, () => Promise<Command>> = {
  apply: async () => (await import('./commands/apply.ts')).apply,
  uninstall: async () => (await import('./commands/uninstall.ts')).uninstall,
  maintain: async () => (await import('./commands/maintain.ts')).maintain,
  status: async () => (await import('./commands/status.ts')).status,
  doctor: async () => (await import('./commands/doctor.ts')).doctor,
  archive: async () => (await import('./commands/archive.ts')).archive,
  restore: async () => (await import('./commands/restore.ts')).restore,
  convert: async () => (await import('./commands/convert.ts')).convert,
  unpartition: async () => (await import('./commands/convert.ts')).unpartition,
  simulate: async () => (await import('./commands/simulate.ts')).simulate,
  exporter: async () => (await import('./commands/exporter.ts')).exporter,
};

export const connection: NonNullable<ParseArgsConfig['options']> = {
  'database-url': { type: 'string' },
  pglite: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const out = (line = '') => void process.stdout.write(`${line}\n`);
const err = (line = '') => void process.stderr.write(`${line}\n`);

/** The package's version (package.json beside sql/), as `partkeeper --version` prints it. */
export const version = (): string => (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

async function usage(): Promise<string> {
  const lines = ['usage: partkeeper <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  lines.push('', 'connection (every command): --database-url URL | DATABASE_URL | PGHOST, PGDATABASE, ... | --pglite DIR');
  lines.push('exit codes: 0 ok, 1 failed, 2 done with warnings, 64 wrong usage', "'partkeeper <command> --help' for a command's options");
  lines.push("'partkeeper --version' for the version");
  return lines.join('\n');
}

/** An option given more than once that takes one value: parseArgs would keep only the last. */
function refuseRepeats(options: NonNullable<ParseArgsConfig['options']>, tokens: ReturnType<typeof parseArgs>['tokens']): void {
  const seen = new Map<string, string[]>();
  for (const t of tokens ?? []) {
    if (t.kind !== 'option' || options[t.name]?.multiple) continue;
    seen.set(t.name, [...(seen.get(t.name) ?? []), t.value ?? 'true']);
  }
  for (const [name, values] of seen)
    if (values.length > 1) throw new UsageError(`--${name} given ${values.length} times (${values.join(', ')}); give it once`);
}

/** What the connection options mean together, for every command: one database or the other. */
const connectionExcludes: NonNullable<Command['excludes']> = { 'database-url': ['pglite'] };

/**
 * The one rule on options given together (exit 64 before anything runs): a pair one of whose
 * options excludes the other (the command's `excludes`, and the connection's), an option without
 * the one it `needs`, an option that goes `alone` with anything else. Reads what was given (the
 * tokens), never a default.
 */
function refuseCombinations(command: Command, tokens: ReturnType<typeof parseArgs>['tokens'], positionals: string[]): void {
  const given = [...new Set((tokens ?? []).flatMap((t) => (t.kind === 'option' ? [t.name] : [])))];
  const excludes = (a: string, b: string) =>
    [connectionExcludes, command.excludes ?? {}].some((rule) => rule[a]?.includes(b) || rule[b]?.includes(a));
  for (const [i, a] of given.entries())
    for (const b of given.slice(i + 1)) if (excludes(a, b)) throw new UsageError(`--${a} and --${b} exclude each other`);
  for (const [option, needed] of Object.entries(command.needs ?? {}))
    if (given.includes(option) && !given.includes(needed)) throw new UsageError(`--${option} goes with --${needed}`);
  for (const option of command.alone ?? []) {
    const others = [...given.filter((o) => o !== option).map((o) => `--${o}`), ...positionals];
    if (given.includes(option) && others.length)
      throw new UsageError(`--${option} takes no other option or argument (got ${others.join(' ')})`);
  }
}

/** Positional arguments a command accepts: none unless it says otherwise. */
function checkPositionals(command: Command, positionals: string[]): void {
  const [min, max] = command.positionals ?? [0, 0];
  if (positionals.length > max)
    throw new UsageError(
      max === 0
        ? `unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`
        : `at most ${max} argument${max > 1 ? 's' : ''} expected, got ${positionals.join(' ')}`,
    );
  if (positionals.length < min) throw new UsageError(`${min} argument${min > 1 ? 's' : ''} expected`);
}

/**
 * Runs one command line; returns the exit code (EXIT). Errors print SQLSTATE, message and hint on
 * stderr, never a stack; with --json they are also printed on stdout as a partkeeper-error/1 object.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    out(`partkeeper ${version()}`);
    return EXIT.ok;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(await usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = commands[name];
  if (!load) {
    err(`partkeeper: unknown command '${name}'\n\n${await usage()}`);
    return EXIT.usage;
  }
  const command = await load();
  const options = { ...connection, ...command.options };
  // whether errors go to stdout as JSON too: known before the arguments are understood
  const json = rest.includes('--json') && 'json' in options;
  let db: Db | undefined;
  try {
    const { values, positionals, tokens } = parseArgs({ args: rest, options, allowPositionals: true, tokens: true });
    if (values.help) {
      out(command.usage);
      return EXIT.ok;
    }
    refuseRepeats(options, tokens);
    refuseCombinations(command, tokens, positionals);
    checkPositionals(command, positionals);
    const ctx: Context = {
      values,
      positionals,
      db: async () => {
        if (!db) {
          const { openTarget } = await import('./connect.ts');
          db = await openTarget({ databaseUrl: values['database-url'] as string | undefined, pglite: values.pglite as string | undefined });
        }
        return db;
      },
      out,
      err,
    };
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`partkeeper ${name}: ${(e as Error).message}\n\n${command.usage}`);
      if (json) out(JSON.stringify(errorOutput(name, { code: 'usage', message: (e as Error).message }), null, 2));
      return EXIT.usage;
    }
    const d = DbError.from(e);
    if (d instanceof DbError) {
      // a partkeeper function this command line calls and the installed bundle lacks: an older bundle
      // (PostgreSQL's own hint there speaks of type casts)
      const hint =
        d.code === '42883' && /\bpartkeeper\./.test(d.message)
          ? 'The partkeeper installed in this database is older than this command line: upgrade it with `partkeeper apply` (same connection options).'
          : d.hint;
      err(`partkeeper ${name}: error ${d.code}: ${d.message}`);
      if (d.detail) err(`detail: ${d.detail}`);
      if (hint) err(`hint: ${hint}`);
      if (json)
        out(
          JSON.stringify(
            errorOutput(name, {
              code: d.code,
              message: d.message,
              ...(d.detail ? { detail: d.detail } : {}),
              ...(hint ? { hint } : {}),
            }),
            null,
            2,
          ),
        );
    } else {
      const message = (e as Error)?.message ?? String(e);
      err(`partkeeper ${name}: ${message}`);
      if (json) out(JSON.stringify(errorOutput(name, { code: (e as { code?: string }).code ?? 'error', message }), null, 2));
    }
    return EXIT.failed;
  } finally {
    await db?.close();
  }
}

/**
 * The executable's entry: main() with the process around it. A closed stdout (`partkeeper status |
 * head`) ends the process quietly; once main() returns, anything still holding the event loop (a
 * socket the server never closed) is given two seconds, then the process exits with main()'s code.
 */
export async function run(argv: string[]): Promise<void> {
  // a command runs a few hundred statements; simulate plays thousands
  if (argv[0] !== 'simulate') baselineEngineOnly();
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
      throw e;
    });
  const code = await main(argv);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}
