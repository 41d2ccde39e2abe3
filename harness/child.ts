// The command line as a separate process, the way cron, a shell or a pipe runs it, under a time limit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../src/bundle.ts';

export type ChildRun = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
};

export interface ChildOptions {
  /** Killed (SIGKILL) after this many milliseconds; timedOut then says so. Default 20 s. */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** Called with the running child, e.g. to close its stdout or send it a signal when it prints something. */
  during?: (child: ReturnType<typeof spawn>, progress: { stdout: () => string; stderr: () => string }) => void;
  /** The executable to run; default bin/partkeeper.mjs of this checkout. */
  bin?: string;
  cwd?: string;
}

/** Runs `partkeeper ...args` as a child process and resolves when it ends (or was killed at the time limit). */
export function runChild(args: string[], opts: ChildOptions = {}): Promise<ChildRun> {
  const started = Date.now();
  const bin = opts.bin ?? path.join(repoRoot, 'bin/partkeeper.mjs');
  const child = spawn(bin.endsWith('.mjs') ? process.execPath : bin, bin.endsWith('.mjs') ? [bin, ...args] : args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.stdout.on('error', () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 20_000);
  opts.during?.(child, { stdout: () => stdout, stderr: () => stderr });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}
