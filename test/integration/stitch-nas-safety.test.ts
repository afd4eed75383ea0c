/**
 * The stitch stages inside the parts area on the NAS, where people and other programs write too. Links planted in
 * its staging at every name the worker writes (a media playlist, an I-frame playlist, the master, a WebVTT segment
 * and playlist) and at the name ffmpeg used to write a whole subtitle track into, all leading outside the NAS:
 * the stitch publishes its ladder and writes nothing through any of them. Real parts (two part jobs of the real
 * executor on a generated film with a subtitle track), then the real stitch.
 */
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/protocol/schemas.js';
import { makeSource } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

let h: PipelineHarness;
beforeAll(async () => {
  h = await createPipelineHarness();
});
afterAll(() => h.cleanup());

describe.skipIf(process.platform === 'win32')('a stitch with links planted in its staging on the NAS', () => {
  it('writes nothing through them: every file is written by a checked NasFs operation', async () => {
    await makeSource(path.join(h.nas, 'movies'), { name: 'film.mkv', duration: 8, subtitles: true });
    const job: Job = ladderJob(
      'movies/film.mkv',
      [
        ['160x90', '150k', '90p'],
        ['128x72', '100k', '72p'],
      ],
      { job_id: 'film', output_base: 'out/film', hls_settings: { segment_time: 2 } },
    );
    for (const index of [0, 1]) {
      const part = await h.run({
        ...job,
        job_id: `film.part-${index}`,
        part: { parent_job_id: 'film', index, count: 2 },
      });
      expect(part.ok, part.ok ? '' : part.error.message).toBe(true);
    }
    const areaName = (await readdir(path.join(h.nas, 'out'))).find((n) => n.startsWith('.tw-parts-'));
    expect(areaName).toBeDefined();
    const staging = path.join(h.nas, 'out', areaName!, 'stitch');

    const outside = path.join(h.root, 'outside');
    await mkdir(outside);
    const planted = [
      'v0/stream.m3u8',
      'v0/iframes.m3u8',
      'index.m3u8',
      'index_tracks/s0/stream.m3u8',
      'index_tracks/s0/seg_00000.vtt',
    ];
    for (const [i, rel] of planted.entries()) {
      const victim = path.join(outside, `victim-${i}.txt`);
      await writeFile(victim, `keep me ${i}`);
      await mkdir(path.dirname(path.join(staging, rel)), { recursive: true });
      await symlink(victim, path.join(staging, rel));
    }
    // Where ffmpeg wrote the whole track before (it follows links): a dangling link, so a write would create a file.
    await mkdir(path.join(staging, '.subtitles'));
    await symlink(path.join(outside, 'created.vtt'), path.join(staging, '.subtitles', 's0.vtt'));

    const stitch = await h.run({ ...job, job_id: 'film.stitch', stitch: { parent_job_id: 'film', count: 2 } });
    expect((await readdir(outside)).sort()).toEqual(planted.map((_, i) => `victim-${i}.txt`));
    for (const i of planted.keys())
      expect(await readFile(path.join(outside, `victim-${i}.txt`), 'utf8')).toBe(`keep me ${i}`);
    expect(stitch.ok, stitch.ok ? '' : stitch.error.message).toBe(true);
    if (!stitch.ok) return;

    // The ladder is published from regular files, subtitles included; the parts area and local staging are gone.
    expect(stitch.result.metrics).toMatchObject({ subtitle_renditions: expect.any(Number) });
    expect((stitch.result.metrics as { subtitle_renditions: number }).subtitle_renditions).toBeGreaterThan(0);
    const ladder = path.join(h.nas, 'out', 'film');
    for (const rel of ['index.m3u8', '90p/stream.m3u8', '90p/iframes.m3u8', 'index_tracks/s0/stream.m3u8']) {
      expect((await lstat(path.join(ladder, rel))).isFile(), rel).toBe(true);
    }
    expect(await readFile(path.join(ladder, 'index_tracks/s0/seg_00000.vtt'), 'utf8')).toMatch(/^WEBVTT/);
    expect((await readdir(path.join(h.nas, 'out'))).sort()).toEqual(['film']);
    expect(await h.stagingLeft()).toEqual([]);
  }, 60_000);
});
