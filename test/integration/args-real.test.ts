/**
 * Proves the software family's argv works: validateJob -> probeSource -> planTranscode -> buildFfmpegArgs, then
 * REAL ffmpeg with exactly that argv, then the staged tree is read back (master + media playlists + segments).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execaRunner } from '../../src/exec/runner.js';
import type { Job } from '../../src/protocol/schemas.js';
import { buildFfmpegArgs } from '../../src/transcode/args/index.js';
import { probeSource } from '../helpers/probe-source.js';
import { planTranscode } from '../../src/transcode/plan.js';
import type { TranscodePlan } from '../../src/transcode/types.js';
import { validateJob } from '../../src/job/validate.js';
import { readStagedLadder } from '../helpers/hls-tree.js';
import {
  FFMPEG,
  FFPROBE,
  makeSource,
  makeTempDir,
  probeJson,
  removeDir,
  type SourceOptions,
} from '../helpers/media.js';
import { makePlanOptions } from '../helpers/plan-fixtures.js';

let base: string;
let nas: string;
let n = 0;

beforeAll(async () => {
  base = await makeTempDir('tw-args-real-');
  nas = path.join(base, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
});
afterAll(async () => {
  await removeDir(base);
});

/** Generates the source, plans the job and runs the real ffmpeg with the built argv. */
async function transcode(
  source: SourceOptions & { name: string },
  outputs: Job['outputs'],
  hls: Job['hls_settings'] = { segment_time: 1 },
  edit: (args: string[]) => string[] = (a) => a,
): Promise<{ plan: TranscodePlan; args: string[] }> {
  await makeSource(path.join(nas, 'movies'), source);
  const job: Job = { job_id: `job-${++n}`, input: { source_url: `movies/${source.name}` }, outputs, hls_settings: hls };
  const v = await validateJob(job, { nasRoot: nas });
  const info = await probeSource(v.inputPath, { ffprobePath: FFPROBE, runner: execaRunner });
  const plan = planTranscode(
    v,
    info,
    makePlanOptions({ stagingDir: path.join(base, 'staging', job.job_id), softwarePreset: 'ultrafast' }),
  );
  const args = edit(buildFfmpegArgs(plan));
  // As the pipeline does: ffmpeg's webvtt muxer writes the whole subtitle tracks into a folder that must exist.
  for (const sub of plan.subtitles) await mkdir(path.dirname(sub.fullVttPath), { recursive: true });
  const result = await execaRunner(FFMPEG, args, { timeoutMs: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  // -progress pipe:1 reports on stdout and ends with progress=end.
  expect(result.stdout).toMatch(/out_time_us=\d+/);
  expect(result.stdout.trimEnd().endsWith('progress=end')).toBe(true);
  return { plan, args };
}

const out = (resolution: string, dest: string, codec = 'libx264', bitrate = '300k'): Job['outputs'][number] => ({
  resolution,
  bitrate,
  codec,
  dest_path: dest,
});

describe('buildFfmpegArgs runs with real ffmpeg (software family)', () => {
  it('one process writes a two-rung ladder: master, media playlists, aligned segments', async () => {
    const { plan } = await transcode({ name: 'ladder.mp4', duration: 3 }, [
      out('1080p', 'processed/ladder/hd/'),
      out('160x90', 'processed/ladder/sd', 'libx264', '100k'),
    ]);
    expect(plan.renditions.map((r) => [r.width, r.height, r.clamped])).toEqual([
      [320, 180, true],
      [160, 90, false],
    ]);
    // Staging uses synthetic folder names; verification writes the master with the real folders (hd, sd).
    const tree = await readStagedLadder(plan);
    expect(tree.rungs.map((v) => v.dir)).toEqual(['v0', 'v1']);
    expect(tree.audio.map((v) => v.dir)).toEqual(['index_tracks/a0']);
    for (const v of [...tree.rungs, ...tree.audio]) {
      // ffmpeg writes EVENT playlists (a record of finished segments while it runs, issue 12); the pipeline makes
      // them VOD afterwards (storage/event-playlist.ts). Ended: the list is complete.
      expect(v.media.playlistType).toBe('EVENT');
      expect(v.media.endlist).toBe(true);
      expect(v.durationSec).toBeCloseTo(3, 0);
      expect(v.files.length).toBeGreaterThanOrEqual(3);
    }
    // Keyframes forced at every boundary: both renditions cut at the same instants.
    const cuts = tree.rungs.map((v) => v.media.segments.map((s) => s.duration.toFixed(2)));
    expect(cuts[0]).toEqual(cuts[1]);
    // Video rungs are video only; the audio is its own rendition, encoded once.
    const sizes = await Promise.all(tree.rungs.map(async (r) => (await probeJson(r.files[0]!)).streams));
    expect(sizes.map((s) => s.map((x) => [x.codec_type, x.width, x.height]))).toEqual([
      [['video', 320, 180]],
      [['video', 160, 90]],
    ]);
    expect((await probeJson(tree.rungs[1]!.files[0]!)).streams[0]).toMatchObject({ pix_fmt: 'yuv420p' });
    const audio = (await probeJson(tree.audio[0]!.files[0]!)).streams;
    expect(audio).toEqual([expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', channels: 2 })]);
  });

  it('HDR10 10-bit HEVC with 5.1 + second audio + subtitles -> SDR BT.709 8-bit, stereo AAC, fMP4, nothing else', async () => {
    const { plan } = await transcode(
      {
        name: 'hdr.mkv',
        codec: 'libx265',
        hdr: 'pq',
        audioChannels: 6,
        extraAudio: [2],
        defaultAudio: 0,
        subtitles: true,
      },
      [out('720p', 'processed/hdr/720p', 'libx264')],
      { segment_time: 1, segment_type: 'fmp4', master_playlist_name: 'master.m3u8' },
    );
    expect(plan.toneMap).toBe(true);
    expect(plan.audioGroups[0]!.renditions[0]).toMatchObject({ streamIndex: 1, sourceChannels: 6, channels: 2 });
    const tree = await readStagedLadder(plan);
    expect(tree.rungs.map((v) => v.dir)).toEqual(['.']);
    // Both source tracks, each once; the 5.1 one downmixed to stereo.
    expect(tree.audio.map((v) => v.dir)).toEqual(['master_tracks/a0', 'master_tracks/a1']);
    const [init, first] = tree.rungs[0]!.files;
    expect(path.basename(init!)).toMatch(/^init.*\.mp4$/);
    // An fMP4 segment is probed with its init section in front of it.
    const joined = path.join(base, 'joined.mp4');
    await writeFile(joined, Buffer.concat([await readFile(init!), await readFile(first!)]));
    const probed = await probeJson(joined);
    const video = probed.streams.find((s) => s.codec_type === 'video')!;
    expect(video).toMatchObject({
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      color_transfer: 'bt709',
      color_primaries: 'bt709',
      color_space: 'bt709',
    });
    expect(probed.streams.map((s) => s.codec_type)).toEqual(['video']);
    // The source's HDR10 mastering display / light level metadata does not describe the SDR picture.
    expect(JSON.stringify(video.side_data_list ?? [])).not.toMatch(/Mastering|light level/i);
    // The subtitle track, as one whole WebVTT file beside the ladder (cut into segments after ffmpeg).
    expect(plan.subtitles).toHaveLength(1);
    expect(await readFile(plan.subtitles[0]!.fullVttPath, 'utf8')).toMatch(/^WEBVTT/);
    const [aInit, aFirst] = tree.audio[0]!.files;
    await writeFile(joined, Buffer.concat([await readFile(aInit!), await readFile(aFirst!)]));
    expect((await probeJson(joined)).streams).toEqual([
      expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: '48000' }),
    ]);
  });

  it('the filter graph alone tags the tone-mapped picture BT.709 (ffmpeg 7.1+ ignores the output options)', async () => {
    const withoutOutputTags = (args: string[]): string[] =>
      args.filter((a, k) => !/^-color/.test(a) && !/^-color/.test(args[k - 1] ?? ''));
    const { plan, args } = await transcode(
      { name: 'hdr-graph-tags.mkv', codec: 'libx265', hdr: 'pq', audioChannels: 0, duration: 1 },
      [out('360p', 'processed/hdr-graph-tags/360p', 'libx264')],
      { segment_time: 1, segment_type: 'fmp4' },
      withoutOutputTags,
    );
    expect(args.some((a) => a.startsWith('-color'))).toBe(false);
    const [init, first] = (await readStagedLadder(plan)).rungs[0]!.files;
    const joined = path.join(base, 'joined-graph-tags.mp4');
    await writeFile(joined, Buffer.concat([await readFile(init!), await readFile(first!)]));
    const video = (await probeJson(joined)).streams.find((s) => s.codec_type === 'video')!;
    expect(video).toMatchObject({
      color_transfer: 'bt709',
      color_primaries: 'bt709',
      color_space: 'bt709',
      color_range: 'tv',
    });
  });

  it('portrait phone video stays portrait; odd size with 4:3 pixels becomes square pixels; no audio', async () => {
    const portrait = await transcode({ name: 'phone.mp4', rotate: 90 }, [out('720p', 'processed/phone/720p')]);
    const p = await readStagedLadder(portrait.plan);
    const pv = (await probeJson(p.rungs[0]!.files[0]!)).streams.find((s) => s.codec_type === 'video')!;
    expect([pv.width, pv.height]).toEqual([180, 320]);

    const odd = await transcode({ name: 'odd.mkv', width: 321, height: 181, sar: '4:3', audioChannels: 0 }, [
      out('480p', 'processed/odd/480p'),
    ]);
    expect(odd.plan.audioGroups).toEqual([]);
    const o = await readStagedLadder(odd.plan);
    expect(o.audio).toEqual([]);
    const streams = (await probeJson(o.rungs[0]!.files[0]!)).streams;
    expect(streams.map((s) => s.codec_type)).toEqual(['video']);
    expect(streams[0]).toMatchObject({ width: 426, height: 180 });
    expect(['1:1', undefined]).toContain(streams[0]!.sample_aspect_ratio);
  });

  it('deinterlaces an interlaced MPEG-2 transport stream', async () => {
    const { plan } = await transcode({ name: 'tv.ts', codec: 'mpeg2video', interlaced: true }, [
      out('360p', 'processed/tv/360p'),
    ]);
    expect(plan.deinterlace).toBe(true);
    const tree = await readStagedLadder(plan);
    const video = (await probeJson(tree.rungs[0]!.files[0]!)).streams.find((s) => s.codec_type === 'video')!;
    expect(['progressive', undefined]).toContain(video.field_order);
  });
});
