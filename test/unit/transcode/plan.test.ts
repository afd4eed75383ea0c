import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../src/errors.js';
import { displaySize, fitRendition } from '../../../src/transcode/plan-geometry.js';
import { planTranscode, softwareEquivalent } from '../../../src/transcode/plan.js';
import { buildFfmpegArgs, buildFilterGraph } from '../../../src/transcode/args/index.js';
import { CODEC_LIMITS } from '../../../src/media/codec-levels.js';
import {
  ladderOf,
  makePlanOptions,
  makeSourceInfo,
  makeValidatedJob,
  STAGING,
  subtitleStream,
  type OutputSpec,
} from '../../helpers/plan-fixtures.js';

const sizes = (p: ReturnType<typeof planTranscode>) => p.renditions.map((r) => `${r.width}x${r.height}`);
const encoders = (p: ReturnType<typeof planTranscode>) => p.renditions.map((r) => r.encoder);

describe('planTranscode: geometry', () => {
  it('makes a 16:9 ladder from a 1080p source', () => {
    const p = planTranscode(makeValidatedJob(ladderOf()), makeSourceInfo(), makePlanOptions());
    expect(sizes(p)).toEqual(['1920x1080', '1280x720', '854x480']);
    expect(p.renditions.map((r) => r.clamped)).toEqual([false, false, false]);
  });

  it('never upscales: a taller rung is clamped to the source and both same-size rungs are kept', () => {
    const outs: OutputSpec[] = [
      { res: '2160p', dest: 'p/m/2160p' },
      { res: '1080p', dest: 'p/m/1080p' },
      { res: '480p', dest: 'p/m/480p' },
    ];
    const p = planTranscode(makeValidatedJob(outs), makeSourceInfo({ width: 1280, height: 720 }), makePlanOptions());
    expect(sizes(p)).toEqual(['1280x720', '1280x720', '854x480']);
    expect(p.renditions.map((r) => r.clamped)).toEqual([true, true, false]);
    expect(p.renditions.map((r) => r.destPath)).toEqual(['p/m/2160p', 'p/m/1080p', 'p/m/480p']);
    // Labels stay unique for logs even when sizes collapse.
    expect(p.renditions.map((r) => r.name)).toEqual(['720p', '720p-2', '480p']);
  });

  it('keeps portrait phone videos portrait (rotation 90 and 270): "720p" is the short side', () => {
    for (const rotation of [90, 270]) {
      const p = planTranscode(
        makeValidatedJob([
          { res: '1080p', dest: 'p/m/1080p' },
          { res: '720p', dest: 'p/m/720p' },
        ]),
        makeSourceInfo({ width: 1920, height: 1080, rotation }),
        makePlanOptions(),
      );
      expect(sizes(p)).toEqual(['1080x1920', '720x1280']);
    }
    const upsideDown = planTranscode(
      makeValidatedJob([{ res: '720p', dest: 'p/m/720p' }]),
      makeSourceInfo({ rotation: 180 }),
      makePlanOptions(),
    );
    expect(sizes(upsideDown)).toEqual(['1280x720']);
  });

  it('applies a non-square SAR on an odd-sized source: even sides, display aspect kept, no upscale', () => {
    // 321x181 stored, 4:3 pixels: displayed as 428x181 (DAR 2.365).
    const source = makeSourceInfo({ width: 321, height: 181, sarNum: 4, sarDen: 3 });
    expect(displaySize(source.video!)).toEqual({ width: 428, height: 181 });
    const p = planTranscode(
      makeValidatedJob([
        { res: '720p', dest: 'p/m/720p' },
        { res: '200x200', dest: 'p/m/box' },
      ]),
      source,
      makePlanOptions(),
    );
    expect(sizes(p)).toEqual(['426x180', '200x84']);
    for (const r of p.renditions) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
      expect(Math.abs(r.width / r.height - 428 / 181)).toBeLessThan(0.03);
    }
  });

  it('fits WxH requests inside the box keeping the display aspect ratio', () => {
    const display = { width: 1920, height: 1080 };
    expect(fitRendition({ kind: 'size', width: 1280, height: 720 }, display)).toMatchObject({
      width: 1280,
      height: 720,
    });
    expect(fitRendition({ kind: 'size', width: 1000, height: 1000 }, display)).toMatchObject({
      width: 1000,
      height: 562,
    });
    expect(fitRendition({ kind: 'size', width: 4000, height: 4000 }, display)).toMatchObject({
      width: 1920,
      height: 1080,
      clamped: true,
    });
    // A portrait source in a landscape box stays portrait, letterbox-free.
    expect(fitRendition({ kind: 'size', width: 1280, height: 720 }, { width: 1080, height: 1920 })).toMatchObject({
      width: 406,
      height: 720,
    });
  });
});

