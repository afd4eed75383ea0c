/**
 * What the job costs around its ffmpeg run: one ffprobe of the source before it, the completeness check (a second,
 * short ffprobe) beside it, and a verification that reads the segments in-process instead of starting ffprobe per
 * rendition. And that moving the completeness check beside ffmpeg still refuses a truncated source, whichever of
 * the two finishes first.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import { jobStagingDir } from '../../src/storage/paths.js';
import { findProcesses, writeHangingFfmpegExecutable } from '../helpers/fake-ffmpeg.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { readHlsTree } from '../helpers/hls-tree.js';
import { FFPROBE, makeSource, makeTruncated, probeJson } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';
import { waitFor } from '../helpers/wait.js';

let h: PipelineHarness;
let movies: string;
beforeAll(async () => {
  h = await createPipelineHarness();
  movies = path.join(h.nas, 'movies');
  const whole = await makeSource(movies, { name: 'whole.mkv', duration: 4 });
  // Matroska states its duration in the header: the first ffprobe accepts the cut file, only the check sees it.
  await makeTruncated(whole, path.join(movies, 'cut.mkv'), 0.4);
});
afterAll(() => h.cleanup());

/** execaRunner that records every ffprobe argv and can hold back the completeness check until `release`. */
function recordingRunner(release?: () => Promise<void>): { runner: CommandRunner; probes: string[][] } {
  const probes: string[][] = [];
  const runner: CommandRunner = async (cmd, args, opts) => {
    if (cmd === FFPROBE) probes.push([...args]);
    if (release && args.includes('-read_intervals')) await release();
    return execaRunner(cmd, args, opts);
  };
  return { runner, probes };
}

describe('pipeline: process starts around ffmpeg', () => {
  it('a three-rung ladder starts two ffprobe processes in all; the master declares what the segments hold', async () => {
    const { runner, probes } = recordingRunner();
    const r = await h.run(
      ladderJob('movies/whole.mkv', [
        ['320x180', '300k', 'out/count/180p'],
        ['214x120', '150k', 'out/count/120p'],
        ['160x90', '100k', 'out/count/90p'],
      ]),
      { deps: { runner } },
    );
    if (!r.ok) throw r.error;
    expect(probes).toHaveLength(2);
    expect(probes.filter((a) => a.includes('-read_intervals'))).toHaveLength(1);

    const tree = await readHlsTree(h.nas, r.result.manifestUrl);
    expect(tree.variants).toHaveLength(3);
    for (const v of tree.variants) {
      const video = (await probeJson(v.files[0]!)).streams.find((s) => s.codec_type === 'video')!;
      expect(v.variant.resolution).toEqual({ width: video.width, height: video.height });
      expect(v.variant.codecs).toMatch(/^avc1\.[0-9A-F]{6},mp4a\.40\.2$/);
    }
  });
});

describe('pipeline: the completeness check beside ffmpeg', () => {
  it('a truncated source fails the job even when ffmpeg finishes before the check does', async () => {
    const job = ladderJob('movies/cut.mkv', [['320x180', '300k', 'out/cut-late/180p']]);
    const staging = jobStagingDir(h.tempDir, job.job_id);
    let transcoded = false;
    // Hold the check back until ffmpeg has reported its end and exited.
    const { runner } = recordingRunner(async () => {
      await waitFor(() => transcoded && findProcesses(staging).length === 0, { message: 'ffmpeg to finish' });
    });
    const before = await snapshotTree(h.nas);
    const r = await h.run(job, {
      deps: { runner },
      onProgress: (p) => {
        if (p.progress >= 95) transcoded = true;
      },
    });
    if (r.ok) throw new Error('expected the truncated source to fail the job');
    expect(transcoded).toBe(true);
    expect(r.error).toBeInstanceOf(MediaError);
    expect(r.error.message).toMatch(/cut\.mkv is truncated: its header says 4\.0 s but the video stops at/);
    expect(await h.stagingLeft()).toEqual([]);
    expect(await snapshotTree(h.nas)).toEqual(before);
  });

  // The stand-in ffmpeg is a shebang script: POSIX only.
  it.skipIf(process.platform === 'win32')(
    'a truncated source stops a running ffmpeg at once, and no process is left',
    async () => {
      const scripts = path.join(h.root, 'scripts-hang');
      await mkdir(scripts, { recursive: true });
      const fake = await writeHangingFfmpegExecutable(scripts);
      const hanging = await createPipelineHarness({ WORKER_FFMPEG_PATH: fake, WORKER_STALL_TIMEOUT: '60s' });
      try {
        await copyFile(path.join(movies, 'cut.mkv'), path.join(hanging.nas, 'movies', 'cut.mkv'));
        const job = ladderJob('movies/cut.mkv', [['320x180', '300k', 'out/cut-early/180p']]);
        const before = await snapshotTree(hanging.nas);
        const started = Date.now();
        const r = await hanging.run(job);
        if (r.ok) throw new Error('expected the truncated source to fail the job');
        expect(r.error).toBeInstanceOf(MediaError);
        expect(r.error.message).toMatch(/cut\.mkv is truncated/);
        // Far sooner than the stall watchdog: the check's verdict stopped ffmpeg.
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(findProcesses(fake)).toEqual([]);
        expect(findProcesses(path.join(hanging.nas, 'movies', 'cut.mkv'))).toEqual([]);
        expect(await hanging.stagingLeft()).toEqual([]);
        expect(await snapshotTree(hanging.nas)).toEqual(before);
      } finally {
        await hanging.cleanup();
      }
    },
  );
});
