// How this process compiles PGlite's engine (WebAssembly), apart from src/pglite.ts so that choosing
// costs a command nothing when it never opens PGlite.
import { setFlagsFromString } from 'node:v8';

/**
 * Makes this process compile PGlite's engine with V8's baseline WebAssembly compiler only (Liftoff).
 * For a process that runs a few hundred statements, a command or the demo: optimising the 9 MB
 * engine as well costs more CPU than it wins back (`status --pglite DIR`: ~2 s of CPU with it,
 * ~0.9 s without; Node 20). A process that plays thousands of statements (`simulate`, the tests)
 * keeps the optimising compiler (a 36-month simulation: 29 s with it, 46 s without). Call before the
 * first database opens; it changes nothing for a process that only talks to servers.
 */
export function baselineEngineOnly(): void {
  setFlagsFromString('--liftoff-only');
}
