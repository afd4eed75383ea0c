/**
 * HDR detection when the stream level does not state the colour transfer (ffprobe 9.0 on untagged HEVC MKVs).
 * The host's ffprobe 5.1 always states it, so the situation is built by wrapping the real runner: the main
 * probe's JSON loses its stream-level colour fields, and the real first-frame probe must find them in the
 * bitstream again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import {
  firstFrameProbeArgs,
  needsFirstFrameProbe,
  parseFirstFrameColour,
  withFrameColour,
} from '../../src/transcode/ffprobe-first-frame.js';
import { probeSourceInfo } from '../../src/transcode/ffprobe.js';
import type { VideoStreamInfo } from '../../src/transcode/types.js';
import { FFPROBE, makeSource, makeTempDir, removeDir } from '../helpers/media.js';

const COLOUR_FIELDS = ['color_transfer', 'color_primaries', 'color_space', 'color_range'] as const;

/** The real runner, recording every call; the main probe's streams lose their colour fields, as on ffprobe 9.0. */
function ffprobe9Like(opts: { frameProbe?: 'real' | 'fails' } = {}): { runner: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: CommandRunner = async (cmd, args, o) => {
    calls.push([...args]);
    const isFrameProbe = args.includes('-read_intervals');
    if (isFrameProbe && opts.frameProbe === 'fails')
      return { exitCode: 1, stdout: '', stderr: 'boom', timedOut: false, durationMs: 1 };
    const result = await execaRunner(cmd, args, o);
    if (isFrameProbe || result.exitCode !== 0) return result;
    const json = JSON.parse(result.stdout) as { streams: Array<Record<string, unknown>> };
    for (const s of json.streams) {
      for (const f of COLOUR_FIELDS) delete s[f];
      if (s.codec_type === 'video') s.color_transfer = 'unknown';
    }
    return { ...result, stdout: JSON.stringify(json) };
  };
  return { runner, calls };
}

let dir: string;
let hdr10: string;
beforeAll(async () => {
  dir = await makeTempDir('tw-first-frame-');
  // HDR10 written the way ffmpeg 7+ users do (colour options + x265-params); with audio, so the first packet
  // in the file need not be a video one.
  hdr10 = await makeSource(dir, { name: 'hdr10.mkv', codec: 'libx265', hdr: 'pq', duration: 1 });
});
afterAll(async () => {
  await removeDir(dir);
});

