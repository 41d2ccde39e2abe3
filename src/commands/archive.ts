import { archivedPartition, archivePartition, prepareDir, Progress } from '../archive.ts';
import { EXIT, type Command } from '../command.ts';
import { size } from '../format.ts';
import { FORMATS } from '../outputs.ts';

export const archive: Command = {
  summary: 'write a partition to a verified archive (COPY text, gzip, manifest) and record it',
  usage: `usage: partkeeper archive PARTITION [--dir DIR] [--force [--allow-fewer-rows]] [--progress] [--json] [--database-url URL | --pglite DIR]

Writes the rows of PARTITION (a range partition of a managed table) to DIR (default: the current
folder) as two files:
  <partition>.copy.gz        gzip of COPY (SELECT <columns> FROM ONLY <partition>) TO STDOUT, text format
  <partition>.manifest.json  table, bounds, columns, row count, checksums, partkeeper version
then reads the file back and compares its row count and checksum with what was written and with the
partition, and only then records it with partkeeper.record_archive(). Writers of that partition wait
until then. A file that fails the check is removed and nothing is recorded.
Files are written under temporary names and renamed when complete; the manifest comes last.
On a server the rows stream in constant memory; with --pglite the partition passes through memory.
  --dir DIR      folder for the archive (created when missing)
  --force        replace an archive of the same partition in DIR, unless it holds more rows than
                 the partition does now (rows deleted since: the archive is the better copy)
  --allow-fewer-rows  with --force, replace it even then
  --progress     progress on stderr even when it is not a terminal
  --json         print the manifest, its path and the archive's id as a ${FORMATS.archive} object
                 (schemas/archive.schema.json)
SIGINT or SIGTERM stops the archive: the temporary files are removed, nothing is recorded, and it
says so (exit 130 or 143). Once the archive is recorded, it finishes.
Exit codes: 0 archived and recorded, 1 failed (nothing recorded), 64 wrong usage, 130/143 stopped.`,
  options: {
    dir: { type: 'string', short: 'd' },
    force: { type: 'boolean' },
    'allow-fewer-rows': { type: 'boolean' },
    progress: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  needs: { 'allow-fewer-rows': 'force' },
  positionals: [1, 1],
  async run(ctx) {
    const dir = (ctx.values.dir as string | undefined) ?? '.';
    await prepareDir(dir);
    const db = await ctx.db();
    const progress = new Progress(!!ctx.values.progress || !!process.stderr.isTTY);
    const partition = ctx.positionals[0]!;
    // a signal stops the archive where it is: the files go, the transaction rolls back
    const stop = new AbortController();
    let signal: NodeJS.Signals | undefined;
    const onSignal = (s: NodeJS.Signals) => {
      signal = s;
      stop.abort(new Error(`stopped by ${s}`));
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    let r: Awaited<ReturnType<typeof archivePartition>>;
    try {
      r = await archivePartition(db, partition, {
        dir,
        force: !!ctx.values.force,
        allowFewerRows: !!ctx.values['allow-fewer-rows'],
        progress,
        signal: stop.signal,
      });
    } catch (e) {
      if (!signal) throw e;
      ctx.err(
        `partkeeper archive: stopped by ${signal}: the archive of ${partition} was not recorded, its temporary files in ${dir} were removed, and the partition is unchanged`,
      );
      return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    const m = r.manifest;
    if (signal) ctx.err(`partkeeper archive: ${signal} arrived after the archive was recorded: it is complete`);
    if (ctx.values.json)
      ctx.out(
        JSON.stringify({ format: FORMATS.archive, id: r.id, manifest_path: r.manifestPath, data_path: r.dataPath, manifest: m }, null, 2),
      );
    else {
      ctx.out(`archived ${archivedPartition(m)} [${m.lower}, ${m.upper}): ${m.rows} rows, ${size(m.bytes)}, ${m.checksum}`);
      ctx.out(`  ${r.manifestPath} (archive ${r.id}, recorded in partkeeper.archives)`);
    }
    return EXIT.ok;
  },
};
