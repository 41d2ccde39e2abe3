// Writes schemas/<output>.schema.json, the JSON Schemas of the command line's --json outputs, from
// their zod schemas (src/outputs.ts). test/outputs.test.ts fails when the files differ from them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/bundle.ts';
import { jsonSchema, outputSchemas } from '../src/outputs.ts';

/** The path of an output's JSON Schema file. */
export const schemaFile = (name: string) => path.join(repoRoot, 'schemas', `${name}.schema.json`);
/** The text that file must hold: the generated schema, two-space indented, with a final newline. */
export const schemaText = (name: keyof typeof outputSchemas) => `${JSON.stringify(jsonSchema(name), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of Object.keys(outputSchemas) as (keyof typeof outputSchemas)[]) {
    writeFileSync(schemaFile(name), schemaText(name));
    console.log(`wrote ${path.relative(repoRoot, schemaFile(name))}`);
  }
}