describe('planTranscode: keyframes, colour, audio', () => {
  it('sets one GOP per segment from the frame rate', () => {
    const v = makeValidatedJob(ladderOf(), { segmentTime: 4 });
    expect(planTranscode(v, makeSourceInfo({ fps: 30000 / 1001 }), makePlanOptions()).gopFrames).toBe(120);
    expect(planTranscode(v, makeSourceInfo({ fps: 25 }), makePlanOptions()).gopFrames).toBe(100);
    // Unknown frame rate: a sane default instead of a GOP of 0.
    const unknown = planTranscode(v, makeSourceInfo({ fps: 0 }), makePlanOptions());
    expect(unknown.fps).toBe(25);
    expect(unknown.gopFrames).toBe(100);
  });

  it('tone maps PQ and HLG sources to 8-bit SDR, and not SDR ones', () => {
    const v = makeValidatedJob(ladderOf());
    const hdr10 = makeSourceInfo({
      codec: 'hevc',
      pixFmt: 'yuv420p10le',
      bitDepth: 10,
      hdr: 'pq',
      colorTransfer: 'smpte2084',
    });
    expect(planTranscode(v, hdr10, makePlanOptions()).toneMap).toBe(true);
    expect(planTranscode(v, makeSourceInfo({ hdr: 'hlg', bitDepth: 10 }), makePlanOptions()).toneMap).toBe(true);
    expect(planTranscode(v, makeSourceInfo({ bitDepth: 10, pixFmt: 'yuv420p10le' }), makePlanOptions()).toneMap).toBe(
      false,
    );
  });

  it('deinterlaces interlaced sources', () => {
    const v = makeValidatedJob(ladderOf());
    expect(planTranscode(v, makeSourceInfo({ interlaced: true }), makePlanOptions()).deinterlace).toBe(true);
    expect(planTranscode(v, makeSourceInfo(), makePlanOptions()).deinterlace).toBe(false);
  });

  it('keeps every audio track once, in one AAC stereo group per distinct output bitrate', () => {
    const v = makeValidatedJob([
      { res: '720p', dest: 'p/m/720p', audioBitrate: 96_000 },
      { res: '480p', dest: 'p/m/480p' },
    ]);
    const surround = makeSourceInfo({}, [
      { index: 1, channels: 6, isDefault: false, language: 'eng' },
      { index: 2, channels: 2, isDefault: true, language: 'fra' },
    ]);
    const p = planTranscode(v, surround, makePlanOptions());
    expect(p.tracksDir).toBe('index_tracks');
    expect(p.audioGroups.map((g) => [g.id, g.codec, g.channels, g.bitrate])).toEqual([
      ['aac-96k', 'aac', 2, 96_000],
      ['aac-128k', 'aac', 2, 128_000],
    ]);
    expect(p.renditions.map((r) => r.audioGroupId)).toEqual(['aac-96k', 'aac-128k']);
    const [low, high] = p.audioGroups;
    expect(high!.renditions.map((a) => [a.dir, a.streamIndex, a.sourceChannels, a.channels, a.label.language])).toEqual(
      [
        ['index_tracks/a2', 1, 6, 2, 'en'],
        ['index_tracks/a3', 2, 2, 2, 'fr'],
      ],
    );
    expect(low!.renditions.map((a) => a.dir)).toEqual(['index_tracks/a0', 'index_tracks/a1']);
    // The source's default track is the default rendition.
    expect(high!.renditions.map((a) => a.label.isDefault)).toEqual([false, true]);
  });

  it('adds a surround group (same tracks, 5.1 where the source has it) only when the job asks', () => {
    const source = makeSourceInfo({}, [
      { index: 1, channels: 6, language: 'eng', channelLayout: '5.1(side)' },
      { index: 2, channels: 2, language: 'fre' },
    ]);
    const plain = planTranscode(makeValidatedJob(ladderOf()), source, makePlanOptions());
    expect(plain.audioGroups.map((g) => g.id)).toEqual(['aac-128k']);
    const v = makeValidatedJob(ladderOf(), {
      audio: { codec: 'aac', bitrate: 128_000, surround: { codec: 'eac3', bitrate: 384_000 }, languages: [] },
    });
    const p = planTranscode(v, source, makePlanOptions());
    expect(p.audioGroups.map((g) => g.id)).toEqual(['aac-128k', 'ec3-5.1']);
    expect(p.audioGroups[1]!.renditions.map((a) => [a.codec, a.channels, a.bitrate])).toEqual([
      ['eac3', 6, 384_000],
      ['eac3', 2, 192_000],
    ]);
    // A stereo-only source gets no surround group.
    const stereo = planTranscode(v, makeSourceInfo(), makePlanOptions());
    expect(stereo.audioGroups.map((g) => g.id)).toEqual(['aac-128k']);
  });

  it('keeps only the languages asked for, but never drops every track', () => {
    const source = makeSourceInfo({}, [
      { index: 1, language: 'eng' },
      { index: 2, language: 'fre' },
      { index: 3, language: 'ger' },
    ]);
    const only = (languages: string[]) =>
      planTranscode(
        makeValidatedJob(ladderOf(), { audio: { codec: 'aac', bitrate: 128_000, surround: null, languages } }),
        source,
        makePlanOptions(),
      ).audioGroups[0]!.renditions.map((a) => a.streamIndex);
    expect(only(['fr', 'de'])).toEqual([2, 3]);
    expect(only(['ja'])).toEqual([1, 2, 3]);
  });

  it('plans no audio (not a failure) for a silent source', () => {
    const p = planTranscode(makeValidatedJob(ladderOf()), makeSourceInfo({}, []), makePlanOptions());
    expect(p.audioGroups).toEqual([]);
    expect(p.renditions.every((r) => r.audioGroupId === undefined)).toBe(true);
  });
});

