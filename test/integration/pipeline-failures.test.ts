/**
 * Jobs that must fail cleanly: a clear message, nothing left in staging, nothing (new) on the NAS, no process left.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegError, JobCancelledError, JobValidationError, MediaError } from '../../src/errors.js';
import { jobStagingDir } from '../../src/storage/paths.js';
import { findProcesses, isAlive, writeGpuFailingFfmpeg, writeHangingFfmpegExecutable } from '../helpers/fake-ffmpeg.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { readHlsTree } from '../helpers/hls-tree.js';
import { FFMPEG, makeRandomBytes, makeSource, makeTruncated } from '../helpers/media.js';
import type { ProbeReport } from '../../src/capabilities/types.js';
import { makeProbeReport } from '../helpers/probe-report.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

let h: PipelineHarness;
let movies: string;
let source: string;
beforeAll(async () => {
  h = await createPipelineHarness();
  movies = path.join(h.nas, 'movies');
  source = await makeSource(movies, { name: 'ok.mp4' });
});
afterAll(() => h.cleanup());

/** Runs the job and expects a failure of `type`; checks staging is empty and the NAS did not change. */
async function expectFailure(job: ReturnType<typeof ladderJob>, type: new (...a: never[]) => Error, harness = h) {
  const before = await snapshotTree(harness.nas);
  const r = await harness.run(job);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.result)}`);
  expect(r.error).toBeInstanceOf(type);
  expect(await harness.stagingLeft()).toEqual([]);
  expect(await snapshotTree(harness.nas)).toEqual(before);
  return r.error;
}

describe('pipeline: bad inputs fail fast with a clear message', () => {
  it('missing input', async () => {
    const err = await expectFailure(ladderJob('movies/nope.mkv', [['240p', '300k', 'out/a/240p']]), JobValidationError);
    expect(err.message).toBe(`input file does not exist: ${path.join(h.nas, 'movies', 'nope.mkv')}`);
  });

  it('truncated file', async () => {
    const big = await makeSource(movies, { name: 'full.mp4', duration: 2 });
    await makeTruncated(big, path.join(movies, 'cut.mp4'), 0.3);
    const err = await expectFailure(ladderJob('movies/cut.mp4', [['240p', '300k', 'out/cut/240p']]), MediaError);
    expect(err.message).toMatch(/cut\.mp4/);
  });

  it('random bytes', async () => {
    await makeRandomBytes(movies, { name: 'noise.mkv' });
    const err = await expectFailure(ladderJob('movies/noise.mkv', [['240p', '300k', 'out/noise/240p']]), MediaError);
    expect(err.message).toMatch(/noise\.mkv/);
  });

  it('paths that escape the NAS', async () => {
    await expectFailure(ladderJob('../etc/passwd', [['240p', '300k', 'out/x/240p']]), JobValidationError);
    const err = await expectFailure(ladderJob('movies/ok.mp4', [['240p', '300k', '../../tmp/x']]), JobValidationError);
    expect(err.message).toMatch(/outputs\[0\]\.dest_path/);
  });

  it('hostile field values never reach a shell or ffmpeg as options', async () => {
    const e1 = await expectFailure(
      ladderJob('movies/ok.mp4', [['240p', '-y /tmp/x', 'out/h/240p']]),
      JobValidationError,
    );
    expect(e1.message).toMatch(/^outputs\[0\]\.bitrate = "-y \/tmp\/x"/);
    // Folder names may hold $ ( ) ; (they are plain names, see below), but never '|' (Windows cannot open it).
    const e2 = await expectFailure(
      ladderJob('movies/ok.mp4', [['240p', '300k', 'out/$(touch pwned) | sh/240p']]),
      JobValidationError,
    );
    expect(e2.message).toMatch(
      /^outputs\[0\]\.dest_path = .*folder name "\$\(touch pwned\) \| sh" must not contain "\|"/,
    );
    const job = ladderJob('movies/ok.mp4', [['240p', '300k', 'out/h/240p']]);
    job.outputs[0]!.codec = '-y';
    await expectFailure(job, JobValidationError);
  });

  it('a source and a destination folder whose NAMES are hostile are just names', async () => {
    const name = '-y $(touch pwned); `id` & x.mp4';
    await copyFile(source, path.join(movies, name));
    const folder = '-y $(touch pwned); `id` & x';
    const r = await h.run(ladderJob(`movies/${name}`, [['320x180', '300k', `out/${folder}/180p`]]));
    if (!r.ok) throw r.error;
    expect(r.result.manifestUrl).toBe(`/out/${folder}/180p/index.m3u8`);
    expect(existsSync(path.join(h.nas, 'out', folder, '180p', 'index.m3u8'))).toBe(true);
    expect(existsSync(path.join(process.cwd(), 'pwned'))).toBe(false);
    expect(existsSync(path.join(h.nas, 'movies', 'pwned'))).toBe(false);
    expect(existsSync('/tmp/x')).toBe(false);
  });

  it('one output inside another is refused before any work', async () => {
    const err = await expectFailure(
      ladderJob('movies/ok.mp4', [
        ['240p', '300k', 'out/n'],
        ['320x180', '200k', 'out/n/small'],
      ]),
      JobValidationError,
    );
    expect(err.message).toMatch(/inside outputs\[0\]\.dest_path/);
  });
});

describe('pipeline: storage failures roll back', () => {
  it('destination not writable: refused before ffmpeg, the NAS (with a previous output) stays as it was', async () => {
    const first = await h.run(
      ladderJob('movies/ok.mp4', [
        ['320x180', '300k', 'out/nw/180p'],
        ['214x120', '150k', 'out/nw/120p'],
      ]),
    );
    if (!first.ok) throw first.error;
    // Root ignores permissions, so block the destination with a FILE where a folder is needed.
    await writeFile(path.join(h.nas, 'out', 'nw', 'blocked'), 'a file, not a folder');
    const err = await expectFailure(
      ladderJob('movies/ok.mp4', [
        ['320x180', '250k', 'out/nw/180p'],
        ['214x120', '150k', 'out/nw/blocked/120p'],
      ]),
      JobValidationError,
    );
    // Found by the ownership check before transcoding (the commit-time message is covered in commit.test.ts).
    expect(err.message).toBe(
      'the destination "out/nw/blocked/120p" cannot be written: out/nw/blocked is a file, not a folder',
    );
    // The previous output still plays.
    const tree = await readHlsTree(h.nas, '/out/nw/index.m3u8');
    expect(tree.variants).toHaveLength(2);
  });
});

describe('pipeline: abort, stall, device errors', () => {
  it('abort mid-job: ffmpeg killed, nothing committed, staging removed', async () => {
    // Long enough that ffmpeg is still running at the first progress report even on a fast machine.
    await makeSource(movies, { name: 'long.mp4', duration: 60 });
    const job = ladderJob('movies/long.mp4', [
      ['320x180', '300k', 'out/abort/180p'],
      ['214x120', '150k', 'out/abort/120p'],
    ]);
    const staging = jobStagingDir(h.tempDir, job.job_id);
    const ac = new AbortController();
    let ffmpegPids: number[] = [];
    const before = await snapshotTree(h.nas);
    const r = await h.run(job, {
      signal: ac.signal,
      onProgress: (p) => {
        if (ac.signal.aborted || p.progress >= 95) return;
        ffmpegPids = findProcesses(staging);
        ac.abort('cancelled by the orchestrator');
      },
    });
    if (r.ok) throw new Error('expected a cancellation');
    expect(r.error).toBeInstanceOf(JobCancelledError);
    expect(r.error.message).toBe('cancelled by the orchestrator');
    expect(ffmpegPids.length).toBeGreaterThan(0);
    for (const pid of ffmpegPids) expect(isAlive(pid)).toBe(false);
    expect(findProcesses(staging)).toEqual([]);
    expect(await h.stagingLeft()).toEqual([]);
    expect(await snapshotTree(h.nas)).toEqual(before);
  });

  // The stand-in ffmpeg is a shebang script: POSIX only.
  it.skipIf(process.platform === 'win32')(
    'a stalled ffmpeg is killed after stall_timeout and the job fails',
    async () => {
      const scripts = path.join(h.root, 'scripts-stall');
      await mkdir(scripts, { recursive: true });
      const fake = await writeHangingFfmpegExecutable(scripts);
      const stalled = await createPipelineHarness({ WORKER_FFMPEG_PATH: fake, WORKER_STALL_TIMEOUT: '1s' });
      try {
        await copyFile(source, path.join(stalled.nas, 'movies', 'ok.mp4'));
        const err = await expectFailure(
          ladderJob('movies/ok.mp4', [['240p', '300k', 'out/s/240p']]),
          FfmpegError,
          stalled,
        );
        expect(err.message).toMatch(/^ffmpeg made no progress for 1 s and was stopped/);
        expect(findProcesses(fake)).toEqual([]);
      } finally {
        await stalled.cleanup();
      }
    },
  );

  /**
   * A job on a simulated GPU host whose ffmpeg fails with `stderr` whenever its argv holds `failWhen` (the GPU part):
   * it must be retried once fully in software, report the fallback and the family, and leave a valid HLS tree.
   */
  async function expectSoftwareRetry(c: {
    name: string;
    failWhen: string;
    stderr: string;
    probe: ProbeReport;
    codec: string;
  }): Promise<void> {
    const scripts = path.join(h.root, `scripts-${c.name}`);
    await mkdir(scripts, { recursive: true });
    const fake = await writeGpuFailingFfmpeg(scripts, FFMPEG, c.failWhen, c.stderr);
    const gpu = await createPipelineHarness({ WORKER_FFMPEG_PATH: fake });
    try {
      await copyFile(source, path.join(gpu.nas, 'movies', 'ok.mp4'));
      const job = ladderJob('movies/ok.mp4', [
        ['320x180', '300k', `out/${c.name}/180p`],
        ['214x120', '150k', `out/${c.name}/120p`],
      ]);
      for (const o of job.outputs) o.codec = c.codec;
      const r = await gpu.run(job, { probe: c.probe });
      if (!r.ok) throw r.error;
      expect(r.result.metrics.encoders).toEqual({
        [`out/${c.name}/180p`]: 'libx264',
        [`out/${c.name}/120p`]: 'libx264',
      });
      expect(r.result.metrics.software_fallback).toMatch(/^ffmpeg failed with exit code 1/);
      // The outcome names the hardware that failed, for the worker to count and re-test.
      expect(r.result.deviceFailures).toEqual(['nvidia']);
      expect((await readHlsTree(gpu.nas, r.result.manifestUrl)).variants).toHaveLength(2);
      expect(await gpu.stagingLeft()).toEqual([]);
    } finally {
      await gpu.cleanup();
    }
  }

  it.skipIf(process.platform === 'win32')(
    'a hardware encoder failing with a device error is retried once in software, and reported',
    () =>
      expectSoftwareRetry({
        name: 'gpu',
        failWhen: 'h264_nvenc',
        stderr:
          '[h264_nvenc @ 0x55] Cannot load libcuda.so.1\nError initializing output stream 0:0 -- Error while opening encoder\n',
        probe: makeProbeReport({ encoders: ['h264_nvenc', 'libx264', 'libx265', 'aac'] }),
        codec: 'h264_nvenc',
      }),
  );

  it.skipIf(process.platform === 'win32')(
    'NVDEC feeding libx264 (a GPU without NVENC): a decode device error is retried once fully in software',
    () =>
      expectSoftwareRetry({
        name: 'nvdec',
        failWhen: 'cuda',
        // The real stderr of ffmpeg 5.1 asked for -hwaccel cuda on a host whose driver is gone.
        stderr:
          '[AVHWDeviceContext @ 0x56] Cannot load libcuda.so.1\n[AVHWDeviceContext @ 0x56] Could not dynamically load CUDA\n' +
          'Device creation failed: -1.\n[h264 @ 0x57] No device available for decoder: device type cuda needed for codec h264.\n',
        probe: makeProbeReport({ encoders: ['libx264', 'aac'], hwaccels: ['cuda'] }),
        codec: 'libx264',
      }),
  );
});
