/**
 * The black-box subset that CI runs against every ffmpeg we support (scripts/ci-ffmpeg-matrix.sh: the host's 5.1,
 * Debian 13's 7.1 and Debian unstable's 9.0, each inside its own container so that the test media, the worker's
 * probe and the job all use the version under test). The built worker runs as a child process against the test
 * orchestrator on loopback; one worker serves every job of the file, as in production.
 *
 * What it covers, each one a place where ffmpeg versions have differed: a 3-rung ladder to COMPLETED, an HDR10
 * source tone mapped to 8-bit SDR BT.709 (ffprobe 9.0 no longer reports the HEVC stream's transfer), a cancel
 * mid-job, the odd inputs (a rotated phone video, an odd size with non-square pixels, interlaced MPEG-2 in TS), and
 * a film split into three parts and stitched (the range runs' seek, trim, offsets and audio priming drop, issue 12).
 *
 * Not part of `npm test` (its name does not end in .test.ts): vitest.matrix.config.ts runs it. MATRIX_FFMPEG_VERSION
 * (for example "7.1") makes the file fail unless the worker really runs that ffmpeg.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHlsTree } from '../helpers/hls-tree.js';
import { ladderCheck, type LadderCheck } from '../helpers/ladder-continuity.js';
import { FFPROBE, makeSource, probeJson } from '../helpers/media.js';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator.js';
import { ffmpegProcessesMentioning, killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import {
  MAIN_JS,
  makeWorkerDirs,
  startWorker,
  workerEnv,
  type LogLine,
  type WorkerDirs,
  type WorkerHandle,
} from '../helpers/worker-process.js';
import { listFiles } from '../e2e/fixture.js';

const execFileP = promisify(execFile);

let orch: TestOrchestrator;
let dirs: WorkerDirs;
let worker: WorkerHandle;
let registeredVersion = '';

beforeAll(async () => {
  orch = await startTestOrchestrator({ lostJobSyncs: 1000 });
  dirs = await makeWorkerDirs('tw-matrix-');
  // 100% never trips: the machine is loaded by the test itself and must not make the worker report BUSY.
  worker = startWorker(['start'], workerEnv(dirs, orch.url, { WORKER_BUSY_CPU_PERCENT: '100' }));
  const reg = await orch.waitForRequest('register', { timeoutMs: 60_000 });
  registeredVersion = String(reg.body.capabilities.ffmpeg_version ?? '');
}, 90_000);

afterAll(async () => {
  await worker?.dispose();
  if (dirs) killAll(await ffmpegProcessesMentioning(dirs.root));
  await orch?.close();
  await dirs?.cleanup();
});

/** A job of one or more H.264 rungs, all under processed/<name>/. */
function job(source: string, name: string, rungs: [resolution: string, bitrate: string][]) {
  return {
    input: { source_url: source, format: path.extname(source).slice(1) },
    outputs: rungs.map(([resolution, bitrate]) => ({
      resolution,
      bitrate,
      codec: 'libx264',
      dest_path: `processed/${name}/${resolution}/`,
    })),
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 1 },
  };
}

/** Generates a source under in/ and returns its NAS-relative path. */
async function source(opts: Parameters<typeof makeSource>[1] & { name: string }): Promise<string> {
  const dir = path.join(dirs.nas, 'in');
  await mkdir(dir, { recursive: true });
  await makeSource(dir, opts);
  return `in/${opts.name}`;
}

/** Runs a job to COMPLETED (the error message in the failure otherwise) and reads its tree back. */
async function complete(body: ReturnType<typeof job>) {
  const rec = await orch.enqueue(body);
  const done = await orch.waitForJob(rec.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 90_000 });
  expect({ status: done.status, error: done.error_msg }).toEqual({ status: 'COMPLETED', error: undefined });
  return { jobId: rec.job_id, tree: await readHlsTree(dirs.nas, done.manifest_url!) };
}

/** The worker's "transcoding" log line of a job (it says whether the plan tone maps). */
function transcodingLine(jobId: string): LogLine | undefined {
  return worker.logs.find((l) => l.msg === 'transcoding' && l.job_id === jobId);
}

/** The first decoded frame's colour facts: what a player sees, on every ffprobe version. */
async function firstFrame(file: string): Promise<Record<string, string>> {
  const { stdout } = await execFileP(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-read_intervals',
    '%+#1',
    '-show_entries',
    'frame=pix_fmt,color_transfer,color_primaries,color_space',
    '-of',
    'json',
    file,
  ]);
  return (JSON.parse(stdout) as { frames: Record<string, string>[] }).frames[0] ?? {};
}