describe('planTranscode: encoders', () => {
  it('maps hardware encoders to their software equivalent', () => {
    expect(softwareEquivalent('h264_nvenc')).toBe('libx264');
    expect(softwareEquivalent('hevc_vaapi')).toBe('libx265');
    expect(softwareEquivalent('hevc_v4l2m2m')).toBe('libx265');
    expect(softwareEquivalent('libx265')).toBe('libx265');
  });

  it('uses a verified hardware encoder, and falls back to software when it is not verified', () => {
    const v = makeValidatedJob(ladderOf('h264_nvenc'));
    const gpu = planTranscode(v, makeSourceInfo(), makePlanOptions({ verified: ['libx264', 'h264_nvenc'] }));
    expect(encoders(gpu)).toEqual(['h264_nvenc', 'h264_nvenc', 'h264_nvenc']);
    expect(gpu.renditions.every((r) => r.family === 'nvidia' && r.requestedEncoder === 'h264_nvenc')).toBe(true);

    const cpu = planTranscode(v, makeSourceInfo(), makePlanOptions());
    expect(encoders(cpu)).toEqual(['libx264', 'libx264', 'libx264']);
    expect(cpu.renditions.every((r) => r.family === 'software' && r.requestedEncoder === 'h264_nvenc')).toBe(true);
    expect(cpu.hwDecode).toBeNull();
  });

  it('fails with a clear message when fallback is off', () => {
    const v = makeValidatedJob(ladderOf('hevc_qsv'));
    expect(() => planTranscode(v, makeSourceInfo(), makePlanOptions({ allowSoftwareFallback: false }))).toThrow(
      new JobValidationError(
        'encoder hevc_qsv is not available on this worker (it did not pass a test encode on this worker) and allow_software_fallback is off',
      ),
    );
  });

  it('honours hwaccel=none and hwaccel=<other family>', () => {
    const v = makeValidatedJob(ladderOf('h264_vaapi'));
    const verified = ['libx264', 'h264_vaapi'];
    expect(encoders(planTranscode(v, makeSourceInfo(), makePlanOptions({ verified, hwaccelMode: 'none' })))).toEqual([
      'libx264',
      'libx264',
      'libx264',
    ]);
    expect(() =>
      planTranscode(
        v,
        makeSourceInfo(),
        makePlanOptions({ verified, hwaccelMode: 'nvenc', allowSoftwareFallback: false }),
      ),
    ).toThrow(/hwaccel is set to "nvenc"/);
    expect(
      encoders(planTranscode(v, makeSourceInfo(), makePlanOptions({ verified, hwaccelMode: 'vaapi' }))).at(0),
    ).toBe('h264_vaapi');
  });

  it('never opens more hardware sessions than declared: the smallest rungs move to software', () => {
    const v = makeValidatedJob(ladderOf('h264_nvenc'));
    const p = planTranscode(
      v,
      makeSourceInfo(),
      makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], maxSessions: 2 }),
    );
    expect(encoders(p)).toEqual(['h264_nvenc', 'h264_nvenc', 'libx264']);
    // NVDEC still decodes once for the whole ladder; the libx264 rung gets its frames downloaded after scale_cuda.
    expect(p.hwDecode).toEqual({ kind: 'cuda', device: undefined, framesOnDevice: true });
    // Without a verified cuda hwaccel the mixed ladder decodes on the CPU.
    const cpu = planTranscode(
      v,
      makeSourceInfo(),
      makePlanOptions({ verified: ['libx264', 'h264_nvenc'], maxSessions: 2 }),
    );
    expect(cpu.hwDecode).toBeNull();
    expect(() =>
      planTranscode(
        v,
        makeSourceInfo(),
        makePlanOptions({ verified: ['libx264', 'h264_nvenc'], maxSessions: 1, allowSoftwareFallback: false }),
      ),
    ).toThrow(/allows 1 concurrent encoder session/);
  });

  it('a GPU without NVENC still decodes with NVDEC for a software ladder, unless hwaccel says otherwise', () => {
    const v = makeValidatedJob(ladderOf('h264_nvenc'));
    const opts = { verified: ['libx264'], hwaccels: ['cuda'] };
    const p = planTranscode(v, makeSourceInfo(), makePlanOptions(opts));
    expect(encoders(p)).toEqual(['libx264', 'libx264', 'libx264']);
    expect(p.hwDecode).toEqual({ kind: 'cuda', device: undefined, framesOnDevice: true });
    // HDR needs the CPU tone map on full-size frames: downloading them gained nothing when measured, so the CPU decodes.
    const hdrSource = makeSourceInfo({ hdr: 'pq', pixFmt: 'yuv420p10le', bitDepth: 10 });
    expect(planTranscode(v, hdrSource, makePlanOptions(opts)).hwDecode).toBeNull();
    // With NVENC rungs in the ladder, NVDEC still decodes an HDR source (frames downloaded for the tone map).
    const nvenc = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], maxSessions: 2 });
    expect(planTranscode(v, hdrSource, nvenc).hwDecode).toEqual({
      kind: 'cuda',
      device: undefined,
      framesOnDevice: false,
    });
    for (const hwaccelMode of ['none', 'vaapi', 'qsv', 'v4l2m2m'] as const) {
      expect(planTranscode(v, makeSourceInfo(), makePlanOptions({ ...opts, hwaccelMode })).hwDecode).toBeNull();
    }
    // A vaapi hwaccel alone does not turn a software ladder into a GPU decode (no proven download path there).
    expect(
      planTranscode(v, makeSourceInfo(), makePlanOptions({ verified: ['libx264'], hwaccels: ['vaapi'] })).hwDecode,
    ).toBeNull();
  });

  it('fails when even the software encoder is missing', () => {
    const v = makeValidatedJob(ladderOf('libx265'));
    expect(() => planTranscode(v, makeSourceInfo(), makePlanOptions({ verified: ['libx264'] }))).toThrow(
      'encoder libx265 is not available on this worker',
    );
  });
});

