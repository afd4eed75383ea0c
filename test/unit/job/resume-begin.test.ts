/**
 * beginRun (job/resume.ts) on a real staging folder and journal: where a resumed run starts when the interrupted
 * run's last finished segments were listed by ffmpeg but not journaled yet. Trusted (scanned and fsynced now) only
 * when the machine has not restarted since the run began; after a reboot only the journal counts.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { beginRun, journaledRenditions } from '../../../src/job/resume.js';
import type { ResumeRunDeps } from '../../../src/job/resume-keep.js';
import { jobStagingDir } from '../../../src/storage/paths.js';
import { planTranscode } from '../../../src/transcode/plan.js';
import type { TranscodePlan } from '../../../src/transcode/types.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir('tw-resume-begin-');
});
afterAll(async () => {
  await removeDir(tmp);
});

const identity = (jobId: string) => ({
  jobId,
  source: { size: 1, mtime_ms: 1, head_sha256: 'a', tail_sha256: 'b' },
  settings: 'same',
});

function planOf(jobId: string): TranscodePlan {
  const v = makeValidatedJob(ladderOf().slice(0, 2), { segmentTime: 4, segmentType: 'ts' });
  const plan = planTranscode(
    v,
    makeSourceInfo({ fps: 25 }, [{}], { durationSec: 40 }),
    makePlanOptions({ stagingDir: jobStagingDir(path.join(tmp, 'temp'), jobId) }),
  );
  return { ...plan, jobId };
}

/** What ffmpeg leaves after `count` segments: each rendition's EVENT playlist listing them, and the files. */
async function ffmpegWrote(plan: TranscodePlan, count: number): Promise<void> {
  for (const dir of journaledRenditions(plan)) {
    const folder = path.join(plan.stagingDir, dir);
    await mkdir(folder, { recursive: true });
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:4', '#EXT-X-MEDIA-SEQUENCE:0'];
    lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
    for (let n = 0; n < count; n++) {
      const name = `seg_${String(n).padStart(5, '0')}.ts`;
      await writeFile(path.join(folder, name), Buffer.alloc(188 * (n + 1)));
      lines.push('#EXTINF:4.000000,', name);
    }
    await writeFile(path.join(folder, plan.playlistName), lines.join('\n') + '\n');
  }
}

/** A run that journaled 5 segments, then finished 2 more before it was killed (between two journal scans). */
async function interruptedRun(jobId: string, deps: ResumeRunDeps): Promise<TranscodePlan> {
  const plan = planOf(jobId);
  const first = await beginRun(plan, identity(jobId), deps);
  expect(first.from).toBe(0);
  await ffmpegWrote(plan, 5);
  expect((await first.journal.scan()).length).toBe(5 * journaledRenditions(plan).length);
  await ffmpegWrote(plan, 7);
  await first.journal.close();
  return plan;
}

describe('beginRun after a kill', () => {
  const deps = (bootTimeMs: number): ResumeRunDeps => ({
    stateDir: path.join(tmp, 'state'),
    tempDir: path.join(tmp, 'temp'),
    keepMs: 24 * 3600_000,
    log: createLogger({ level: 'silent' }),
    now: () => Date.now(),
    bootTimeMs: () => bootTimeMs,
  });

  it('no restart since the run began: the listed segments count, video from 7 and audio from 6', async () => {
    const booted = Date.now() - 3600_000;
    const plan = await interruptedRun('killed', deps(booted));
    const run = await beginRun(plan, identity('killed'), deps(booted));
    expect({ from: run.from, audioFrom: run.audioFrom }).toEqual({ from: 7, audioFrom: 6 });
    const [video, , audio] = journaledRenditions(plan);
    expect(run.journal.segments(video!).map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(run.journal.segments(audio!).map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // The audio segment 6 is made again by the resumed run: its file is gone, the video's 6 is kept.
    expect(await readdir(path.join(plan.stagingDir, audio!))).not.toContain('seg_00006.ts');
    expect(await readdir(path.join(plan.stagingDir, video!))).toContain('seg_00006.ts');
    await run.journal.close();
  });

  it('the machine restarted since (a power cut): only the journal counts, video from 5 and audio from 4', async () => {
    const plan = await interruptedRun('power-cut', deps(Date.now() - 3600_000));
    const run = await beginRun(plan, identity('power-cut'), deps(Date.now()));
    expect({ from: run.from, audioFrom: run.audioFrom }).toEqual({ from: 5, audioFrom: 4 });
    await run.journal.close();
  });
});
