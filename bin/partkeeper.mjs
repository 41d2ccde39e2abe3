#!/usr/bin/env node
// The partkeeper command line, from the build (npm run build writes dist/). In a checkout without
// a build, the TypeScript sources run through tsx, a development dependency.
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/cli.js', import.meta.url);
let main;
if (existsSync(built)) {
  ({ main } = await import(built.href));
} else {
  const { register } = await import('tsx/esm/api').catch(() => {
    console.error('partkeeper: no build found (dist/); run `npm run build` first');
    process.exit(70);
  });
  register();
  ({ main } = await import('../src/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