describe('planTranscode: hardware decode', () => {
  const nv = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], hwDevice: '0' });

  it('decodes on the GPU with frames on the device when the whole ladder is on one family', () => {
    const p = planTranscode(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo(), nv);
    expect(p.hwDecode).toEqual({ kind: 'cuda', device: '0', framesOnDevice: true });
  });

  it('downloads frames for CPU tone mapping or rotation, and skips GPU decode without the hwaccel', () => {
    const hdr = makeSourceInfo({ codec: 'hevc', pixFmt: 'yuv420p10le', hdr: 'pq', bitDepth: 10 });
    expect(planTranscode(makeValidatedJob(ladderOf('h264_nvenc')), hdr, nv).hwDecode).toEqual({
      kind: 'cuda',
      device: '0',
      framesOnDevice: false,
    });
    expect(
      planTranscode(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo({ rotation: 90 }), nv).hwDecode
        ?.framesOnDevice,
    ).toBe(false);
    const noCuda = planTranscode(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo(), { ...nv, hwaccels: [] });
    expect(noCuda.hwDecode).toBeNull();
  });

  it('keeps VAAPI PQ sources on the device (tonemap_vaapi) but not HLG ones', () => {
    const va = makePlanOptions({ verified: ['libx264', 'h264_vaapi'], hwaccels: ['vaapi'] });
    const pq = makeSourceInfo({ codec: 'hevc', pixFmt: 'yuv420p10le', hdr: 'pq', bitDepth: 10 });
    const hlg = makeSourceInfo({ codec: 'hevc', pixFmt: 'yuv420p10le', hdr: 'hlg', bitDepth: 10 });
    expect(planTranscode(makeValidatedJob(ladderOf('h264_vaapi')), pq, va).hwDecode?.framesOnDevice).toBe(true);
    expect(planTranscode(makeValidatedJob(ladderOf('h264_vaapi')), hlg, va).hwDecode?.framesOnDevice).toBe(false);
  });

  it('does not decode exotic codecs or chroma formats on the GPU', () => {
    const v = makeValidatedJob(ladderOf('h264_nvenc'));
    expect(planTranscode(v, makeSourceInfo({ codec: 'prores', pixFmt: 'yuv422p10le' }), nv).hwDecode).toBeNull();
  });
});

