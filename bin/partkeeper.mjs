#!/usr/bin/env node
// The partkeeper command line, from the build (dist/, shipped in the package). In a checkout without
// a build, the TypeScript sources run through tsx, a development dependency.
import { existsSync } from 'node:fs';

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
