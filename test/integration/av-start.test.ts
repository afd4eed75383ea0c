/**
 * Every rendition's first segment starts with picture and sound together (issue 11): with the audio as its own
 * rendition, a late or early start of the source's sound must not leave a hole at the start of either buffer (hls.js
 * used to seek over 0.18 s at the start of an HDR ladder). Checked on the real ladder's first segments: the first
 * picture's and the first sound's presentation times, on the segments' own 90 kHz clock, match within one frame.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFirstPts90k } from '../../src/storage/media-start-time.js';
import { makeSource, probeJson, runFfmpeg } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

let h: PipelineHarness;
beforeAll(async () => {
  h = await createPipelineHarness();
});
afterAll(() => h?.cleanup());

/** First video and first audio presentation time (seconds) of the published ladder's first segments. */
async function firstTimes(folder: string, type: 'ts' | 'fmp4'): Promise<{ video: number; audio: number }> {
  const rung = path.join(h.nas, folder, '180p');
  const media = HLS.parse(await readFile(path.join(rung, 'stream.m3u8'), 'utf8')) as HLS.types.MediaPlaylist;
  const first = media.segments[0]!;
  const init = first.map?.uri ? path.join(rung, first.map.uri) : undefined;
  const video = (await readFirstPts90k(path.join(rung, first.uri), type, init)) / 90_000;
  // One output: the master and its tracks folder live in the rung's folder.
  const a0 = path.join(rung, 'index_tracks', 'a0');
  const am = HLS.parse(await readFile(path.join(a0, 'stream.m3u8'), 'utf8')) as HLS.types.MediaPlaylist;
  const seg = am.segments[0]!;
  // ffprobe reads the audio segment with its init section in front (fMP4) or alone (TS).
  const probeFile = seg.map?.uri ? path.join(h.root, `${folder.replace(/\W/g, '_')}-a0.mp4`) : path.join(a0, seg.uri);
  if (seg.map?.uri) {
    const bytes = Buffer.concat([await readFile(path.join(a0, seg.map.uri)), await readFile(path.join(a0, seg.uri))]);
    await writeFile(probeFile, bytes);
  }
  const audio = Number((await probeJson(probeFile)).streams[0]!.start_time);
  return { video, audio };
}

describe('picture and sound start together in every first segment', () => {
  for (const type of ['ts', 'fmp4'] as const) {
    it(`sound starting 0.18 s after the picture (${type}): the audio rendition starts with the picture`, async () => {
      const raw = await makeSource(path.join(h.nas, 'movies'), { name: `late-${type}-raw.mkv`, duration: 3 });
      const late = path.join(h.nas, 'movies', `late-${type}.mkv`);
      // The same film with its sound delayed by 0.18 s (what an encoder's priming or a remux can leave).
      await runFfmpeg(['-i', raw, '-itsoffset', '0.18', '-i', raw, '-map', '0:v', '-map', '1:a', '-c', 'copy', late]);
      const streams = (await probeJson(late)).streams;
      const audioStart = Number(streams.find((s) => s.codec_type === 'audio')!.start_time);
      const videoStart = Number(streams.find((s) => s.codec_type === 'video')!.start_time);
      expect(audioStart - videoStart).toBeGreaterThan(0.15);

      const folder = `out/late-${type}`;
      const r = await h.run(
        ladderJob(`movies/late-${type}.mkv`, [['320x180', '300k', `${folder}/180p`]], {
          hls_settings: { segment_time: 1, segment_type: type },
        }),
      );
      if (!r.ok) throw r.error;
      const t = await firstTimes(folder, type);
      // Within one frame (25 fps) and AAC's priming (1024 samples at 48 kHz).
      expect(Math.abs(t.audio - t.video)).toBeLessThanOrEqual(0.04 + 1024 / 48_000);
    });
  }

  it('an HDR10 HEVC source made the usual way (the ladder that had a 0.18 s hole)', async () => {
    await makeSource(path.join(h.nas, 'movies'), { name: 'hdr.mkv', codec: 'libx265', hdr: 'pq', duration: 2 });
    const r = await h.run(
      ladderJob('movies/hdr.mkv', [['320x180', '300k', 'out/hdr/180p']], {
        hls_settings: { segment_time: 1, segment_type: 'fmp4' },
      }),
    );
    if (!r.ok) throw r.error;
    const t = await firstTimes('out/hdr', 'fmp4');
    expect(Math.abs(t.audio - t.video)).toBeLessThanOrEqual(0.04 + 1024 / 48_000);
  });
});
