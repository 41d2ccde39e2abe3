#!/usr/bin/env node
// The partkeeper command line, from the build (dist/, shipped in the package). In a checkout without
// a build, the TypeScript sources run through tsx, a development dependency.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// On embedded PGlite a command runs a few hundred statements: V8's baseline WebAssembly compiler
// alone (Liftoff) runs them in ~0.7 s of CPU where optimising PGlite's engine as well costs ~2 s
// (`status --pglite DIR`, measured on Node 20). `simulate` plays thousands of statements and keeps
// the optimising compiler (a 36-month scenario: 29 s with it, 46 s without). A command on a server
// compiles no WebAssembly, so this changes nothing there.
if (process.argv[2] !== 'simulate') setFlagsFromString('--liftoff-only');

const built = new URL('../dist/src/cli.js', import.meta.url);
let run;
if (existsSync(built)) {
  ({ run } = await import(built.href));
} else {
  const { register } = await import('tsx/esm/api').catch(() => {
    console.error('partkeeper: no build found (dist/); run `npm run build` first');
    process.exit(70);
  });
  register();
  ({ run } = await import('../src/cli.ts'));
}
await run(process.argv.slice(2));
