/**
 * runFfmpeg on its own: real ffmpeg for progress, failure tails and abort; a hanging node script for the stall
 * watchdog and for process-tree kills (a real ffmpeg cannot be made to hang on demand).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FfmpegError, JobCancelledError, ToolchainError } from '../../src/errors.js';
import { runFfmpeg } from '../../src/transcode/ffmpeg.js';
import type { JobProgress } from '../../src/job/contract.js';
import { isAlive, waitUntil, writeFailingFfmpeg, writeHangingFfmpeg } from '../helpers/fake-ffmpeg.js';
import { FFMPEG, makeTempDir, removeDir } from '../helpers/media.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('tw-ffrun-');
});
afterEach(() => removeDir(dir));

const lavfi = (seconds: number, realtime = false) => [
  '-hide_banner',
  '-nostdin',
  ...(realtime ? ['-re'] : []),
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=160x90:rate=25:duration=${seconds}`,
  '-f',
  'null',
  '-',
  '-progress',
  'pipe:1',
  '-nostats',
];

describe('runFfmpeg', () => {
  it('reports non-decreasing progress that ends at 100', async () => {
    const seen: JobProgress[] = [];
    await runFfmpeg(lavfi(2), {
      ffmpegPath: FFMPEG,
      durationSec: 2,
      stallTimeoutMs: 30_000,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.progress).toBe(100);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThanOrEqual(seen[i - 1]!.progress);
  });

  it('fails with one sentence and the meaningful end of stderr', async () => {
    const err = await runFfmpeg(['-hide_banner', '-nostdin', '-i', path.join(dir, 'missing.mkv'), '-f', 'null', '-'], {
      ffmpegPath: FFMPEG,
      durationSec: 1,
      stallTimeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    const e = err as FfmpegError;
    expect(e.exitCode).toBe(1);
    expect(e.deviceError).toBe(false);
    expect(e.message).toMatch(/^ffmpeg failed with exit code 1:\n.*missing\.mkv: No such file or directory/);
  });

  it('flags device errors so the pipeline can retry in software', async () => {
    const script = await writeFailingFfmpeg(
      dir,
      'ffmpeg version 5.1\n[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10): (no details)\n' +
        '[h264_nvenc @ 0x1] No capable devices found\nError initializing output stream 0:0\n',
    );
    const err = (await runFfmpeg([script], {
      ffmpegPath: process.execPath,
      durationSec: 1,
      stallTimeoutMs: 30_000,
    }).catch((e: unknown) => e)) as FfmpegError;
    expect(err.deviceError).toBe(true);
    expect(err.stderrTail).toBe(
      '[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10): (no details)\n' +
        '[h264_nvenc @ 0x1] No capable devices found\nError initializing output stream 0:0',
    );
  });

  it('bounds the error text', async () => {
    const noisy = Array.from({ length: 200 }, (_, i) => `error line ${i} ${'x'.repeat(80)}`).join('\n');
    const script = await writeFailingFfmpeg(dir, noisy);
    const err = (await runFfmpeg([script], {
      ffmpegPath: process.execPath,
      durationSec: 1,
      stallTimeoutMs: 30_000,
    }).catch((e: unknown) => e)) as FfmpegError;
    expect(err.message.length).toBeLessThan(1600);
    expect(err.message).toContain('error line 199');
    expect(err.message).not.toContain('error line 150');
  });

  it('says when ffmpeg is not installed', async () => {
    await expect(
      runFfmpeg(['-version'], { ffmpegPath: path.join(dir, 'no-ffmpeg'), durationSec: 1, stallTimeoutMs: 1000 }),
    ).rejects.toThrow(ToolchainError);
  });

  it('kills the whole process tree when no progress comes for stall_timeout', async () => {
    const { script, childPidFile } = await writeHangingFfmpeg(dir);
    let pid = 0;
    const started = Date.now();
    const err = await runFfmpeg([script], {
      ffmpegPath: process.execPath,
      durationSec: 10,
      // Long enough for the fake to start and spawn its child on a loaded 2-core CI machine (Node's start-up alone
      // took over 0.8 s there); the watchdog's clock runs from the spawn.
      stallTimeoutMs: 3000,
      onSpawn: (p) => (pid = p),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as Error).message).toMatch(/^ffmpeg made no progress for 3 s and was stopped/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2950);
    expect(isAlive(pid)).toBe(false);
    const childPid = Number(await readFile(childPidFile, 'utf8'));
    await waitUntil(() => !isAlive(childPid), 'the grandchild process to die');
  });

  it('an abort kills ffmpeg, waits for it, and throws JobCancelledError with the reason', async () => {
    const ac = new AbortController();
    let pid = 0;
    const run = runFfmpeg(lavfi(60, true), {
      ffmpegPath: FFMPEG,
      durationSec: 60,
      stallTimeoutMs: 30_000,
      signal: ac.signal,
      onSpawn: (p) => (pid = p),
      onProgress: () => ac.abort('cancelled by the orchestrator'),
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect((err as Error).message).toBe('cancelled by the orchestrator');
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('does not start ffmpeg when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    let spawned = false;
    await expect(
      runFfmpeg(lavfi(1), {
        ffmpegPath: FFMPEG,
        durationSec: 1,
        stallTimeoutMs: 1000,
        signal: ac.signal,
        onSpawn: () => (spawned = true),
      }),
    ).rejects.toThrow('the job was cancelled');
    expect(spawned).toBe(false);
  });
});