describe('planTranscode: layout', () => {
  it('names media playlists so they never collide with the master, and gives renditions synthetic staging folders', () => {
    const single = planTranscode(
      makeValidatedJob([{ res: '720p', dest: 'processed/x/720p' }]),
      makeSourceInfo(),
      makePlanOptions(),
    );
    expect(single.masterDir).toBe('processed/x/720p');
    expect(single.manifestUrl).toBe('/processed/x/720p/index.m3u8');
    expect(single.renditions[0]).toMatchObject({ variantDir: '.', playlistName: 'stream.m3u8' });

    const clash = planTranscode(
      makeValidatedJob([{ res: '720p', dest: 'processed/x/720p' }], { masterPlaylistName: 'stream.m3u8' }),
      makeSourceInfo(),
      makePlanOptions(),
    );
    expect(clash.renditions[0]!.playlistName).toBe('media.m3u8');

    const nested = planTranscode(
      makeValidatedJob([
        { res: '720p', dest: 'processed/x/hd/720p' },
        { res: '480p', dest: 'processed/x/sd' },
      ]),
      makeSourceInfo(),
      makePlanOptions(),
    );
    expect(nested.masterDir).toBe('processed/x');
    // Staging folders are synthetic (ffmpeg's var_stream_map and %v patterns carry them); destPath keeps the real one.
    expect(nested.renditions.map((r) => r.variantDir)).toEqual(['v0', 'v1']);
    expect(nested.renditions.map((r) => r.destPath)).toEqual(['processed/x/hd/720p', 'processed/x/sd']);

    const named = planTranscode(
      makeValidatedJob([
        { res: '720p', dest: 'processed/The Matrix (1999), 100%/720p' },
        { res: '480p', dest: 'processed/The Matrix (1999), 100%/480p' },
      ]),
      makeSourceInfo(),
      makePlanOptions(),
    );
    expect(named.renditions.map((r) => r.variantDir)).toEqual(['v0', 'v1']);
    expect(named.masterDir).toBe('processed/The Matrix (1999), 100%');
  });

  it('sets VBV limits from the bitrate and resolves the "auto" preset', () => {
    const p = planTranscode(
      makeValidatedJob(ladderOf()),
      makeSourceInfo(),
      makePlanOptions({ softwarePreset: 'auto' }),
    );
    expect(p.renditions[1]).toMatchObject({ videoBitrate: 2_500_000, maxRate: 3_000_000, bufSize: 5_000_000 });
    expect(p.softwarePreset).toBe('fast');
  });
});

describe('planTranscode: QSV decode', () => {
  it('decodes on QSV only when frames can stay on the device', () => {
    const qsv = makePlanOptions({ verified: ['libx264', 'h264_qsv'], hwaccels: ['qsv'] });
    const v = makeValidatedJob(ladderOf('h264_qsv'));
    expect(planTranscode(v, makeSourceInfo(), qsv).hwDecode).toEqual({
      kind: 'qsv',
      device: undefined,
      framesOnDevice: true,
    });
    expect(planTranscode(v, makeSourceInfo({ hdr: 'pq', pixFmt: 'yuv420p10le' }), qsv).hwDecode).toBeNull();
    expect(planTranscode(v, makeSourceInfo({ rotation: 270 }), qsv).hwDecode).toBeNull();
  });
});