describe('first-frame colour probe on real media (ffprobe 9.0 simulated on the host ffprobe)', () => {
  it('finds PQ in the HEVC bitstream when the stream level says "unknown", with the source protections', async () => {
    const { runner, calls } = ffprobe9Like();
    const { info } = await probeSourceInfo(hdr10, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(info.video).toMatchObject({
      colorTransfer: 'smpte2084',
      colorPrimaries: 'bt2020',
      colorSpace: 'bt2020nc',
      colorRange: 'tv',
      hdr: 'pq',
    });
    expect(calls).toHaveLength(2);
    const frameCall = calls[1]!;
    expect(frameCall).toEqual(firstFrameProbeArgs(hdr10, 'matroska', 0));
    expect(frameCall.join(' ')).toContain('-protocol_whitelist file -f matroska');
    expect(frameCall.at(-1)).toBe(`file:${hdr10}`);
  });

  it('finds HLG the same way', async () => {
    const hlg = await makeSource(dir, { name: 'hlg.mkv', codec: 'libx265', hdr: 'hlg', duration: 1 });
    const { runner } = ffprobe9Like();
    const { info } = await probeSourceInfo(hlg, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(info.video).toMatchObject({ colorTransfer: 'arib-std-b67', hdr: 'hlg' });
  });

  it('an untagged 10-bit SDR H.264 source stays SDR after the frame probe', async () => {
    const sdr = await makeSource(dir, { name: 'sdr10.mkv', tenBit: true, duration: 1 });
    const { runner, calls } = ffprobe9Like();
    const { info } = await probeSourceInfo(sdr, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(calls).toHaveLength(2);
    expect(info.video!.hdr).toBeNull();
  });

  it('an untagged 8-bit source pays no frame probe (the commonest SDR file)', async () => {
    const sdr = await makeSource(dir, { name: 'sdr8.mkv', duration: 1 });
    const { runner, calls } = ffprobe9Like();
    const { info } = await probeSourceInfo(sdr, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(calls).toHaveLength(1);
    expect(info.video!.hdr).toBeNull();
  });

  it('a failing frame probe leaves the stream-level answer and does not fail the job', async () => {
    const { runner, calls } = ffprobe9Like({ frameProbe: 'fails' });
    const { info } = await probeSourceInfo(hdr10, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(calls).toHaveLength(2);
    expect(info.video).toMatchObject({ colorTransfer: 'unknown', hdr: null });
  });

  it('costs nothing when the stream level states the transfer (ffprobe 5.1 and 7.1; 9.0 does not state it)', async () => {
    const calls: string[][] = [];
    let firstStdout = '';
    const runner: CommandRunner = async (cmd, args, o) => {
      calls.push([...args]);
      const result = await execaRunner(cmd, args, o);
      if (calls.length === 1) firstStdout = result.stdout;
      return result;
    };
    const { info } = await probeSourceInfo(hdr10, { ffprobePath: FFPROBE, runner, timeoutMs: 20_000 });
    expect(info.video!.hdr).toBe('pq');
    // The host's ffprobe 5.1 states it; run with TEST_FFPROBE=<ffprobe 9.0> the frame probe is what finds it.
    const stated = /"color_transfer": "smpte2084"/.test(firstStdout);
    expect(calls).toHaveLength(stated ? 1 : 2);
  });
});

describe('first-frame colour, pure parts', () => {
  const video = (o: Partial<VideoStreamInfo>): VideoStreamInfo => ({
    index: 0,
    codec: 'hevc',
    width: 3840,
    height: 2160,
    sarNum: 1,
    sarDen: 1,
    rotation: 0,
    fps: 24,
    pixFmt: 'yuv420p10le',
    bitDepth: 10,
    hdr: null,
    interlaced: false,
    ...o,
  });

  it('asks only for unknown transfers of codecs that can state one in-band', () => {
    expect(needsFirstFrameProbe(video({}))).toBe(true);
    expect(needsFirstFrameProbe(video({ colorTransfer: 'unknown' }))).toBe(true);
    for (const codec of ['h264', 'av1', 'vp9']) expect(needsFirstFrameProbe(video({ codec }))).toBe(true);
    expect(needsFirstFrameProbe(video({ colorTransfer: 'smpte2084' }))).toBe(false);
    expect(needsFirstFrameProbe(video({ colorTransfer: 'bt709' }))).toBe(false);
    expect(needsFirstFrameProbe(video({ codec: 'mpeg2video' }))).toBe(false);
    expect(needsFirstFrameProbe(video({ codec: 'prores' }))).toBe(false);
    expect(needsFirstFrameProbe(video({ codec: 'h264', pixFmt: 'yuv420p', bitDepth: 8 }))).toBe(false);
    expect(needsFirstFrameProbe(video({ pixFmt: 'unknown', bitDepth: 8 }))).toBe(true);
  });

  it('reads the first frame and ignores "unknown" values', () => {
    expect(parseFirstFrameColour({ frames: [] })).toBeUndefined();
    expect(parseFirstFrameColour({})).toBeUndefined();
    expect(parseFirstFrameColour(null)).toBeUndefined();
    expect(
      parseFirstFrameColour({
        frames: [{ color_transfer: 'smpte2084', color_primaries: 'unknown', color_space: 'bt2020nc' }],
      }),
    ).toEqual({ colorTransfer: 'smpte2084', colorPrimaries: undefined, colorSpace: 'bt2020nc', colorRange: undefined });
  });

  it('fills only what the stream left unstated and recomputes hdr', () => {
    const merged = withFrameColour(video({ colorTransfer: 'unknown', colorRange: 'pc' }), {
      colorTransfer: 'smpte2084',
      colorPrimaries: 'bt2020',
      colorRange: 'tv',
    });
    expect(merged).toMatchObject({ colorTransfer: 'smpte2084', colorPrimaries: 'bt2020', colorRange: 'pc', hdr: 'pq' });
    expect(withFrameColour(video({ colorTransfer: 'unknown' }), undefined).hdr).toBeNull();
    expect(withFrameColour(video({ colorTransfer: 'unknown' }), { colorTransfer: 'arib-std-b67' }).hdr).toBe('hlg');
  });
});
