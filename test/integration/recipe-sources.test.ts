/**
 * Sources are media files, not recipes (issue 9 item 3): a "video" that is really an HLS playlist, a concat list or
 * an image sequence names other files (outside the NAS, too), and reading it would transcode and publish those.
 * Real ffprobe/ffmpeg on real files; each job must fail with a message that says why, before anything is read
 * through the recipe, and leave the NAS unchanged.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegError, JobValidationError } from '../../src/errors.js';
import { execaRunner } from '../../src/exec/runner.js';
import { buildFfmpegArgs } from '../../src/transcode/args/index.js';
import { runFfmpeg } from '../../src/transcode/ffmpeg.js';
import { probeSourceInfo } from '../../src/transcode/ffprobe.js';
import { planTranscode } from '../../src/transcode/plan.js';
import { validateJob } from '../../src/job/validate.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { FFMPEG, FFPROBE, makeSource, runFfmpeg as makeMedia } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';
import { makePlanOptions } from '../helpers/plan-fixtures.js';

let h: PipelineHarness;
let movies: string;
let outside: string;
let secret: string;

function hlsPlaylist(segment: string): string {
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${segment}\n#EXT-X-ENDLIST\n`;
}

beforeAll(async () => {
  h = await createPipelineHarness();
  movies = path.join(h.nas, 'movies');
  outside = path.join(h.root, 'outside');
  await mkdir(outside, { recursive: true });
  // A real video OUTSIDE the NAS: what a hostile playlist would make the worker publish.
  secret = await makeSource(outside, { name: 'secret.ts', duration: 2 });
  await writeFile(path.join(movies, 'playlist.mkv'), hlsPlaylist(secret));
  // A concat list naming a file beside it (relative names pass the concat demuxer's own "safe" check).
  await copyFile(secret, path.join(movies, 'part.ts'));
  await writeFile(path.join(movies, 'list.mkv'), "ffconcat version 1.0\nfile 'part.ts'\n");
  // An image sequence: the name is a pattern, and frame001.png.. exist.
  const frames = path.join(movies, 'frames');
  await mkdir(frames, { recursive: true });
  await makeMedia([
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=0.3',
    path.join(frames, 'frame%03d.png'),
  ]); // prettier-ignore
  await copyFile(path.join(frames, 'frame001.png'), path.join(frames, 'frame%03d.png'));
  await makeSource(movies, { name: 'real.mkv', duration: 2 });
});
afterAll(() => h.cleanup());

async function refusedJob(source: string, dest: string): Promise<string> {
  const before = await snapshotTree(h.nas);
  const r = await h.run(ladderJob(source, [['320x180', '300k', dest]]));
  if (r.ok) throw new Error(`expected ${source} to be refused; it was published at ${r.result.manifestUrl}`);
  expect(r.error).toBeInstanceOf(JobValidationError);
  expect(await h.stagingLeft()).toEqual([]);
  expect(await snapshotTree(h.nas)).toEqual(before);
  return r.error.message;
}

describe('pipeline: sources that are recipes are refused', () => {
  it('an .mkv that is an HLS playlist naming a video outside the NAS', async () => {
    expect(await refusedJob('movies/playlist.mkv', 'out/hls/180p')).toMatch(
      /^input\.source_url = "movies\/playlist\.mkv" is an HLS playlist \(format hls\), not a media file; playlists, concat lists and image sequences can read files outside the NAS, so they are refused/,
    );
  });

  it('an ffconcat list', async () => {
    expect(await refusedJob('movies/list.mkv', 'out/concat/180p')).toMatch(
      /^input\.source_url = "movies\/list\.mkv" is a concat list \(format concat\), not a media file/,
    );
  });

  it('an image-sequence name (frame%03d.png with frame001.png.. present)', async () => {
    expect(await refusedJob('movies/frames/frame%03d.png', 'out/img/180p')).toMatch(
      /^input\.source_url = "movies\/frames\/frame%03d\.png" is an image sequence \(format image2\), not a media file/,
    );
  });

  it('a normal Matroska source still publishes', async () => {
    const r = await h.run(ladderJob('movies/real.mkv', [['320x180', '300k', 'out/real/180p']]));
    if (!r.ok) throw r.error;
  });
});

describe('ffprobe never opens what a playlist names', () => {
  // A FIFO as the "segment": opening it for reading blocks until a writer comes, so a probe that followed the
  // playlist would hang until its timeout instead of being refused at once.
  it.skipIf(process.platform === 'win32')('the segment (a FIFO) is never opened', async () => {
    const fifo = path.join(outside, 'trap.ts');
    execFileSync('mkfifo', [fifo]);
    const file = path.join(movies, 'trap.mkv');
    await writeFile(file, hlsPlaylist(fifo));
    const started = Date.now();
    const err = await probeSourceInfo(file, { ffprobePath: FFPROBE, runner: execaRunner, timeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobValidationError);
    expect((err as Error).message).toMatch(/is an HLS playlist \(format hls\)/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe('ffmpeg reads the source with the demuxer the probe found', () => {
  it('a source swapped for a playlist after the probe is not read as a playlist', async () => {
    const dir = path.join(movies, 'swap');
    await mkdir(dir, { recursive: true });
    const file = await makeSource(dir, { name: 'a.mkv', duration: 2 });
    const v = await validateJob(ladderJob('movies/swap/a.mkv', [['320x180', '300k', 'out/swap/180p']]), {
      nasRoot: h.nas,
    });
    const probed = await probeSourceInfo(v.inputPath, { ffprobePath: FFPROBE, runner: execaRunner });
    const staging = path.join(h.tempDir, 'swap-staging');
    const plan = planTranscode(v, probed.info, makePlanOptions({ stagingDir: staging }));
    const args = buildFfmpegArgs(plan);
    expect(args.slice(args.indexOf('-i') - 4, args.indexOf('-i') + 2)).toEqual([
      '-protocol_whitelist', 'file', '-f', 'matroska', '-i', `file:${file}`,
    ]); // prettier-ignore

    // Swapped between the probe and the transcode.
    await writeFile(`${file}.new`, hlsPlaylist(secret));
    await rename(`${file}.new`, file);
    await mkdir(staging, { recursive: true });
    const err = await runFfmpeg(args, { ffmpegPath: FFMPEG, durationSec: 2, stallTimeoutMs: 30_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as FfmpegError).stderrTail).toMatch(/EBML header parsing failed/);
  });
});

describe('the allowlist: single-file containers are read and pinned, anything else is refused', () => {
  const containers: Array<[file: string, demuxer: string, codec: string[]]> = [
    ['s.webm', 'matroska', ['-c:v', 'libvpx', '-deadline', 'realtime']],
    ['s.mov', 'mov', ['-c:v', 'libx264']],
    ['s.avi', 'avi', ['-c:v', 'mpeg4']],
    ['s.flv', 'flv', ['-c:v', 'flv1']],
    ['s.wmv', 'asf', ['-c:v', 'wmv2']],
    ['s.mpg', 'mpeg', ['-c:v', 'mpeg2video']],
    ['s.ogv', 'ogg', ['-c:v', 'libtheora']],
    ['s.mxf', 'mxf', ['-c:v', 'mpeg2video', '-r', '25']],
    ['s.nut', 'nut', ['-c:v', 'mpeg4']],
  ];
  it.each(containers)(
    '%s is read by the %s demuxer, also when ffmpeg is pinned to it',
    async (name, demuxer, codec) => {
      const file = path.join(movies, 'containers', name);
      await mkdir(path.dirname(file), { recursive: true });
      await makeMedia(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=0.5', ...codec, file]);
      const probed = await probeSourceInfo(file, { ffprobePath: FFPROBE, runner: execaRunner });
      expect(probed.demuxer).toBe(demuxer);
      await makeMedia(['-protocol_whitelist', 'file', '-f', demuxer, '-i', `file:${file}`, '-f', 'null', '-']);
    },
  );

  it('a raw H.264 stream (a single file, but not a container) is refused, naming its format', async () => {
    const file = path.join(movies, 'containers', 'raw.h264');
    await mkdir(path.dirname(file), { recursive: true });
    await makeMedia(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=0.5', '-c:v', 'libx264', file]);
    const err = await probeSourceInfo(file, {
      ffprobePath: FFPROBE,
      runner: execaRunner,
      shownAs: 'input.source_url = "raw.h264"',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobValidationError);
    expect((err as Error).message).toMatch(
      /^input\.source_url = "raw\.h264" is not in a single-file media container the worker reads \(format h264\); accepted containers: Matroska/,
    );
  });
});
