/**
 * Black-box resume (issue 12): the built worker as a child process, a 2-minute source, the job interrupted at about
 * 60 % (SIGKILL of the worker, or SIGTERM), the worker restarted and the job assigned to it again. The second run
 * encodes only what was missing (the kept segments are the very bytes of the first run, the argv starts at the
 * resume point), and the ladder is indistinguishable from an uninterrupted one: 30 segments of 4 s per rendition,
 * no discontinuity, timestamps continuous across the seam, and it plays across the seam at every level in
 * Chromium/hls.js. A source touched in between starts from zero and says so.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSource, makeTempDir, removeDir } from '../helpers/media.js';
import { HAS_CHROMIUM } from '../helpers/browser.js';
import { playAcrossSeams, seamProblems } from '../helpers/seam-playback.js';
import { waitFor } from '../helpers/wait.js';
import { ladderCheck } from '../helpers/ladder-continuity.js';
import { makeWorld, type World } from './fixture.js';

const FILM = 'in/film.mp4';
const T = 4;
const SEGMENTS = 30;
// Small pictures keep the 2-minute encode short; the preset keeps it long enough to be interrupted mid-way.
const WORKER_ENV = { WORKER_X264_PRESET: 'veryfast' };

let sourceDir: string;
let world: World | undefined;

beforeAll(async () => {
  sourceDir = await makeTempDir('tw-resume-src-');
  await makeSource(sourceDir, { name: 'film.mp4', width: 480, height: 270, duration: SEGMENTS * T });
}, 120_000);
afterAll(async () => removeDir(sourceDir));
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

function filmJob(dest: string) {
  return {
    input: { source_url: FILM, format: 'mp4' },
    outputs: [
      { resolution: '480x270', bitrate: '400k', codec: 'libx264', dest_path: `${dest}/270p/` },
      { resolution: '320x180', bitrate: '200k', codec: 'libx264', dest_path: `${dest}/180p/` },
    ],
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: T },
  };
}

async function newWorld(): Promise<World> {
  const w = await makeWorld({ lostJobSyncs: 1000 }, false);
  await mkdir(path.join(w.dirs.nas, 'in'), { recursive: true });
  await copyFile(path.join(sourceDir, 'film.mp4'), path.join(w.dirs.nas, FILM));
  return w;
}

/** sha256 of every finished segment of the first rung in the job's staging folder, by file name. */
async function stagedHashes(w: World, jobId: string): Promise<Map<string, string>> {
  const dir = path.join(w.dirs.temp, 'jobs', jobId, 'v0');
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).filter((n) => /^seg_\d+\.ts$/.test(n)).sort())
    out.set(
      name,
      createHash('sha256')
        .update(await readFile(path.join(dir, name)))
        .digest('hex'),
    );
  return out;
}

/** Starts the job and interrupts the worker once it reported about 60 % (95 % of the bar is ffmpeg's). */
async function interruptAt60(w: World, signal: 'SIGKILL' | 'SIGTERM', dest: string) {
  const first = await w.start(WORKER_ENV);
  const job = await w.orch.enqueue(filmJob(dest));
  await w.orch.waitFor((o) => o.requestsTo('progress').some((r) => r.jobId === job.job_id && r.body.progress >= 57), {
    timeoutMs: 180_000,
    message: 'progress at 60 %',
  });
  first.kill(signal);
  await first.exited;
  return { job };
}

async function resumableFailure(w: World, jobId: string) {
  const failed = await w.orch.waitForRequest('finalize', {
    timeoutMs: 60_000,
    where: (r) => r.jobId === jobId && r.body.status === 'FAILED',
  });
  return failed.body as { error_msg: string; metrics: { resume?: Record<string, unknown> } };
}