function videoOf(probe: Awaited<ReturnType<typeof probeJson>>) {
  return probe.streams.find((s) => s.codec_type === 'video')!;
}

describe(`ffmpeg matrix (${process.env.MATRIX_FFMPEG_VERSION ?? 'the ffmpeg on PATH'})`, () => {
  it('the worker probes and registers with the ffmpeg under test', async () => {
    const { stdout } = await execFileP(process.env.TEST_FFMPEG ?? 'ffmpeg', ['-hide_banner', '-version']);
    const tested = /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? '';
    const expected = process.env.MATRIX_FFMPEG_VERSION;
    if (expected) expect(tested.startsWith(expected)).toBe(true);
    expect(registeredVersion).not.toBe('');
    expect(tested.startsWith(registeredVersion) || registeredVersion.startsWith(tested)).toBe(true);
  });

  it('a 3-rung ladder runs to COMPLETED: every rung decodable, at its size, as long as the source', async () => {
    const src = await source({ name: 'ladder.mp4', width: 640, height: 360, duration: 2 });
    const { tree } = await complete(
      job(src, 'ladder', [
        ['360p', '600k'],
        ['240p', '300k'],
        ['320x180', '200k'],
      ]),
    );
    expect(tree.variants.map((v) => v.variant.resolution?.height).sort()).toEqual([180, 240, 360]);
    for (const v of tree.variants) {
      expect(v.media.endlist).toBe(true);
      expect(v.durationSec).toBeCloseTo(2, 0);
      const video = videoOf(await probeJson(v.files[0]!));
      expect(video).toMatchObject({ codec_name: 'h264', height: v.variant.resolution!.height });
    }
    expect(tree.renditions.some((r) => /\/a\d+\//.test(r.uri)) || /mp4a/.test(tree.masterText)).toBe(true);
  });

  it('HDR10 HEVC (tagged the usual way) is tone mapped to 8-bit SDR BT.709', async () => {
    const src = await source({ name: 'hdr.mkv', codec: 'libx265', hdr: 'pq', duration: 2 });
    const { jobId, tree } = await complete(job(src, 'hdr', [['320x180', '300k']]));
    expect(transcodingLine(jobId)?.toneMap).toBe(true);
    const frame = await firstFrame(tree.variants[0]!.files[0]!);
    expect(frame).toMatchObject({ pix_fmt: 'yuv420p', color_transfer: 'bt709', color_primaries: 'bt709' });
  });

  it('a cancel mid-job stops ffmpeg, commits nothing and finalizes nothing', async () => {
    const src = await source({ name: 'long.mp4', width: 640, height: 360, duration: 40 });
    const rec = await orch.enqueue(
      job(src, 'cancel', [
        ['360p', '600k'],
        ['240p', '300k'],
      ]),
    );
    await orch.waitForJob(rec.job_id, 'PROCESSING', { timeoutMs: 30_000 });
    await waitFor(async () => (await ffmpegProcessesMentioning(dirs.root)).length > 0, {
      message: 'the job ffmpeg to start',
    });
    await orch.cancel(rec.job_id);
    await worker.waitForLog((l) => /job aborted/.test(l.msg) && l.job_id === rec.job_id, 30_000, 'the abort');
    await waitFor(async () => (await ffmpegProcessesMentioning(dirs.root)).length === 0, {
      message: 'no ffmpeg left',
    });
    expect(orch.requestsTo('finalize').filter((r) => r.jobId === rec.job_id)).toEqual([]);
    expect(await listFiles(path.join(dirs.nas, 'processed', 'cancel'))).toEqual([]);
    await waitFor(async () => (await listFiles(dirs.temp)).length === 0, { message: 'staging to be empty' });
  });

  it('odd input: a rotated phone video stays portrait', async () => {
    const src = await source({ name: 'phone.mp4', width: 320, height: 180, rotate: 90 });
    const { tree } = await complete(job(src, 'phone', [['240p', '300k']]));
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    expect(Number(v.height)).toBeGreaterThan(Number(v.width));
    expect(tree.variants[0]!.variant.resolution).toEqual({ width: Number(v.width), height: Number(v.height) });
  });

  it('odd input: an odd size with non-square pixels gives even dimensions, display aspect ratio kept', async () => {
    const src = await source({ name: 'odd.mp4', width: 321, height: 181, sar: '4:3' });
    const { tree } = await complete(job(src, 'odd', [['320x180', '300k']]));
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    const [w, h] = [Number(v.width), Number(v.height)];
    expect([w % 2, h % 2]).toEqual([0, 0]);
    const [sarNum, sarDen] = String(v.sample_aspect_ratio ?? '1:1')
      .split(':')
      .map(Number);
    expect((w * sarNum!) / sarDen! / h).toBeCloseTo((321 * 4) / 3 / 181, 1);
  });

  it('odd input: interlaced MPEG-2 in MPEG-TS is deinterlaced to progressive H.264', async () => {
    const src = await source({ name: 'tv.ts', codec: 'mpeg2video', interlaced: true });
    const probe = videoOf(await probeJson(path.join(dirs.nas, src)));
    expect(probe.field_order).toBe('tt'); // the source really is interlaced on this version
    const { tree } = await complete(job(src, 'tv', [['320x180', '300k']]));
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    expect(v.codec_name).toBe('h264');
    expect(['progressive', undefined]).toContain(v.field_order);
  });

  /**
   * `src` as a 320x180 + 160x90 ladder in 2 s segments, split in three and stitched: parts 0 and 1 side by side, then
   * part 2, then the stitch, each a `run-job` process. Returns the black-box check of processed/<name>.
   */
  async function splitInThreeAndStitch(src: string, name: string, fps?: number): Promise<LadderCheck> {
    const body = {
      job_id: `matrix-${name}`,
      ...job(src, name, [
        ['320x180', '300k'],
        ['160x90', '150k'],
      ]),
      hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 2 },
    };
    const file = path.join(dirs.root, `${body.job_id}.json`);
    await writeFile(file, JSON.stringify(body));
    // Each run-job its own state and staging: the worker of this file holds the state_dir lock.
    const runJob = async (role: string[], n: string) => {
      const env = {
        ...process.env,
        ...workerEnv(dirs, orch.url, { WORKER_STATE_DIR: path.join(dirs.root, `${name}-state-${n}`) }),
        WORKER_TEMP_DIR: path.join(dirs.root, `${name}-temp-${n}`),
      };
      await execFileP(process.execPath, [MAIN_JS, 'run-job', file, ...role], { env, timeout: 120_000 });
    };
    await Promise.all([runJob(['--part', '0/3'], '0'), runJob(['--part', '1/3'], '1')]);
    await runJob(['--part', '2/3'], '2');
    await runJob(['--stitch', '--part-count', '3'], 's');
    // 16 s in 2 s segments: parts [0,3) [3,6) [6,8).
    return ladderCheck(path.join(dirs.nas, 'processed', name), {
      segmentTime: 2,
      seams: [3, 6],
      ...(fps ? { fps } : {}),
    });
  }

  it('a film split in three parts off the audio grid and stitched (run-job --part, --stitch): the seams are invisible', async () => {
    // Matroska: its millisecond timestamps are where ffmpeg versions differ after an accurate seek.
    const src = await source({ name: 'film.mkv', width: 320, height: 180, duration: 16 });
    // Parts 1 and 2 start off the AAC grid (4 segments at T = 2), so they start their audio at 0 and 4. 8 video
    // segments, plus on 5.1 and 7.1 a one-frame tail that their constant frame rate adds at the end (an
    // uninterrupted run has it too).
    const check = await splitInThreeAndStitch(src, 'split');
    expect(check.problems).toEqual([]);
    const counts = check.segmentsPerRendition;
    expect(counts['320x180']).toBe(counts['160x90']);
    expect([8, 9]).toContain(counts['320x180']);
  });

  it('a variable-frame-rate recording, split in three parts and stitched: whole 2 s segments at its nominal 60 fps', async () => {
    // The plan counted the average rate (28 fps) while ffmpeg wrote 60: parts cut into 1.87 s segments.
    const src = await source({ name: 'vfr.mp4', width: 320, height: 180, duration: 16, fps: 60, variableRate: true });
    const check = await splitInThreeAndStitch(src, 'splitvfr', 60);
    expect(check.problems).toEqual([]);
    expect([8, 9]).toContain(check.segmentsPerRendition['320x180']);
  });

  it('a film with 44.1 kHz AAC in MP4, split in three parts and stitched: the audio is not moved at the seams', async () => {
    // libswresample counts aresample's first_pts in samples of its input rate: a range run that shifted a 44.1 kHz
    // track as if it were 48 kHz started its audio 30 ms early (an overlap and a click at every seam).
    const src = await source({ name: 'film44.mp4', width: 320, height: 180, duration: 16, audioRate: 44_100 });
    const check = await splitInThreeAndStitch(src, 'split44');
    expect(check.problems).toEqual([]);
  });
});
