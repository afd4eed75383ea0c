/**
 * NasFs.replaceFile on a real filesystem: the stitch writes every playlist and WebVTT file into its staging on the
 * NAS with it, where someone else can plant a link at the name or swap a folder for one.
 */
import { lstat, mkdir, readFile, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfinementError, openNasFs, type NasFs } from '../../../src/storage/nas-fs.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

let root: string;
let nasRoot: string;
let outside: string;
let nas: NasFs;

beforeEach(async () => {
  root = await makeTempDir('tw-nas-replace-');
  nasRoot = path.join(root, 'nas');
  outside = path.join(root, 'outside');
  await mkdir(path.join(nasRoot, 'area', 'stitch', 'v0'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'precious.txt'), 'keep me');
  nas = await openNasFs(nasRoot);
});
afterEach(() => removeDir(root));

const target = () => path.join(nasRoot, 'area', 'stitch', 'v0', 'stream.m3u8');

describe('NasFs.replaceFile', () => {
  it('writes a new file, and replaces a regular file that is there', async () => {
    await nas.replaceFile(target(), '#EXTM3U\nfirst\n');
    expect(await readFile(target(), 'utf8')).toBe('#EXTM3U\nfirst\n');
    await nas.replaceFile(target(), '#EXTM3U\nsecond\n');
    expect(await readFile(target(), 'utf8')).toBe('#EXTM3U\nsecond\n');
    expect((await lstat(target())).isFile()).toBe(true);
  });

  it.skipIf(process.platform === 'win32')(
    'removes a link planted at the name (never follows it): the file outside the NAS is unchanged',
    async () => {
      await symlink(path.join(outside, 'precious.txt'), target());
      await nas.replaceFile(target(), 'ours');
      expect(await readFile(path.join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
      expect((await lstat(target())).isFile()).toBe(true);
      expect(await readFile(target(), 'utf8')).toBe('ours');
      // A dangling link (to a name outside that does not exist yet) is not created through either.
      await rename(target(), path.join(nasRoot, 'area', 'moved'));
      await symlink(path.join(outside, 'new.txt'), target());
      await nas.replaceFile(target(), 'ours again');
      expect(await readdir(outside)).toEqual(['precious.txt']);
      expect(await readFile(target(), 'utf8')).toBe('ours again');
    },
  );

  it('refuses a folder at the name and leaves it as it was', async () => {
    await mkdir(target());
    await writeFile(path.join(target(), 'inside.txt'), 'theirs');
    const err = await nas.replaceFile(target(), 'ours').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfinementError);
    expect((err as Error).message).toBe('area/stitch/v0/stream.m3u8 is a folder, not a file');
    expect(await readFile(path.join(target(), 'inside.txt'), 'utf8')).toBe('theirs');
  });

  it.skipIf(process.platform === 'win32')(
    'refuses when a parent folder was swapped for a link to outside the NAS: nothing is written there',
    async () => {
      await mkdir(path.join(outside, 'v0'));
      await writeFile(path.join(outside, 'v0', 'stream.m3u8'), 'keep me too');
      await rename(path.join(nasRoot, 'area', 'stitch', 'v0'), path.join(nasRoot, 'area', 'stitch', 'v0.old'));
      await symlink(path.join(outside, 'v0'), path.join(nasRoot, 'area', 'stitch', 'v0'));
      const err = await nas.replaceFile(target(), 'ours').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfinementError);
      expect((err as ConfinementError).relPath).toBe('area/stitch/v0');
      expect((err as Error).message).toMatch(/area\/stitch\/v0 is a symbolic link/);
      expect(await readFile(path.join(outside, 'v0', 'stream.m3u8'), 'utf8')).toBe('keep me too');
      expect(await readdir(path.join(outside, 'v0'))).toEqual(['stream.m3u8']);
    },
  );
});
