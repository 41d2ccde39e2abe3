// A setup file: vitest runs it for every test file, also when a worker keeps the modules of the
// files it ran before (isolate: false), so the hook lands on each file's root suite.
import { afterAll } from 'vitest';
import { endOfFile } from './testing.ts';

afterAll(endOfFile);
