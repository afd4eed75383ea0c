/**
 * Sidecar subtitle files are read like every NAS file: only regular files directly in the source's own folder.
 * A link (to a file outside the NAS), a FIFO, a folder and an oversized file named like a sidecar are left out.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSidecars, MAX_SIDECAR_BYTES } from '../../src/job/sidecars.js';
import { makeTempDir, removeDir } from '../helpers/media.js';
import { srtText } from '../helpers/multilang-source.js';

let root: string;
let nas: string;
beforeAll(async () => {
  root = await makeTempDir('tw-sidecars-');
  nas = path.join(root, 'nas');
  await mkdir(path.join(nas, 'movies', 'Film (2001)'), { recursive: true });
});
afterAll(() => removeDir(root));

describe.skipIf(process.platform === 'win32')('findSidecars', () => {
  it('takes the regular files named after the source; skips links, FIFOs, folders and huge files, saying why', async () => {
    const dir = path.join(nas, 'movies', 'Film (2001)');
    const srt = srtText([[1, 2, 'Hello']]);
    await writeFile(path.join(dir, 'Film (2001).mkv'), 'not read here');
    await writeFile(path.join(dir, 'Film (2001).en.srt'), srt);
    await writeFile(path.join(dir, 'Film (2001).fr.forced.srt'), srt);
    await writeFile(path.join(dir, 'Other Film.de.srt'), srt);
    const outside = path.join(root, 'secret.srt');
    await writeFile(outside, srt);
    await symlink(outside, path.join(dir, 'Film (2001).it.srt'));
    execFileSync('mkfifo', [path.join(dir, 'Film (2001).es.srt')]);
    await mkdir(path.join(dir, 'Film (2001).pt.srt'));
    await writeFile(path.join(dir, 'Film (2001).nl.srt'), '');
    await truncate(path.join(dir, 'Film (2001).nl.srt'), MAX_SIDECAR_BYTES + 1);

    const skipped: string[] = [];
    const found = await findSidecars({
      nasRoot: nas,
      inputPath: path.join(dir, 'Film (2001).mkv'),
      caseInsensitive: false,
      onSkip: (file, why) => skipped.push(`${path.basename(file)}: ${why}`),
    });
    expect(found.map((f) => [path.basename(f.path), f.language, f.forced])).toEqual([
      ['Film (2001).en.srt', 'en', false],
      ['Film (2001).fr.forced.srt', 'fr', true],
    ]);
    expect(skipped.sort()).toEqual([
      expect.stringMatching(/^Film \(2001\)\.es\.srt: not a regular file/),
      expect.stringMatching(/^Film \(2001\)\.it\.srt: not a regular file/),
      expect.stringMatching(/^Film \(2001\)\.nl\.srt: \d+ bytes is too large/),
      expect.stringMatching(/^Film \(2001\)\.pt\.srt: not a regular file/),
    ]);
  });
});