describe('resume after an interruption (black box)', () => {
  it('SIGKILL at 60 %: FAILED says resumable; assigned again, only the missing part is encoded; seamless at every level', async () => {
    world = await newWorld();
    const { orch, dirs } = world;
    const { job } = await interruptAt60(world, 'SIGKILL', 'processed/film');
    const second = await world.start(WORKER_ENV);
    const failed = await resumableFailure(world, job.job_id);
    // What the interrupted run left, once the restarted worker ended its orphaned ffmpeg (a SIGKILLed worker's
    // ffmpeg runs on for a moment and may finish one more segment, which the resume then keeps too).
    const kept = await stagedHashes(world, job.job_id);
    expect(failed.error_msg).toMatch(
      /^worker restarted while the job was running \(resumable: \d+ of 30 segments \(\d+%\) are kept on this worker for 24 h/,
    );
    expect(failed.metrics.resume).toMatchObject({ resumable: true, segments_total: SEGMENTS });

    await orch.retry(job.job_id);
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 180_000 });
    expect({ status: done.status, error: done.error_msg }).toEqual({ status: 'COMPLETED', error: undefined });
    const completed = orch.requestsTo('finalize').find((r) => r.jobId === job.job_id && r.body.status === 'COMPLETED')!;
    const from = completed.body.metrics.resume.resumed_from_segment as number;
    // Interrupted at about 60 %: at least 40 % kept (the lowest rung lags).
    expect(from).toBeGreaterThanOrEqual(12);
    expect(from).toBeLessThan(SEGMENTS);
    // The video continues from the last finished segment, the audio from the last one on its grid (2 for AAC at
    // 4 s) at or before it.
    const audioFrom = from - (from % 2);

    // Only the missing part was encoded: the run started at the resume point...
    const started = second.logs.find((l) => l.msg === 'transcoding' && l.job_id === job.job_id);
    expect(started?.from_segment).toBe(from);
    const argv = second.logs.find((l) => l.msg === 'ffmpeg arguments' && l.job_id === job.job_id)?.args as string[];
    const startNumbers = argv.flatMap((a, i) => (a === '-start_number' ? [argv[i + 1]] : []));
    expect(startNumbers).toEqual([String(from), String(audioFrom)]);
    expect(Number(argv[argv.indexOf('-ss') + 1])).toBeGreaterThan((audioFrom - 1) * T);
    // ...and the published segments before it are the first run's bytes.
    const published = path.join(dirs.nas, 'processed', 'film', '270p');
    for (let k = 0; k < from; k++) {
      const name = `seg_${String(k).padStart(5, '0')}.ts`;
      const bytes = await readFile(path.join(published, name));
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(kept.get(name));
    }

    // The ladder is the one an uninterrupted run makes: counts, durations, continuous timestamps, clean audio.
    const check = await ladderCheck(path.join(dirs.nas, 'processed', 'film'), {
      segmentTime: T,
      seams: [...new Set([audioFrom, from])],
    });
    expect(check.problems).toEqual([]);
    expect(check.segmentsPerRendition).toEqual({ '270p': SEGMENTS, '180p': SEGMENTS, audio: expect.any(Number) });

    if (HAS_CHROMIUM) {
      const plays = await playAcrossSeams(
        dirs.nas,
        '/processed/film/index.m3u8',
        [...new Set([audioFrom, from])].map((k) => k * T),
        2,
      );
      expect(seamProblems(plays, T)).toEqual([]);
    }
    // Nothing kept once done.
    await waitFor(async () => (await readdir(path.join(dirs.temp, 'jobs')).catch(() => [])).length === 0, {
      message: 'staging removed',
    });
    expect(await readdir(path.join(dirs.state, 'resume')).catch(() => [])).toEqual([]);
  }, 600_000);

  it('SIGTERM at 60 %: FAILED "worker shutting down (resumable …)", then resumed to a valid ladder', async () => {
    world = await newWorld();
    const { orch, dirs } = world;
    const { job } = await interruptAt60(world, 'SIGTERM', 'processed/term');
    const failed = await resumableFailure(world, job.job_id);
    expect(failed.error_msg).toMatch(/^worker shutting down.*\(resumable: \d+ of 30 segments/);
    await world.start(WORKER_ENV);
    await orch.retry(job.job_id);
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 180_000 });
    expect(done.status).toBe('COMPLETED');
    const completed = orch.requestsTo('finalize').find((r) => r.jobId === job.job_id && r.body.status === 'COMPLETED')!;
    const from = completed.body.metrics.resume.resumed_from_segment as number;
    expect(from).toBeGreaterThanOrEqual(12);
    const check = await ladderCheck(path.join(dirs.nas, 'processed', 'term'), {
      segmentTime: T,
      seams: [from - (from % 2), from],
    });
    expect(check.problems).toEqual([]);
  }, 600_000);

  it('a source changed in between: the job starts from zero and says why', async () => {
    world = await newWorld();
    const { orch, dirs } = world;
    const { job } = await interruptAt60(world, 'SIGKILL', 'processed/changed');
    // Somebody re-saved the file: same bytes, a new modification time.
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(dirs.nas, FILM), later, later);
    const second = await world.start(WORKER_ENV);
    await resumableFailure(world, job.job_id);
    await orch.retry(job.job_id);
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 180_000 });
    expect(done.status).toBe('COMPLETED');
    const completed = orch.requestsTo('finalize').find((r) => r.jobId === job.job_id && r.body.status === 'COMPLETED')!;
    expect(completed.body.metrics.resume.resumed_from_segment).toBeUndefined();
    expect(completed.body.metrics.resume.restart_reason).toMatch(/the source changed since the interrupted run/);
    expect(second.logs.find((l) => l.msg === 'transcoding' && l.job_id === job.job_id)?.from_segment).toBe(0);
    const check = await ladderCheck(path.join(dirs.nas, 'processed', 'changed'), { segmentTime: T, seams: [] });
    expect(check.problems).toEqual([]);
  }, 600_000);
});
