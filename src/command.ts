// What every command of the command line is and gets, and how it ends: the one module commands and
// the dispatcher (cli.ts) share, so that neither imports the other.
import type { ParseArgsConfig } from 'node:util';
import type { Db } from './db.ts';

/** Exit codes, documented in the README ("Command line"); 130 and 143 end a run stopped by SIGINT or SIGTERM. */
export const EXIT = { ok: 0, failed: 1, warnings: 2, usage: 64, interrupted: 130, terminated: 143 } as const;

/**
 * The exit code for a status folded by the SQL's partkeeper.worst_status(): 'failed' (or a health
 * check's 'error') 1, 'warning' 2, anything else 0. The one mapping every command uses.
 */
export const exitFor = (status: string): number =>
  status === 'failed' || status === 'error' ? EXIT.failed : status === 'warning' ? EXIT.warnings : EXIT.ok;

export interface Command {
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  /** How many positional arguments it takes, [min, max]; none by default. More or fewer is a usage error. */
  positionals?: [number, number];
  /** Options that contradict each other: an option, and those it may not be given with (either way round). */
  excludes?: Record<string, string[]>;
  /** Options that mean nothing without another: an option, and the one it goes with. */
  needs?: Record<string, string>;
  /** Options that take no other option or argument. */
  alone?: string[];
  run(ctx: Context): Promise<number>;
}

export interface Context {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  /** Opens the target database once; closed by the dispatcher. */
  db(): Promise<Db>;
  out(line?: string): void;
  /** Progress and diagnostics go to stderr so that --json output stays clean. */
  err(line?: string): void;
}

/** Wrong words on the command line: exit code 64 and the usage, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
