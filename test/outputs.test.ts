// The --json outputs' JSON Schemas in schemas/ are the ones their zod schemas emit: a change to an
// output changes its schema file in the same commit (`npm run schemas`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FORMATS, outputSchemas } from '../src/outputs.ts';
import { schemaFile, schemaText } from '../harness/write-schemas.ts';

describe('schemas/', () => {
  for (const name of Object.keys(outputSchemas) as (keyof typeof outputSchemas)[]) {
    it(`${name}.schema.json is what ${FORMATS[name]} emits`, () => {
      expect(readFileSync(schemaFile(name), 'utf8')).toBe(schemaText(name));
    });
  }
});
