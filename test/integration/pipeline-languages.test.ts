/**
 * Every language, every screen (issue 11), on the real pipeline with real ffmpeg: a family film with three audio
 * tracks, two embedded subtitle tracks and sidecar files becomes a ladder whose master lists every audio track
 * once (encoded once, shared by all rungs) and every text subtitle track as segmented WebVTT, with the labels a
 * player shows, and whose media files say what the master says (checked with ffprobe).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSuccess } from '../../src/job/contract.js';
import { probeJson, runFfmpeg } from '../helpers/media.js';
import {
  ENGLISH_CUES,
  FRENCH_FORCED_CUES,
  GERMAN_SIDECAR_CUES,
  makeMultiLanguageFilm,
} from '../helpers/multilang-source.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

let h: PipelineHarness;
let result: JobSuccess;
let master: HLS.types.MasterPlaylist;
const filmDir = 'library/Family Film (2024)';

function masterText(): Promise<string> {
  return readFile(path.join(h.nas, filmDir, 'index.m3u8'), 'utf8');
}

beforeAll(async () => {
  h = await createPipelineHarness();
  await makeMultiLanguageFilm(path.join(h.nas, 'movies'), { germanSidecar: true, brokenSidecar: true });
  const r = await h.run(
    ladderJob('movies/family.mkv', [
      ['320x180', '300k', `${filmDir}/180p`],
      ['256x144', '200k', `${filmDir}/144p`],
    ]),
  );
  if (!r.ok) throw r.error;
  result = r.result;
  master = HLS.parse(await masterText()) as HLS.types.MasterPlaylist;
}, 120_000);

afterAll(() => h?.cleanup());

describe('audio renditions', () => {
  it('lists every source audio track once in one AAC group, with language, name, default and autoselect', async () => {
    const text = await masterText();
    const audio = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
    expect(audio).toHaveLength(3);
    expect(audio.every((l) => l.includes('GROUP-ID="aac-128k"'))).toBe(true);
    expect(audio[0]).toMatch(/NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2"/);
    expect(audio[1]).toMatch(/NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES/);
    // The commentary keeps its title and is never picked by itself.
    expect(audio[2]).toMatch(/NAME="Director's commentary",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=NO/);
  });

  it('encodes each track once: one folder per track, stereo AAC, 48 kHz', async () => {
    const tracks = (await readdir(path.join(h.nas, filmDir, 'index_tracks'))).filter((n) => n.startsWith('a'));
    expect(tracks.sort()).toEqual(['a0', 'a1', 'a2']);
    for (const t of tracks) {
      const seg = path.join(h.nas, filmDir, 'index_tracks', t, 'seg_00000.ts');
      const streams = (await probeJson(seg)).streams;
      expect(streams).toEqual([expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', channels: 2 })]);
      expect(streams[0]!.sample_rate).toBe('48000');
    }
  });

  it('every variant is video only and names its audio group, subtitles and codecs', () => {
    const variants = master.variants.filter((v) => !v.isIFrameOnly);
    expect(variants).toHaveLength(2);
    // Every rung has its I-frame playlist, for scrubbing on Apple players.
    expect(master.variants.filter((v) => v.isIFrameOnly).map((v) => v.uri)).toEqual([
      '180p/iframes.m3u8',
      '144p/iframes.m3u8',
    ]);
    for (const v of variants) {
      expect(v.codecs).toMatch(/^avc1\.[0-9A-F]{6},mp4a\.40\.2$/);
      expect(v.audio.map((a) => a.groupId)).toEqual(['aac-128k', 'aac-128k', 'aac-128k']);
      expect(v.subtitles.length).toBeGreaterThan(0);
      expect(v.bandwidth).toBeGreaterThan(v.averageBandwidth ?? 0);
    }
  });
});

describe('subtitle renditions', () => {
  it('lists the embedded text tracks and the readable sidecar, with their dispositions', async () => {
    const subs = (await masterText()).split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=SUBTITLES'));
    expect(subs).toHaveLength(3);
    expect(subs[0]).toMatch(/GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES/);
    expect(subs[1]).toMatch(/LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES/);
    expect(subs[2]).toMatch(/NAME="Deutsch",LANGUAGE="de"/);
  });

  it('reports the malformed sidecar as left out, and the job still succeeds', () => {
    const m = result.metrics as Record<string, unknown>;
    expect(m.subtitle_renditions).toBe(3);
    expect(m.subtitle_warnings).toEqual([expect.stringContaining('family.it.srt')]);
  });

  it('cuts each track along the video segments, every cue in the segment where it starts', async () => {
    const expectations: Array<[string, Array<[number, number, string]>]> = [
      ['s0', ENGLISH_CUES],
      ['s1', FRENCH_FORCED_CUES],
      ['s2', GERMAN_SIDECAR_CUES],
    ];
    const video = HLS.parse(
      await readFile(path.join(h.nas, filmDir, '180p', 'stream.m3u8'), 'utf8'),
    ) as HLS.types.MediaPlaylist;
    for (const [dir, cues] of expectations) {
      const folder = path.join(h.nas, filmDir, 'index_tracks', dir);
      const pl = HLS.parse(await readFile(path.join(folder, 'stream.m3u8'), 'utf8')) as HLS.types.MediaPlaylist;
      expect(pl.segments.map((s) => s.duration)).toEqual(video.segments.map((s) => s.duration));
      let start = 0;
      const starts = pl.segments.map((s) => {
        const at = start;
        start += s.duration;
        return at;
      });
      for (const [at, , text] of cues) {
        const i = starts.findLastIndex((s) => s <= at);
        const seg = await readFile(path.join(folder, pl.segments[i]!.uri), 'utf8');
        expect(seg.startsWith('WEBVTT')).toBe(true);
        expect(seg).toMatch(/X-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00\.000/);
        expect(seg).toContain(text);
      }
    }
  });
});

describe('an audio-only source', () => {
  it('gives an audio-only master: one variant per audio group, no video rung, no RESOLUTION', async () => {
    const song = path.join(h.nas, 'movies', 'song.mp3');
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=f=523:d=3:sample_rate=44100', '-ac', '2', '-c:a', 'libmp3lame', song]);
    const r = await h.run(
      ladderJob('movies/song.mp3', [
        ['360p', '800k', 'music/song/360p'],
        ['240p', '400k', 'music/song/240p'],
      ]),
    );
    if (!r.ok) throw r.error;
    expect(r.result.manifestUrl).toBe('/music/song/index.m3u8');
    const text = await readFile(path.join(h.nas, 'music/song/index.m3u8'), 'utf8');
    const m = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(m.variants.map((v) => [v.uri, v.codecs, v.resolution])).toEqual([
      ['index_tracks/a0/stream.m3u8', 'mp4a.40.2', undefined],
    ]);
    expect(text).not.toMatch(/RESOLUTION|FRAME-RATE|I-FRAME/);
    // No empty video folders are published for the rungs the job listed.
    expect((await readdir(path.join(h.nas, 'music/song'))).sort()).toEqual([
      '.transcode-worker.json',
      'index.m3u8',
      'index_tracks',
    ]);
    const seg = path.join(h.nas, 'music/song/index_tracks/a0/seg_00000.ts');
    expect((await probeJson(seg)).streams).toEqual([
      expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: '48000' }),
    ]);
  });
});

describe('the surround group (audio_config.surround)', () => {
  it('adds an E-AC-3 group: 5.1 where the source has it, every rung listed once per group', async () => {
    const dir = 'library/Surround Film';
    const r = await h.run({
      ...ladderJob('movies/family.mkv', [
        ['320x180', '300k', `${dir}/180p`],
        ['256x144', '200k', `${dir}/144p`],
      ]),
      audio_config: { surround: true },
      subtitles: { include: false, sidecars: false },
    });
    if (!r.ok) throw r.error;
    const text = await readFile(path.join(h.nas, dir, 'index.m3u8'), 'utf8');
    const surround = text.split('\n').filter((l) => l.includes('GROUP-ID="ec3-5.1"'));
    expect(surround).toHaveLength(3);
    expect(surround[0]).toMatch(/NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="6"/);
    expect(surround[1]).toMatch(/LANGUAGE="fr".*CHANNELS="2"/);
    expect(text).not.toMatch(/TYPE=SUBTITLES/);
    const m = HLS.parse(text) as HLS.types.MasterPlaylist;
    const rungs = m.variants.filter((v) => !v.isIFrameOnly);
    expect(rungs.map((v) => `${v.uri} ${(v.codecs ?? '').split(',')[1]} ${v.audio[0]!.groupId}`).sort()).toEqual([
      '144p/stream.m3u8 ec-3 ec3-5.1',
      '144p/stream.m3u8 mp4a.40.2 aac-128k',
      '180p/stream.m3u8 ec-3 ec3-5.1',
      '180p/stream.m3u8 mp4a.40.2 aac-128k',
    ]);
    // The English track in the surround group: E-AC-3 5.1(side), encoded once.
    const uri = /URI="([^"]+)"/.exec(surround[0]!)![1]!;
    const seg = path.join(h.nas, dir, path.dirname(uri), 'seg_00000.ts');
    expect((await probeJson(seg)).streams).toEqual([
      expect.objectContaining({ codec_name: 'eac3', channels: 6, sample_rate: '48000' }),
    ]);
  });
});
