import { archivedPartition, Progress, restoreArchive } from '../archive.ts';
import { EXIT, type Command } from '../command.ts';

export const restore: Command = {
  summary: 'load an archive back as a partition, or into a table of your choice',
  usage: `usage: partkeeper restore MANIFEST [--into TABLE] [--progress] [--database-url URL | --pglite DIR]

Loads the archive described by MANIFEST (a <partition>.manifest.json written by 'partkeeper archive',
its data file beside it). Without --into: creates <schema>.<partition> LIKE the partitioned table,
loads the rows, and attaches it as the partition [lower, upper) with partkeeper.attach_restored().
Refuses (PK006) when a partition overlaps that range, the DEFAULT partition holds rows of it, or the
name is taken. With --into TABLE: loads the rows into that existing table; nothing is attached.
The rows are checked against the manifest (file size and checksum, row count, checksum of the rows)
as they load; all of it is one transaction, so on a mismatch or any error nothing is created,
loaded or attached. On a server the rows stream in constant memory; with --pglite the archive
passes through memory.
  --into TABLE   load into this existing table instead
  --progress     progress on stderr even when it is not a terminal
Exit codes: 0 restored, 1 failed (nothing changed), 64 wrong usage.`,
  options: { into: { type: 'string' }, progress: { type: 'boolean' } },
  positionals: [1, 1],
  async run(ctx) {
    const db = await ctx.db();
    const progress = new Progress(!!ctx.values.progress || !!process.stderr.isTTY);
    const into = ctx.values.into as string | undefined;
    const r = await restoreArchive(db, ctx.positionals[0]!, { ...(into ? { into } : {}), progress });
    const m = r.manifest;
    ctx.out(
      r.attached
        ? `restored ${r.rows} rows of ${m.table} [${m.lower}, ${m.upper}) as partition ${r.table}`
        : `restored ${r.rows} rows of ${archivedPartition(m)} into ${r.table}`,
    );
    return EXIT.ok;
  },
};