describe('planTranscode: what Apple players take', () => {
  const uhd = makeSourceInfo({ width: 3840, height: 2160, fps: 24 });
  const rung4k = (codec: string) => makeValidatedJob([{ res: '2160p', dest: 'p/m/2160p', codec, bitrate: 20_000_000 }]);

  it('refuses, before encoding, a rung no encoder setting can fit in the level limits; hls_codec_limits relaxes it', () => {
    expect(() => planTranscode(rung4k('libx264'), uhd, makePlanOptions())).toThrow(JobValidationError);
    expect(() => planTranscode(rung4k('libx264'), uhd, makePlanOptions())).toThrow(
      /outputs\[0\] \(p\/m\/2160p, libx264\): H\.264 3840x2160@24 .*needs level 5\.1.*High@4\.2.*hls_codec_limits/,
    );
    // HEVC 2160p24 fits Main10@5.0.
    expect(planTranscode(rung4k('libx265'), uhd, makePlanOptions()).renditions).toHaveLength(1);
    const current = makePlanOptions({ codecLimits: CODEC_LIMITS.current });
    expect(planTranscode(rung4k('libx264'), uhd, current).renditions[0]!.encoder).toBe('libx264');
  });

  it('thins a 120 fps source to 60 fps (Apple players take at most 60) with an fps filter, GOPs at the new rate', () => {
    const v = makeValidatedJob([{ res: '720p', dest: 'p/m/720p' }], { segmentTime: 2 });
    const p = planTranscode(v, makeSourceInfo({ fps: 119.88 }), makePlanOptions());
    expect(p.fps).toBeCloseTo(59.94, 2);
    expect(p.frameRateCap).toBeCloseTo(59.94, 2);
    expect(p.gopFrames).toBe(120);
    expect(buildFilterGraph(p)).toMatch(/^\[0:0\]fps=59\.94,/);
    expect(planTranscode(v, makeSourceInfo({ fps: 50 }), makePlanOptions()).frameRateCap).toBeUndefined();
  });

  it('plans an audio-only source as audio renditions alone; its subtitles are reported, not kept', () => {
    const source = { ...makeSourceInfo({}, [{ index: 0, language: 'eng' }]), video: null };
    source.subtitles = [subtitleStream({ index: 1, language: 'eng' })];
    const p = planTranscode(makeValidatedJob(ladderOf()), source, makePlanOptions());
    expect(p.renditions).toEqual([]);
    expect(p.hwDecode).toBeNull();
    expect(p.audioGroups[0]!.renditions.map((a) => a.streamIndex)).toEqual([0]);
    expect(p.subtitles).toEqual([]);
    expect(p.skippedSubtitles).toEqual([
      expect.objectContaining({ index: 1, reason: expect.stringMatching(/audio-only/) }),
    ]);
    const args = buildFfmpegArgs(p);
    expect(args[args.indexOf('-filter_complex') + 1]).toBe('[0:0]aresample=48000:async=1:first_pts=0[a0]');
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('a:0,name:index_tracks/a0');
  });

  it('writes the whole WebVTT tracks into staging, or into subtitleWorkDir (a stitch: local, not on the NAS)', () => {
    const source = makeSourceInfo();
    source.subtitles = [subtitleStream({ index: 2, language: 'eng' })];
    const v = makeValidatedJob(ladderOf());
    expect(planTranscode(v, source, makePlanOptions()).subtitles[0]!.fullVttPath).toBe(
      path.join(STAGING, '.subtitles', 's0.vtt'),
    );
    const local = planTranscode(v, source, makePlanOptions({ subtitleWorkDir: '/tmp/tw/jobs/x/.subtitles' }));
    expect(local.subtitles[0]!.fullVttPath).toBe(path.join('/tmp/tw/jobs/x/.subtitles', 's0.vtt'));
  });
});

describe('planTranscode: segment type', () => {
  it('writes a ladder with an HEVC rung as fMP4 even when segment_type asked for MPEG-TS (no HEVC in TS)', () => {
    const mixed = makeValidatedJob(
      [
        { res: '1080p', dest: 'p/m/1080p', codec: 'libx265' },
        { res: '720p', dest: 'p/m/720p', codec: 'libx264' },
      ],
      { segmentType: 'ts' },
    );
    expect(planTranscode(mixed, makeSourceInfo(), makePlanOptions()).segmentType).toBe('fmp4');
    const h264 = makeValidatedJob(ladderOf(), { segmentType: 'ts' });
    expect(planTranscode(h264, makeSourceInfo(), makePlanOptions()).segmentType).toBe('ts');
  });
});
