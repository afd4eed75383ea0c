/**
 * The split policy reads a source's duration with the real ffprobe (src/dev-orchestrator/source-duration.ts), and
 * only for a regular file inside the NAS root.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import { probeSourceDuration, resolveSourceFile } from '../../../src/dev-orchestrator/source-duration.js';
import { FFPROBE, makeSource, makeTempDir, removeDir } from '../../helpers/media.js';

describe('source duration for the split policy', () => {
  let dir: string;
  let nas: string;
  beforeAll(async () => {
    dir = await makeTempDir('tw-split-duration-');
    nas = path.join(dir, 'nas');
    await mkdir(path.join(nas, 'movies'), { recursive: true });
    await makeSource(path.join(nas, 'movies'), { name: 'film -i.mkv', duration: 3, width: 64, height: 36 });
    await makeSource(dir, { name: 'outside.mkv', duration: 1, width: 64, height: 36 });
  });
  afterAll(() => removeDir(dir));

  it('reads format.duration of a real file (a name that looks like an option stays a file)', async () => {
    const seconds = await probeSourceDuration('movies/film -i.mkv', { nasRoot: nas, ffprobePath: FFPROBE });
    expect(seconds).toBeGreaterThan(2.9);
    expect(seconds).toBeLessThan(3.2);
    const abs = await probeSourceDuration(path.join(nas, 'movies/film -i.mkv'), { nasRoot: nas, ffprobePath: FFPROBE });
    expect(abs).toBe(seconds);
  });

  it('refuses what is not a regular file inside the NAS root', async () => {
    await expect(resolveSourceFile(nas, '../outside.mkv')).rejects.toThrow(/outside the NAS root/);
    await expect(resolveSourceFile(nas, path.join(dir, 'outside.mkv'))).rejects.toThrow(/outside the NAS root/);
    await expect(resolveSourceFile(nas, 'movies')).rejects.toThrow(/not a regular file/);
    await expect(resolveSourceFile(nas, 'movies/none.mkv')).rejects.toThrow(/cannot be read: ENOENT/);
    if (process.platform !== 'win32') {
      await symlink(path.join(dir, 'outside.mkv'), path.join(nas, 'movies', 'link.mkv'));
      await expect(resolveSourceFile(nas, 'movies/link.mkv')).rejects.toThrow(/leads outside the NAS root/);
    }
  });

  it('says so when ffprobe cannot read the file', async () => {
    await writeFile(path.join(nas, 'movies', 'junk.mkv'), 'not a film');
    await expect(probeSourceDuration('movies/junk.mkv', { nasRoot: nas, ffprobePath: FFPROBE })).rejects.toThrow(
      /ffprobe cannot read the duration of movies\/junk.mkv/,
    );
  });

  it('is read at enqueue by the orchestrator with --split-min-duration, and a source it cannot read runs whole', async () => {
    const orch = await startDevOrchestrator({ split: { minDurationSec: 2, nasRoot: nas, ffprobePath: FFPROBE } });
    try {
      const post = async (source_url: string) =>
        (await orch.enqueue({
          input: { source_url },
          outputs: [{ resolution: '360p', bitrate: '800k', codec: 'libx264', dest_path: 'out/360p' }],
        })) as { source_duration_sec?: number; split_note?: string };
      const long = await post('movies/film -i.mkv');
      expect(long.source_duration_sec).toBeGreaterThan(2.9);
      expect(long.split_note).toBeUndefined(); // long enough: split once two capable workers are idle
      const outside = await post('../outside.mkv');
      expect(outside.source_duration_sec).toBeUndefined();
      expect(outside.split_note).toMatch(/^not split: source \.\.\/outside\.mkv is outside the NAS root/);
    } finally {
      await orch.close();
    }
  });
});
