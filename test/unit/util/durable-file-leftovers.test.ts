/** Temp files of interrupted writes are cleaned; everything else in the folder is left alone. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { removeFile, removeTempLeftovers, writeJsonDurably } from '../../../src/util/durable-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-durable-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('removes the temp files a crash left (this and the previous naming) and nothing else', async () => {
  await writeJsonDurably(path.join(dir, 'keep.json'), { a: 1 });
  const leftovers = ['.running-job.json.123.1a2b3c4d.tmp', '.abc.json.77.1765000000000.tmp'];
  const others = ['notes.tmp', '.hidden', 'x.json.corrupt-20261206T050106123Z'];
  for (const n of [...leftovers, ...others]) await writeFile(path.join(dir, n), 'x');
  expect(await removeTempLeftovers(dir)).toBe(2);
  expect((await readdir(dir)).sort()).toEqual(['keep.json', ...others].sort());
});

it('removeFile tolerates a missing file and a missing folder', async () => {
  await removeFile(path.join(dir, 'absent.json'));
  await removeFile(path.join(dir, 'no-such-folder', 'absent.json'));
});
