/**
 * verifyStaging reads each rendition's size and codec from the segment bytes; a stream it cannot read is asked of
 * ffprobe instead (one process, for that rendition only), so the master playlist is never written from guesses.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import { stagedDirOf, verifyStaging } from '../../src/storage/verify.js';
import { probeVideo } from '../../src/storage/video-facts.js';
import { planTranscode } from '../../src/transcode/plan.js';
import { FFPROBE, makeTempDir, removeDir, runFfmpeg } from '../helpers/media.js';
import { makePlanOptions, makeSourceInfo, makeValidatedJob } from '../helpers/plan-fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('tw-verify-');
});
afterAll(() => removeDir(dir));

/** A one-rendition plan staged in `stagingDir`, its HLS output written by ffmpeg with `videoArgs`. */
async function stage(name: string, videoArgs: string[]) {
  const stagingDir = path.join(dir, name);
  const plan = planTranscode(
    makeValidatedJob([{ res: '320x180', dest: `out/${name}` }], { segmentTime: 1 }),
    makeSourceInfo({ width: 320, height: 180 }, [], { durationSec: 2 }),
    makePlanOptions({ stagingDir }),
  );
  const r = plan.renditions[0]!;
  await mkdir(stagedDirOf(plan, r), { recursive: true });
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=2', '-an', ...videoArgs,
    '-g', '25', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    path.join(stagedDirOf(plan, r), r.playlistName)]); // prettier-ignore
  const master = ['#EXTM3U', '#EXT-X-STREAM-INF:BANDWIDTH=1', path.posix.join(r.variantDir, r.playlistName), ''];
  await writeFile(path.join(stagingDir, plan.masterPlaylistName), master.join('\n'));
  return plan;
}

function recording(): { runner: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: (cmd, args, opts) => {
      calls.push([cmd, ...args]);
      return execaRunner(cmd, args, opts);
    },
  };
}

describe('verifyStaging: size and codec of each rendition', () => {
  it('H.264 segments are read in-process: no ffprobe at all', async () => {
    const plan = await stage('h264', ['-c:v', 'libx264', '-preset', 'ultrafast']);
    const { runner, calls } = recording();
    const fallbacks: string[] = [];
    const v = await verifyStaging(plan, { runner, ffprobePath: FFPROBE, onFallback: (f) => fallbacks.push(f) });
    expect(calls).toEqual([]);
    expect(fallbacks).toEqual([]);
    expect(v.renditions[0]).toMatchObject({
      width: 320,
      height: 180,
      videoCodec: expect.stringMatching(/^avc1\.42C0[0-9A-F]{2}$/),
    });
    // The master verification wrote: the rung, its I-frame playlist, no audio group (the source is silent).
    const master = HLS.parse(await readFile(v.masterFile, 'utf8')) as HLS.types.MasterPlaylist;
    expect(master.variants.map((x) => [x.isIFrameOnly, x.codecs, x.audio.length])).toEqual([
      [false, v.renditions[0]!.videoCodec, 0],
      [true, v.renditions[0]!.videoCodec, 0],
    ]);
  });

  it('a stream the reader does not know falls back to one ffprobe; such a ladder is refused before commit', async () => {
    const plan = await stage('mpeg2', ['-c:v', 'mpeg2video']);
    const r = plan.renditions[0]!;
    const { runner, calls } = recording();
    const fallbacks: string[] = [];
    const seg = path.join(stagedDirOf(plan, r), 'stream0.ts');
    const facts = await probeVideo(seg, r, { runner, ffprobePath: FFPROBE, onFallback: (f) => fallbacks.push(f) });
    expect(fallbacks).toEqual([seg]);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe(FFPROBE);
    expect(facts).toMatchObject({ width: 320, height: 180 });
    // No HLS player takes MPEG-2 video, and no I-frame playlist can point into it: verification names the segment.
    await expect(verifyStaging(plan, { runner, ffprobePath: FFPROBE })).rejects.toThrow(
      // Segments are read side by side: whichever is read first is named.
      /mpeg2\/stream\d+\.ts has no H\.264 or HEVC video stream/,
    );
  });
});
