/**
 * probeSource against real ffprobe, on sources generated with lavfi at test time.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError, ToolchainError } from '../../src/errors.js';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import { parseFfprobeJson } from '../../src/transcode/ffprobe.js';
import { probeSource } from '../helpers/probe-source.js';
import { disposition } from '../helpers/plan-fixtures.js';
import {
  FFPROBE,
  makeAudioOnly,
  makeRandomBytes,
  makeSource,
  makeTempDir,
  makeTruncated,
  removeDir,
  runFfmpeg,
} from '../helpers/media.js';

let dir: string;
const probe = (file: string, runner: CommandRunner = execaRunner) =>
  probeSource(file, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });

beforeAll(async () => {
  dir = await makeTempDir('tw-ffprobe-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('probeSource on real media', () => {
  it('reads a 10-bit HEVC HDR10 source with 5.1 audio, a second (default) audio track and subtitles', async () => {
    const file = await makeSource(dir, {
      name: 'hdr10.mkv',
      codec: 'libx265',
      hdr: 'pq',
      audioChannels: 6,
      extraAudio: [2],
      audioLanguages: ['eng', 'fra'],
      defaultAudio: 1,
      subtitles: true,
    });
    const info = await probe(file);
    expect(info.durationSec).toBeGreaterThan(1.9);
    expect(info.durationSec).toBeLessThan(2.5);
    expect(info.formatName).toContain('matroska');
    expect(info.video!).toMatchObject({
      index: 0,
      codec: 'hevc',
      width: 320,
      height: 180,
      sarNum: 1,
      sarDen: 1,
      rotation: 0,
      fps: 25,
      pixFmt: 'yuv420p10le',
      bitDepth: 10,
      colorTransfer: 'smpte2084',
      colorPrimaries: 'bt2020',
      colorSpace: 'bt2020nc',
      hdr: 'pq',
      interlaced: false,
    });
    expect(info.audio).toEqual([
      {
        index: 1,
        codec: 'aac',
        channels: 6,
        channelLayout: '5.1',
        sampleRate: 48_000,
        language: 'eng',
        isDefault: false,
        disposition: disposition(),
      },
      {
        index: 2,
        codec: 'aac',
        channels: 2,
        channelLayout: 'stereo',
        sampleRate: 48_000,
        language: 'fra',
        isDefault: true,
        disposition: disposition({ default: true }),
      },
    ]);
    expect(info.subtitles).toEqual([
      { index: 3, codec: 'subrip', language: undefined, disposition: expect.objectContaining({ forced: false }) },
    ]);
    expect(info.sizeBytes).toBeGreaterThan(0);
  });

  it('reads HLG as HDR', async () => {
    const info = await probe(
      await makeSource(dir, { name: 'hlg.mkv', codec: 'libx265', hdr: 'hlg', audioChannels: 0 }),
    );
    expect(info.video!.hdr).toBe('hlg');
    expect(info.audio).toEqual([]);
  });

  it('reads the rotation of a portrait phone-style video from its display matrix', async () => {
    const info = await probe(await makeSource(dir, { name: 'portrait.mp4', rotate: 90 }));
    expect(info.video!.width).toBe(320);
    expect(info.video!.height).toBe(180);
    expect([90, 270]).toContain(info.video!.rotation);
  });

  it('reads an odd size with non-square pixels', async () => {
    const info = await probe(await makeSource(dir, { name: 'odd.mkv', width: 321, height: 181, sar: '4:3' }));
    expect(info.video!).toMatchObject({ width: 321, height: 181, sarNum: 4, sarDen: 3 });
  });

  it('detects an interlaced MPEG-2 transport stream', async () => {
    const info = await probe(await makeSource(dir, { name: 'interlaced.ts', codec: 'mpeg2video', interlaced: true }));
    expect(info.video!).toMatchObject({ codec: 'mpeg2video', interlaced: true, bitDepth: 8 });
    expect(info.formatName).toBe('mpegts');
    expect(info.audio[0]).toMatchObject({ codec: 'mp2', channels: 2 });
  });
});

describe('probeSource failures are quick and clear', () => {
  it('an audio-only file is an audio-only source (no video stream)', async () => {
    const file = await makeAudioOnly(dir);
    const info = await probe(file);
    expect(info.video).toBeNull();
    expect(info.audio).toEqual([expect.objectContaining({ codec: 'aac', channels: 2, sampleRate: 48_000 })]);
    expect(info.durationSec).toBeCloseTo(2, 0);
  });

  it("states each audio track's sample rate (a range run resamples a 44.1 kHz track before its shift)", async () => {
    const file = await makeSource(dir, { name: 'rate44.mp4', audioRate: 44_100, extraAudio: [2] });
    const info = await probe(file);
    expect(info.audio.map((a) => a.sampleRate)).toEqual([44_100, 44_100]);
  });

  it('random bytes', async () => {
    const file = await makeRandomBytes(dir);
    const started = Date.now();
    const err = await probe(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^cannot read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a media file ffprobe understands \\(.+\\)$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('truncated mp4 (index missing) and truncated mkv (header says longer than the data)', async () => {
    const mp4 = await makeSource(dir, { name: 'whole.mp4', duration: 3 });
    const cutMp4 = await makeTruncated(mp4, path.join(dir, 'cut.mp4'));
    await expect(probe(cutMp4)).rejects.toThrow(`cannot read ${cutMp4}: the file is incomplete`);

    const mkv = await makeSource(dir, { name: 'whole.mkv', duration: 3 });
    await expect(probe(mkv)).resolves.toMatchObject({ durationSec: expect.any(Number) });
    const cutMkv = await makeTruncated(mkv, path.join(dir, 'cut.mkv'));
    await expect(probe(cutMkv)).rejects.toThrow(/cut\.mkv is truncated: its header says 3\.0 s but the video stops at/);
  });

  it('a file whose audio outlasts its video is not mistaken for a truncated one', async () => {
    for (const name of ['long-audio.mkv', 'long-audio.mp4']) {
      const file = path.join(dir, name);
      await runFfmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=1',
        '-f', 'lavfi', '-i', 'sine=duration=4',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', file,
      ]); // prettier-ignore
      const info = await probe(file);
      expect(info.durationSec).toBeGreaterThan(3.5);
    }
  });

  it('missing ffprobe is a toolchain error, not a media error', async () => {
    const file = await makeSource(dir, { name: 'plain.mp4', duration: 1 });
    await expect(
      probeSource(file, { ffprobePath: path.join(dir, 'no-such-ffprobe'), runner: execaRunner }),
    ).rejects.toBeInstanceOf(ToolchainError);
  });

  it('an empty file', async () => {
    const file = path.join(dir, 'empty.mkv');
    await writeFile(file, '');
    await expect(probe(file)).rejects.toThrow(/^cannot read .*empty\.mkv: not a media file ffprobe understands/);
  });
});

describe('parseFfprobeJson (pure)', () => {
  const base = {
    format: { format_name: 'mov,mp4', duration: '12.5', size: '1000', bit_rate: '640' },
    streams: [
      { index: 0, codec_type: 'video', codec_name: 'mjpeg', width: 600, height: 600, disposition: { attached_pic: 1 } },
      {
        index: 1,
        codec_type: 'video',
        codec_name: 'h264',
        width: 1920,
        height: 1080,
        sample_aspect_ratio: '0:1',
        avg_frame_rate: '0/0',
        r_frame_rate: '30000/1001',
        pix_fmt: 'yuv420p10le',
        field_order: 'progressive',
        tags: { rotate: '-90' },
      },
      {
        index: 2,
        codec_type: 'audio',
        codec_name: 'ac3',
        channels: 6,
        tags: { language: 'und' },
        disposition: { default: 0 },
      },
    ],
  };

  it('skips cover art, falls back to r_frame_rate, the rotate tag, the pixel format bit depth', () => {
    const info = parseFfprobeJson(base, '/x.mp4');
    expect(info.video!).toMatchObject({
      index: 1,
      sarNum: 1,
      sarDen: 1,
      rotation: 270,
      bitDepth: 10,
      interlaced: false,
    });
    expect(info.video!.fps).toBeCloseTo(29.97, 2);
    expect(info.audio).toEqual([
      {
        index: 2,
        codec: 'ac3',
        channels: 6,
        channelLayout: undefined,
        language: undefined,
        isDefault: false,
        disposition: disposition(),
      },
    ]);
    expect(info.durationSec).toBe(12.5);
  });

  it('takes the stream duration when the format has none, and refuses a zero duration', () => {
    const noFormatDuration = {
      ...base,
      format: { format_name: 'x' },
      streams: [{ ...base.streams[1], duration: '3.5' }],
    };
    expect(parseFfprobeJson(noFormatDuration, '/x').durationSec).toBe(3.5);
    const zero = { ...base, format: { format_name: 'x', duration: '0' } };
    expect(() => parseFfprobeJson(zero, '/x')).toThrow('/x: the duration is unknown or zero');
  });

  it('refuses Dolby Vision profile 5 (no base layer ffmpeg can show correctly) and accepts profile 8.1 as HDR10', () => {
    const dovi = (profile: number, compat: number) => ({
      side_data_type: 'DOVI configuration record',
      dv_version_major: 1,
      dv_version_minor: 0,
      dv_profile: profile,
      dv_level: 6,
      rpu_present_flag: 1,
      el_present_flag: 0,
      bl_present_flag: 1,
      dv_bl_signal_compatibility_id: compat,
    });
    // As ffprobe shows a streaming service's DV file: HEVC Main 10, no colour tags, the DOVI record.
    const p5 = {
      ...base,
      streams: [{ ...base.streams[1], codec_name: 'hevc', tags: {}, side_data_list: [dovi(5, 0)] }],
    };
    expect(() => parseFfprobeJson(p5, '/film.mkv')).toThrow(
      /^\/film\.mkv: Dolby Vision profile 5 video without an HDR10 or SDR base layer; ffmpeg cannot convert its colours/,
    );
    const p81 = {
      ...base,
      streams: [
        {
          ...base.streams[1],
          codec_name: 'hevc',
          tags: {},
          color_transfer: 'smpte2084',
          color_primaries: 'bt2020',
          side_data_list: [dovi(8, 1)],
        },
      ],
    };
    expect(parseFfprobeJson(p81, '/film.mkv').video!.hdr).toBe('pq');
  });

  it('reads a file whose only video is cover art as audio-only; refuses one with neither video nor audio', () => {
    const art = { ...base, streams: [base.streams[0], base.streams[2]] };
    expect(parseFfprobeJson(art, '/song.mp3').video).toBeNull();
    const none = { ...base, streams: [base.streams[0]] };
    expect(() => parseFfprobeJson(none, '/x.mkv')).toThrow('/x.mkv has neither a video nor an audio stream');
  });
});
