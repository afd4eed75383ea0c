/**
 * Black-box split and stitch (issue 12 §2): the dev orchestrator with its split policy and two workers (built
 * worker, child processes) on one 2-minute source. The parent job is cut into parts on the audio grid, the parts run
 * on both workers, one part fails once (an ffmpeg that refuses its first part run) and is retried alone, the stitch
 * joins them, and the parent COMPLETES with a ladder whose seams are invisible: 30 segments of 4 s per rendition,
 * continuous timestamps, no discontinuity, clean audio, playback across every seam at every level.
 */
import { chmod, copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM } from '../helpers/browser.js';
import { ladderCheck } from '../helpers/ladder-continuity.js';
import { FFMPEG, makeSource, makeTempDir, removeDir } from '../helpers/media.js';
import { playAcrossSeams, seamProblems } from '../helpers/seam-playback.js';
import { makeWorld, type World } from './fixture.js';

const FILM = 'in/film.mp4';
const T = 4;
const SEGMENTS = 30;

let sourceDir: string;
let world: World | undefined;

beforeAll(async () => {
  sourceDir = await makeTempDir('tw-split-src-');
  await makeSource(sourceDir, { name: 'film.mp4', width: 480, height: 270, duration: SEGMENTS * T });
}, 120_000);
afterAll(async () => removeDir(sourceDir));
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

/** An ffmpeg that fails its first part run (the argv of a range run has -start_number), then behaves. */
async function ffmpegFailingOnce(dir: string): Promise<string> {
  const script = path.join(dir, 'ffmpeg-fails-once.sh');
  const marker = path.join(dir, 'failed-once');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      `case " $* " in *" -start_number "*) if [ ! -e '${marker}' ]; then : > '${marker}'; echo 'injected failure' >&2; exit 1; fi;; esac`,
      `exec '${FFMPEG}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  return script;
}

describe.skipIf(process.platform === 'win32')('split and stitch over two workers (black box)', () => {
  it('parts on both workers, a failed part retried alone, the stitch publishes a seamless ladder', async () => {
    world = await makeWorld({ lostJobSyncs: 1000, split: { minDurationSec: 60, holdMs: 60_000 } }, false);
    const { orch, dirs } = world;
    await mkdir(path.join(dirs.nas, 'in'), { recursive: true });
    await copyFile(path.join(sourceDir, 'film.mp4'), path.join(dirs.nas, FILM));
    const second = { state: path.join(dirs.root, 'state2'), temp: path.join(dirs.root, 'tmp2') };
    await world.start({ WORKER_X264_PRESET: 'veryfast' });
    await world.start({
      WORKER_X264_PRESET: 'veryfast',
      WORKER_ID: 'e2e-worker-2',
      WORKER_STATE_DIR: second.state,
      WORKER_TEMP_DIR: second.temp,
      WORKER_FFMPEG_PATH: await ffmpegFailingOnce(dirs.root),
    });
    // Both registered with the extension before the job comes (the policy needs two idle capable workers).
    await orch.waitFor(
      (o) => o.workers().filter((w) => w.capabilities.extensions?.includes('split-stitch/1')).length === 2,
      { timeoutMs: 60_000, message: 'two workers with split-stitch/1' },
    );
    await orch.waitFor((o) => o.requestsTo('sync').filter((r) => r.body.status === 'IDLE').length >= 4, {
      message: 'idle syncs',
    });
    const parent = await orch.enqueue({
      job_id: 'film',
      input: { source_url: FILM, format: 'mp4' },
      outputs: [
        { resolution: '480x270', bitrate: '400k', codec: 'libx264', dest_path: 'processed/film/270p/' },
        { resolution: '320x180', bitrate: '200k', codec: 'libx264', dest_path: 'processed/film/180p/' },
      ],
      hls_settings: { master_playlist_name: 'index.m3u8', segment_time: T },
      source_duration_sec: SEGMENTS * T,
    } as Parameters<typeof orch.enqueue>[0]);
    expect(parent.job_id).toBe('film');

    const done = await orch.waitForJob('film', ['COMPLETED', 'FAILED'], { timeoutMs: 400_000 });
    const view = orch.job('film') as unknown as {
      status: string;
      error_msg?: string;
      manifest_url?: string;
      parts: Array<{
        job_id: string;
        status: string;
        worker_id?: string;
        attempts: number;
        start_segment: number;
        end_segment: number;
      }>;
      stitch: { status: string; attempts: number };
    };
    expect({ status: done.status, error: view.error_msg }).toEqual({ status: 'COMPLETED', error: undefined });
    expect(view.manifest_url).toBe('/processed/film/index.m3u8');
    expect(view.parts.length).toBeGreaterThanOrEqual(2);
    // Parts ran on both workers; exactly one part needed a second attempt, the others one each.
    expect(new Set(view.parts.map((p) => p.worker_id)).size).toBe(2);
    expect(view.parts.map((p) => p.attempts).sort()).toEqual([...Array(view.parts.length - 1).fill(1), 2]);
    expect(view.stitch).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    // Contiguous, as equal as can be (the larger first), covering the film: 30 segments in 4 parts are 8/8/7/7,
    // so two boundaries are off the AAC step of T = 4 s (even segments) and those parts start their audio before.
    expect(view.parts[0]!.start_segment).toBe(0);
    expect(view.parts.at(-1)!.end_segment).toBe(SEGMENTS);
    view.parts.forEach((p, i) => {
      if (i > 0) expect(p.start_segment).toBe(view.parts[i - 1]!.end_segment);
    });
    expect(view.parts.map((p) => p.end_segment - p.start_segment)).toEqual([8, 8, 7, 7]);

    const seams = view.parts.slice(1).map((p) => p.start_segment);
    const ladder = path.join(dirs.nas, 'processed', 'film');
    const check = await ladderCheck(ladder, { segmentTime: T, seams });
    expect(check.problems).toEqual([]);
    expect(check.segmentsPerRendition).toMatchObject({ '270p': SEGMENTS, '180p': SEGMENTS });
    // The parts area is gone; only the ladder is left beside the source.
    expect((await readdir(path.join(dirs.nas, 'processed'))).sort()).toEqual(['film']);
    if (HAS_CHROMIUM) {
      const plays = await playAcrossSeams(
        dirs.nas,
        '/processed/film/index.m3u8',
        seams.map((k) => k * T),
        2,
        1,
      );
      expect(seamProblems(plays, T)).toEqual([]);
    }
  }, 600_000);
});
