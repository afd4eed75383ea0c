/**
 * The job executor end to end on generated sources: real ffprobe, ffmpeg, verification and commit into a
 * temporary "NAS". Each source is tiny (<= 640x360, 2 s) so the whole file stays fast on 2 cores.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSuccess } from '../../src/job/contract.js';
import { listFiles } from '../helpers/fs-snapshot.js';
import { readHlsTree } from '../helpers/hls-tree.js';
import { makeSource, probeJson } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

/** The ownership marker the commit puts in every folder it publishes (src/storage/ownership.ts). */
const MARKER = '.transcode-worker.json';

let h: PipelineHarness;
let movies: string;
beforeAll(async () => {
  h = await createPipelineHarness();
  movies = path.join(h.nas, 'movies');
});
afterAll(() => h.cleanup());

async function expectSuccess(run: ReturnType<PipelineHarness['run']>): Promise<JobSuccess> {
  const r = await run;
  if (!r.ok) throw r.error;
  expect(await h.stagingLeft()).toEqual([]);
  return r.result;
}

function videoOf(probe: Awaited<ReturnType<typeof probeJson>>) {
  return probe.streams.find((s) => s.codec_type === 'video')!;
}

describe('pipeline: successful jobs', () => {
  it('a ladder of three: complete tree, manifest_url, every master attribute, metrics, progress', async () => {
    await makeSource(movies, { name: 'ladder.mp4', width: 640, height: 360, duration: 2 });
    const job = ladderJob('movies/ladder.mp4', [
      ['360p', '800k', 'processed/ladder/360p/'],
      ['240p', '400k', 'processed/ladder/240p'],
      ['320x180', '250k', 'processed/ladder/180p'],
    ]);
    const r = await h.run(job);
    if (!r.ok) throw r.error;
    const result = r.result;
    expect(result.manifestUrl).toBe('/processed/ladder/index.m3u8');

    const tree = await readHlsTree(h.nas, result.manifestUrl);
    expect(tree.variants.map((v) => v.uri).sort()).toEqual([
      '180p/stream.m3u8',
      '240p/stream.m3u8',
      '360p/stream.m3u8',
    ]);
    for (const v of tree.variants) {
      expect(v.media.endlist).toBe(true);
      expect(v.durationSec).toBeCloseTo(2, 0);
      expect(v.variant.bandwidth).toBeGreaterThan(0);
      expect(v.variant.averageBandwidth).toBeGreaterThan(0);
      expect(v.variant.averageBandwidth).toBeLessThanOrEqual(v.variant.bandwidth);
      expect(v.variant.frameRate).toBe(25);
      expect(v.variant.codecs).toMatch(/^avc1\.[0-9A-F]{6},mp4a\.40\.2$/);
    }
    const byUri = Object.fromEntries(tree.variants.map((v) => [v.uri, v.variant.resolution]));
    expect(byUri['360p/stream.m3u8']).toEqual({ width: 640, height: 360 });
    expect(byUri['180p/stream.m3u8']).toEqual({ width: 320, height: 180 });
    // The real stream matches what the master declares.
    const seg = tree.variants.find((v) => v.uri.startsWith('240p'))!.files[0]!;
    expect(videoOf(await probeJson(seg))).toMatchObject({ width: 426, height: 240, codec_name: 'h264' });

    expect(result.metrics.encoders).toEqual({
      'processed/ladder/360p': 'libx264',
      'processed/ladder/240p': 'libx264',
      'processed/ladder/180p': 'libx264',
    });
    // Every file but the ownership markers (.transcode-worker.json, not output: not counted in output_bytes).
    const all = await listFiles(path.join(h.nas, 'processed'));
    expect(all.filter((f) => path.posix.basename(f) === MARKER)).toEqual([
      'ladder/.transcode-worker.json',
      'ladder/180p/.transcode-worker.json',
      'ladder/240p/.transcode-worker.json',
      'ladder/360p/.transcode-worker.json',
      'ladder/index_tracks/.transcode-worker.json',
    ]);
    // The audio track is encoded once, as its own rendition beside the master, shared by every rung.
    expect(tree.renditions.map((r) => r.uri)).toEqual(['index_tracks/a0/stream.m3u8']);
    expect(tree.variants.every((v) => v.variant.audio.length === 1)).toBe(true);
    // Each rung has its I-frame playlist.
    expect(tree.iframes.map((v) => v.uri).sort()).toEqual([
      '180p/iframes.m3u8',
      '240p/iframes.m3u8',
      '360p/iframes.m3u8',
    ]);
    const files = all.filter((f) => path.posix.basename(f) !== MARKER);
    const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(h.nas, 'processed', f))).size));
    expect(result.metrics.output_bytes).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(files.some((f) => f.split('/').some((part) => part.startsWith('.')))).toBe(false);
    expect(result.metrics.transcode_time_ms).toBeGreaterThan(0);

    expect(r.progress.at(-1)!.progress).toBe(100);
    for (let i = 1; i < r.progress.length; i++)
      expect(r.progress[i]!.progress).toBeGreaterThanOrEqual(r.progress[i - 1]!.progress);
    expect(await h.stagingLeft()).toEqual([]);
  });

  it('folder names with spaces, parentheses, a comma, an apostrophe, % and é land as named, URIs percent-encoded', async () => {
    await makeSource(movies, { name: 'amelie.mp4', duration: 2 });
    const movie = "Amélie, l'été (2001) 100%";
    const job = ladderJob('movies/amelie.mp4', [
      ['320x180', '300k', `processed/${movie}/180p (HD), 100%/`],
      ['214x120', '150k', `processed/${movie}/120p l'été`],
    ]);
    const result = await expectSuccess(h.run(job));
    expect(result.manifestUrl).toBe(`/processed/${movie}/index.m3u8`);

    // Exactly the requested folders on the NAS, nothing from staging (no v0/v1).
    expect(await readdir(path.join(h.nas, 'processed'))).toContain(movie);
    expect((await readdir(path.join(h.nas, 'processed', movie))).sort()).toEqual([
      MARKER,
      "120p l'été",
      '180p (HD), 100%',
      'index.m3u8',
      'index_tracks',
    ]);
    expect((await readdir(path.join(h.nas, 'processed', movie, '180p (HD), 100%'))).sort()).toEqual([
      MARKER,
      'iframes.m3u8',
      'seg_00000.ts',
      'seg_00001.ts',
      'stream.m3u8',
    ]);

    // The master lists the real folders, percent-encoded per name (no raw space, comma or %), and hls-parser
    // reads it; readHlsTree resolves each URI with decodeURIComponent and checks every segment exists.
    const masterText = await readFile(path.join(h.nas, 'processed', movie, 'index.m3u8'), 'utf8');
    const master = HLS.parse(masterText) as HLS.types.MasterPlaylist;
    const rungs = master.variants.filter((v) => !v.isIFrameOnly);
    expect(rungs.map((v) => v.uri)).toEqual([
      '180p%20(HD)%2C%20100%25/stream.m3u8',
      "120p%20l'%C3%A9t%C3%A9/stream.m3u8",
    ]);
    expect(rungs.map((v) => decodeURIComponent(v.uri))).toEqual([
      '180p (HD), 100%/stream.m3u8',
      "120p l'été/stream.m3u8",
    ]);
    expect(masterText).not.toMatch(/^[^#].*[ ,]/m);
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    expect(tree.variants.map((v) => v.variant.resolution)).toEqual([
      { width: 320, height: 180 },
      { width: 214, height: 120 },
    ]);
    for (const v of tree.variants) {
      expect(v.media.endlist).toBe(true);
      expect(v.durationSec).toBeCloseTo(2, 0);
    }
    const small = tree.variants[1]!.files[0]!;
    expect(small).toBe(path.join(h.nas, 'processed', movie, "120p l'été", 'seg_00000.ts'));
    expect(videoOf(await probeJson(small))).toMatchObject({ width: 214, height: 120 });
    expect(result.metrics.encoders).toEqual({
      [`processed/${movie}/180p (HD), 100%`]: 'libx264',
      [`processed/${movie}/120p l'été`]: 'libx264',
    });
  });

  it('one output: the master sits in its folder, as in the description', async () => {
    await makeSource(movies, { name: 'single.mp4', duration: 2 });
    const result = await expectSuccess(
      h.run(ladderJob('movies/single.mp4', [['320x180', '300k', 'processed/single/180p/']])),
    );
    expect(result.manifestUrl).toBe('/processed/single/180p/index.m3u8');
    expect((await readdir(path.join(h.nas, 'processed/single/180p'))).sort()).toEqual([
      MARKER,
      'iframes.m3u8',
      'index.m3u8',
      'index_tracks',
      'seg_00000.ts',
      'seg_00001.ts',
      'stream.m3u8',
    ]);
    // The audio rendition travels inside the rendition's folder, with it (one atomic swap).
    expect(await readdir(path.join(h.nas, 'processed/single/180p/index_tracks/a0'))).toContain('stream.m3u8');
    await readHlsTree(h.nas, result.manifestUrl);
  });

  it('a source without audio gives an output without audio (not a failure)', async () => {
    await makeSource(movies, { name: 'silent.mp4', audioChannels: 0 });
    const result = await expectSuccess(
      h.run(ladderJob('movies/silent.mp4', [['320x180', '300k', 'processed/silent/180p']])),
    );
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    expect(tree.variants[0]!.variant.codecs).toMatch(/^avc1\.[0-9A-F]{6}$/);
    const probe = await probeJson(tree.variants[0]!.files[0]!);
    expect(probe.streams.map((s) => s.codec_type)).toEqual(['video']);
  });

  it('10-bit HEVC HDR10 with 5.1 + a second audio track + subtitles -> SDR BT.709 8-bit, both tracks as stereo AAC renditions, the subtitles as WebVTT', async () => {
    await makeSource(movies, {
      name: 'hdr.mkv',
      codec: 'libx265',
      hdr: 'pq',
      audioChannels: 6,
      extraAudio: [2],
      subtitles: true,
      duration: 2,
    });
    const result = await expectSuccess(h.run(ladderJob('movies/hdr.mkv', [['320x180', '300k', 'processed/hdr/180p']])));
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    const probe = await probeJson(tree.variants[0]!.files[0]!);
    expect(videoOf(probe)).toMatchObject({
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      color_transfer: 'bt709',
      color_primaries: 'bt709',
    });
    expect(probe.streams.map((s) => s.codec_type)).toEqual(['video']);
    const audio = tree.renditions.filter((r) => /\/a\d+\//.test(r.uri));
    expect(audio).toHaveLength(2);
    for (const a of audio)
      expect((await probeJson(a.files[0]!)).streams).toEqual([
        expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', channels: 2 }),
      ]);
    const subs = tree.renditions.filter((r) => /\/s\d+\//.test(r.uri));
    // The embedded track, and the hdr.srt makeSource left beside the film (a sidecar, as a user would name it).
    expect(subs).toHaveLength(2);
    expect(await readFile(subs[0]!.files[0]!, 'utf8')).toMatch(/^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:/);
  });

  it('a rotated phone video stays portrait', async () => {
    await makeSource(movies, { name: 'phone.mp4', width: 320, height: 180, rotate: 90 });
    const result = await expectSuccess(
      h.run(ladderJob('movies/phone.mp4', [['240p', '300k', 'processed/phone/240p']])),
    );
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    expect(Number(v.height)).toBeGreaterThan(Number(v.width));
    expect(tree.variants[0]!.variant.resolution).toEqual({ width: Number(v.width), height: Number(v.height) });
  });

  it('an odd size with non-square pixels gives even dimensions with the display aspect ratio kept', async () => {
    await makeSource(movies, { name: 'odd.mp4', width: 321, height: 181, sar: '4:3' });
    const result = await expectSuccess(h.run(ladderJob('movies/odd.mp4', [['320x180', '300k', 'processed/odd/180p']])));
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    const [w, hgt] = [Number(v.width), Number(v.height)];
    expect(w % 2).toBe(0);
    expect(hgt % 2).toBe(0);
    const sar = String(v.sample_aspect_ratio ?? '1:1')
      .split(':')
      .map(Number);
    const outDar = (w * sar[0]!) / sar[1]! / hgt;
    expect(outDar).toBeCloseTo((321 * 4) / 3 / 181, 1);
  });

  it('an interlaced MPEG-2 TS is deinterlaced', async () => {
    await makeSource(movies, { name: 'tv.ts', codec: 'mpeg2video', interlaced: true });
    const result = await expectSuccess(h.run(ladderJob('movies/tv.ts', [['320x180', '300k', 'processed/tv/180p']])));
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    const v = videoOf(await probeJson(tree.variants[0]!.files[0]!));
    expect(v.codec_name).toBe('h264');
    expect(['progressive', undefined]).toContain(v.field_order);
  });

  it('an upscale request is clamped to the source size (never upscale)', async () => {
    await makeSource(movies, { name: 'small.mp4', width: 320, height: 180 });
    const result = await expectSuccess(h.run(ladderJob('movies/small.mp4', [['720p', '2M', 'processed/small/720p']])));
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    expect(tree.variants[0]!.variant.resolution).toEqual({ width: 320, height: 180 });
    expect(videoOf(await probeJson(tree.variants[0]!.files[0]!))).toMatchObject({ width: 320, height: 180 });
  });

  it('fMP4 segments: init section + .m4s segments, version 7 master', async () => {
    await makeSource(movies, { name: 'fmp4.mp4' });
    const job = ladderJob('movies/fmp4.mp4', [
      ['320x180', '300k', 'processed/fmp4/180p'],
      ['214x120', '150k', 'processed/fmp4/120p'],
    ]);
    job.hls_settings = { segment_time: 1, segment_type: 'fmp4' };
    const result = await expectSuccess(h.run(job));
    const tree = await readHlsTree(h.nas, result.manifestUrl);
    expect(tree.masterText).toContain('#EXT-X-VERSION:7');
    for (const v of tree.variants) {
      expect(v.media.segments[0]!.map?.uri).toBeTruthy();
      expect(v.files.some((f) => f.endsWith('.m4s'))).toBe(true);
      // The real stream's profile (x264 ultrafast: Constrained Baseline), read from the init section.
      expect(v.variant.codecs).toMatch(/^avc1\.42C0[0-9A-F]{2},mp4a\.40\.2$/);
    }
  });

  it('a re-run replaces the previous output (stale files of the old run disappear)', async () => {
    await makeSource(movies, { name: 'rerun.mp4' });
    const job = ladderJob('movies/rerun.mp4', [['320x180', '300k', 'processed/rerun/180p']], { job_id: 'rerun-1' });
    await expectSuccess(h.run(job));
    const stale = path.join(h.nas, 'processed/rerun/180p/seg_99999.ts');
    await writeFile(stale, 'stale');
    const before = await readFile(path.join(h.nas, 'processed/rerun/180p/index.m3u8'), 'utf8');
    job.outputs[0]!.bitrate = '200k';
    await expectSuccess(h.run(job));
    await expect(stat(stale)).rejects.toThrow();
    const after = await readFile(path.join(h.nas, 'processed/rerun/180p/index.m3u8'), 'utf8');
    expect(after).not.toBe(before); // new measured bandwidth
    expect((await readdir(path.join(h.nas, 'processed/rerun'))).sort()).toEqual(['180p']);
  });
});
