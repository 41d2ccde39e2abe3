// What the command line prints with --json: one zod schema per output, each with a `format` naming it
// and its version, so that a program reading it can tell a shape it knows from a later one. The JSON
// Schema files in schemas/ are generated from these (`npm run schemas`; a test keeps them equal).
// A field is added within a version; renaming or removing one makes a new version.
import { z } from 'zod';
import { healthCheckSchema, maintenanceAllSchema, statusSchema } from './contracts.ts';

/** Each --json output's `format` value: its name and version. */
export const FORMATS = {
  maintain: 'partkeeper-maintain/1',
  status: 'partkeeper-status/1',
  doctor: 'partkeeper-doctor/1',
  archive: 'partkeeper-archive-result/1',
  error: 'partkeeper-error/1',
} as const;

/** `partkeeper maintain --json`: CALL partkeeper.run_maintenance()'s results (README, "The JSON status"). */
export const maintainOutputSchema = z.strictObject({ format: z.literal(FORMATS.maintain), ...maintenanceAllSchema.shape });

/** `partkeeper status --json`: partkeeper.status(). */
export const statusOutputSchema = z.strictObject({ format: z.literal(FORMATS.status), ...statusSchema.shape });

/** `partkeeper doctor --json`: partkeeper.health()'s checks and the clock comparison this machine makes. */
export const doctorOutputSchema = z.strictObject({
  format: z.literal(FORMATS.doctor),
  status: z.enum(['ok', 'warning', 'error']),
  checks: z.array(healthCheckSchema.extend({ check: z.union([healthCheckSchema.shape.check, z.literal('clock_skew')]) })),
});

/** `partkeeper archive --json`: the archive's id in partkeeper.archives, its files and its manifest. */
export const archiveOutputSchema = z.strictObject({
  format: z.literal(FORMATS.archive),
  id: z.number().int(),
  manifest_path: z.string(),
  data_path: z.string(),
  // the manifest's own schema is manifestSchema (src/archive.ts); kept open here so that this
  // module does not load the archive code
  manifest: z.looseObject({ format: z.string(), table: z.string(), rows: z.number() }),
});

/**
 * Any command's failure under --json: `code` is the SQLSTATE for a database error, `usage` for wrong
 * usage (exit 64), a system error's code (ENOENT...) or `error` otherwise.
 */
export const errorOutputSchema = z.strictObject({
  format: z.literal(FORMATS.error),
  command: z.string(),
  error: z.strictObject({ code: z.string(), message: z.string(), detail: z.string().optional(), hint: z.string().optional() }),
});
export type ErrorOutput = z.infer<typeof errorOutputSchema>;

/** The partkeeper-error/1 object for a failed command. */
export const errorOutput = (command: string, error: ErrorOutput['error']): ErrorOutput => ({ format: FORMATS.error, command, error });

/** Every output schema by the name of its file in schemas/ (`<name>.schema.json`). */
export const outputSchemas = {
  maintain: maintainOutputSchema,
  status: statusOutputSchema,
  doctor: doctorOutputSchema,
  archive: archiveOutputSchema,
  error: errorOutputSchema,
} as const;

/** The JSON Schema (draft 2020-12) of an output, as written to schemas/<name>.schema.json. */
export function jsonSchema(name: keyof typeof outputSchemas): Record<string, unknown> {
  return {
    title: FORMATS[name],
    ...z.toJSONSchema(outputSchemas[name], { io: 'output' }),
  };
}
