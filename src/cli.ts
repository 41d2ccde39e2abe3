// The partkeeper command line: dispatch, shared options, and how errors and exit codes look.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type Command, type Context } from './command.ts';
import { openTarget } from './connect.ts';
import { DbError, type Db } from './db.ts';

const commands: Record<string, () => Promise<Command>> = {
  apply: async () => (await import('./commands/apply.ts')).apply,
  maintain: async () => (await import('./commands/maintain.ts')).maintain,
  status: async () => (await import('./commands/status.ts')).status,
  doctor: async () => (await import('./commands/doctor.ts')).doctor,
  archive: async () => (await import('./commands/archive.ts')).archive,
  restore: async () => (await import('./commands/restore.ts')).restore,
  convert: async () => (await import('./commands/convert.ts')).convert,
  unpartition: async () => (await import('./commands/convert.ts')).unpartition,
  simulate: async () => (await import('./commands/simulate.ts')).simulate,
};

const connection: ParseArgsConfig['options'] = {
  'database-url': { type: 'string' },
  pglite: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const out = (line = '') => void process.stdout.write(`${line}\n`);
const err = (line = '') => void process.stderr.write(`${line}\n`);

async function usage(): Promise<string> {
  const lines = ['usage: partkeeper <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  lines.push('', 'connection (every command): --database-url URL | DATABASE_URL | PGHOST, PGDATABASE, ... | --pglite DIR');
  lines.push('exit codes: 0 ok, 1 failed, 2 done with warnings, 64 wrong usage', "'partkeeper <command> --help' for a command's options");
  return lines.join('\n');
}

/** Runs one command line; returns the exit code. Errors print SQLSTATE, message and hint, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
  let db: Db | undefined;
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...connection, ...command.options }, allowPositionals: true });
    if (values.help) {
      out(command.usage);
      return EXIT.ok;
    }
    const ctx: Context = {
      values,
      positionals,
      db: async () =>
        (db ??= await openTarget({
          databaseUrl: values['database-url'] as string | undefined,
          pglite: values.pglite as string | undefined,
        })),
      out,
      err,
    };
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`partkeeper ${name}: ${(e as Error).message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    const d = DbError.from(e);
    if (d instanceof DbError) {
      err(`partkeeper ${name}: error ${d.code}: ${d.message}`);
      if (d.detail) err(`detail: ${d.detail}`);
      if (d.hint) err(`hint: ${d.hint}`);
    } else {
      err(`partkeeper ${name}: ${(e as Error)?.message ?? String(e)}`);
    }
    return EXIT.failed;
  } finally {
    await db?.close();
  }
}
