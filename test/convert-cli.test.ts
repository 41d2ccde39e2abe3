// `partkeeper convert` and `partkeeper unpartition` on both databases (--pglite DIR or --database-url):
// a rerun continues from the step recorded in partkeeper.conversions, --finish after the swap runs
// finish alone, a dropped retired table does not stop finish, a missing table is named, contradictory
// options are usage errors, and doctor and uninstall see a conversion under way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db.ts';
import { openPglite } from '../src/pglite.ts';
import { freshDb, installedFolder, target } from '../harness/testing.ts';
import { cli } from '../harness/support.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A database with partkeeper installed and a plain table `events`, as command-line arguments, and a way to look inside. */
async function workspace(): Promise<{ args: string[]; sql: <T>(fn: (db: Db) => Promise<T>) => Promise<T> }> {
  const table = `create table events (id bigint generated always as identity primary key, room int not null, created_at timestamptz not null);
    insert into events (room, created_at) select g % 5, timestamptz '2026-06-01' + g * interval '3 hours' from generate_series(1, 600) g`;
  if (target === 'pglite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'partkeeper-convert-'));
    dirs.push(dir);
    // PGlite keeps one process per data folder: open it only between commands
    const sql = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
      const db = await openPglite({ dataDir: dir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };
    await installedFolder(dir);
    await sql((db) => db.exec(table));
    return { args: ['--pglite', dir], sql };
  }
  const db = await freshDb();
  await db.exec(table);
  return { args: ['--database-url', db.url!], sql: (fn) => fn(db) };
}

const stepOf = (db: Db) => db.query<{ step: string; direction: string }>('select step, direction from partkeeper.conversions');
/** The steps a run printed a line for, in order. */
const ran = (stderr: string) => [...stderr.matchAll(/^(prepare|capture|fill|verify|swap|finish|undo):/gm)].map((m) => m[1]);

describe('partkeeper convert and unpartition', () => {
  it('a rerun runs only the steps after the recorded one; --finish after the swap runs finish alone; likewise unpartition', async () => {
    const w = await workspace();
    expect(await cli('convert', 'events', '--column', 'created_at', '--step', 'prepare', ...w.args)).toMatchObject({ code: 0 });
    expect(await cli('convert', 'events', '--step', 'capture', ...w.args)).toMatchObject({ code: 0 });
    const rest = await cli('convert', 'events', ...w.args);
    expect(rest).toMatchObject({ code: 0, stdout: 'events: conversion at step swapped\n' });
    expect(ran(rest.stderr)).toEqual(['fill', 'verify', 'swap']);
    const finish = await cli('convert', 'events', '--finish', ...w.args);
    expect(finish).toMatchObject({ code: 0, stdout: 'events: conversion at step finished\n' });
    expect(ran(finish.stderr)).toEqual(['finish']);
    expect(finish.stderr).toMatch(/drop public\.events_retired when it is no longer wanted/);
    // nothing left: a rerun says so and changes nothing
    for (const again of [
      ['convert', 'events'],
      ['convert', 'events', '--finish'],
      ['convert', 'events', '-c', 'created_at'],
    ]) {
      const r = await cli(...again, ...w.args);
      expect(r, again.join(' ')).toMatchObject({ code: 0, stdout: 'events: conversion at step finished\n' });
      expect(ran(r.stderr)).toEqual([]);
    }
    await w.sql((db) => db.exec('drop table events_retired'));

    const back = await cli('unpartition', 'events', ...w.args);
    expect(back).toMatchObject({ code: 0, stdout: 'events: conversion at step swapped\n' });
    expect(ran(back.stderr)).toEqual(['prepare', 'capture', 'fill', 'verify', 'swap']);
    const done = await cli('unpartition', 'events', '--finish', ...w.args);
    expect(done).toMatchObject({ code: 0, stdout: 'events: conversion at step finished\n' });
    expect(ran(done.stderr)).toEqual(['finish']);
    await w.sql(async (db) => {
      expect(await stepOf(db)).toEqual([{ step: 'finished', direction: 'unpartition' }]);
      expect(
        await db.one(`select relkind::text as k, (select count(*)::int from events) as n from pg_class where oid = 'events'::regclass`),
      ).toEqual({
        k: 'r',
        n: 600,
      });
    });
  }, 120_000);

  it('finish after the retired table was dropped ends the conversion and says so', async () => {
    const w = await workspace();
    expect(await cli('convert', 'events', '-c', 'created_at', ...w.args)).toMatchObject({ code: 0 });
    await w.sql((db) => db.exec(`drop table events_retired; insert into events (room, created_at) values (1, '2026-06-05')`));
    const r = await cli('convert', 'events', '--finish', ...w.args);
    expect(r).toMatchObject({ code: 0, stdout: 'events: conversion at step finished\n' });
    expect(r.stderr).toMatch(/public\.events_retired was dropped already/);
    await w.sql(async (db) => expect(await db.query(`select from pg_trigger where tgname = 'partkeeper_capture'`)).toEqual([]));
  }, 120_000);

  it('a missing table is named (PK002); contradictory options exit 64; neither changes anything', async () => {
    const w = await workspace();
    for (const args of [
      ['convert', 'nope', '--column', 'created_at'],
      ['convert', 'nope', '--undo'],
      ['convert', 'nope', '--step', 'capture'],
      ['unpartition', 'nope'],
    ]) {
      const r = await cli(...args, ...w.args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/error PK002: table 'nope' does not exist/);
      expect(r.stderr).toMatch(/^hint: /m);
    }
    for (const [args, says] of [
      [['convert', 'events', '--undo', '--finish'], /--undo/],
      [['convert', 'events', '--undo', '--step', 'capture'], /--undo/],
      [['convert', 'events', '-c', 'created_at', '--step', 'fill', '--finish'], /--step/],
      [['unpartition', 'events', '--column', 'created_at'], /--column/],
    ] as const) {
      const r = await cli(...args, ...w.args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(says);
      expect(r.stderr).toMatch(/usage: partkeeper (convert|unpartition) TABLE/);
    }
    await w.sql(async (db) => {
      expect(await stepOf(db)).toEqual([]);
      expect(await db.one(`select to_regclass('events_twin') is null as none`)).toEqual({ none: true });
    });
  }, 120_000);

  it('doctor names a conversion left half-way and the command that continues it; uninstall refuses', async () => {
    const w = await workspace();
    expect(await cli('convert', 'events', '-c', 'created_at', ...w.args)).toMatchObject({ code: 0 });
    await w.sql((db) => db.exec(`update partkeeper.conversions set updated_at = clock_timestamp() - interval '2 hours'`));
    const doctor = await cli('doctor', ...w.args);
    expect(doctor.code).not.toBe(0);
    expect(doctor.stdout).toMatch(/^\[WARN\] conversion public\.events: .*step swapped since /m);
    expect(doctor.stdout).toMatch(/^ {7}fix: .*partkeeper convert public\.events --finish/m);
    const uninstall = await cli('uninstall', '--yes', ...w.args);
    expect(uninstall.code).toBe(1);
    expect(uninstall.stderr).toMatch(/error PK013: .*public\.events/);
    expect(await cli('convert', 'events', '--finish', ...w.args)).toMatchObject({ code: 0 });
    expect((await cli('doctor', ...w.args)).stdout).not.toMatch(/conversion/);
  }, 120_000);
});
