/**
 * Golden argv of range runs (issue 12, args/range.ts) for every hardware family, pinned in __golden__/range-*.argv
 * (update deliberately with `npx vitest run test/unit/transcode/range-args.golden.test.ts -u`). The software TS
 * instance is also checked option by option against the measured reference argv of
 * docs/design/resume-and-split-seams.md; test/integration/range-seams.test.ts runs the software family for real.
 */
import { describe, expect, it } from 'vitest';
import { buildRangeFfmpegArgs, rangeAlignmentStep, rangeProgressSpan } from '../../../src/transcode/args/range.js';
import { planTranscode } from '../../../src/transcode/plan.js';
import type { TranscodePlan } from '../../../src/transcode/types.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

const NTSC = 24000 / 1001;

/** The argv as one line per option (as args.golden.test.ts). */
function pretty(args: string[]): string {
  const lines: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && !/^-\d/.test(a)) lines.push(a);
    else if (lines.length) lines[lines.length - 1] += ` ${a}`;
    else lines.push(a);
  }
  return lines.join('\n');
}

/** The value after the n-th occurrence of an option. */
function valueOf(args: string[], option: string, n = 0): string | undefined {
  const at = args.reduce<number[]>((acc, a, i) => (a === option ? [...acc, i] : acc), [])[n];
  return at === undefined ? undefined : args[at + 1];
}

function softwarePlan(segmentType: 'ts' | 'fmp4' = 'ts', fps = NTSC): TranscodePlan {
  const v = makeValidatedJob(ladderOf(), { segmentTime: 4, segmentType });
  return planTranscode(v, makeSourceInfo({ fps }, [{}], { durationSec: 50 }), makePlanOptions());
}

describe('buildRangeFfmpegArgs', () => {
  it('software, TS, 23.976 fps, resume at K=7: the design doc reference argv, option by option', async () => {
    const args = buildRangeFfmpegArgs(softwarePlan(), { start: 7 });
    const graph = valueOf(args, '-filter_complex')!;
    expect(valueOf(args, '-ss')).toBe('27.712');
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    // Trimmed half a frame before Z (range-timing.ts trimStart), shifted by exactly Pv.
    expect(graph).toMatch(/^\[0:0\]trim=start=0\.295146,setpts=PTS-round\(0\.316\/TB\),split=3/);
    expect(graph).toContain('[0:1]asetpts=PTS-round(0.316/TB),aresample=48000:async=1:first_pts=-15168[a0]');
    expect(valueOf(args, '-force_key_frames:v:0')).toBe('expr:gte(t,n_forced*4-0.028)');
    expect(valueOf(args, '-bsf:a:0')).toBe('noise=drop=lt(n\\,14)');
    // Two hls outputs: the video rungs cut at every keyframe, the audio every T; both from K, both at Z + 1 s.
    expect(args.filter((a) => a === 'hls')).toHaveLength(2);
    expect([valueOf(args, '-hls_time', 0), valueOf(args, '-hls_time', 1)]).toEqual(['0.001', '4']);
    expect([valueOf(args, '-output_ts_offset', 0), valueOf(args, '-output_ts_offset', 1)]).toEqual([
      '29.028',
      '29.028',
    ]);
    expect([valueOf(args, '-start_number', 0), valueOf(args, '-start_number', 1)]).toEqual(['7', '7']);
    expect(valueOf(args, '-hls_playlist_type')).toBe('event');
    expect(valueOf(args, '-var_stream_map', 0)).toBe('v:0,name:v0 v:1,name:v1 v:2,name:v2');
    expect(valueOf(args, '-var_stream_map', 1)).toBe('a:0,name:index_tracks/a0');
    expect(args).not.toContain('-t');
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/range-software-ts-resume.argv');
  });

  it('software, fMP4, AAC + E-AC-3 part [4, 8): one output per rendition, per-codec offsets and drops', async () => {
    const src = makeSourceInfo({ fps: 25 }, [{ index: 1, channels: 6, channelLayout: '5.1(side)' }], {
      durationSec: 60,
    });
    const v = makeValidatedJob(ladderOf().slice(0, 2), {
      segmentTime: 6,
      segmentType: 'fmp4',
      audio: { codec: 'aac', bitrate: 128_000, surround: { codec: 'eac3', bitrate: 384_000 }, languages: [] },
    });
    const plan = planTranscode(v, src, makePlanOptions());
    expect(rangeAlignmentStep(plan)).toBe(4);
    const args = buildRangeFfmpegArgs(plan, { start: 4, end: 8 });
    // A custom init name needs a single-variant output (ffmpeg 5.1 wants %v in it otherwise).
    expect(args.filter((a) => a === 'hls')).toHaveLength(4);
    expect(args.filter((a) => a === 'range_init.mp4')).toHaveLength(4);
    expect(args.filter((a) => a === 'movflags=+frag_discont')).toHaveLength(4);
    // S = 23.68, Z_E = 48: trim to half a frame before 24.32 s after the seek, read 0.2 s more.
    expect(valueOf(args, '-t')).toBe('24.52');
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/range-software-fmp4-part-ac3.argv');
  });

  it('NVIDIA, frames on the GPU: trim/setpts on the CUDA frames before yadif_cuda and scale_cuda (part [2, 4))', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], hwDevice: '0' });
    const v = makeValidatedJob(ladderOf('h264_nvenc'), { segmentTime: 6 });
    const plan = planTranscode(v, makeSourceInfo({ interlaced: true }, [{}], { durationSec: 60 }), opts);
    const args = buildRangeFfmpegArgs(plan, { start: 2, end: 4 });
    expect(valueOf(args, '-filter_complex')).toMatch(/^\[0:0\]trim=start=[\d.]+:end=[\d.]+,setpts=[^,]+,yadif_cuda/);
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/range-nvidia.argv');
  });

  it('Intel QSV resume at K=5, its audio from 4 (the resume point after 5 finished segments)', async () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_qsv'],
      hwaccels: ['qsv'],
      hwDevice: '/dev/dri/renderD129',
    });
    const plan = planTranscode(
      makeValidatedJob(ladderOf('h264_qsv').slice(0, 2)),
      makeSourceInfo({}, [{}], { durationSec: 60 }),
      opts,
    );
    const args = buildRangeFfmpegArgs(plan, { start: 5, audioStart: 4 });
    // The video output continues at 5, the audio output at 4; one seek, before the audio's pre-roll.
    expect(args.flatMap((a, i) => (a === '-start_number' ? [args[i + 1]] : []))).toEqual(['5', '4']);
    expect(args[args.indexOf('-ss') + 1]).toBe('23.68'); // 4 x 6 s, less the audio pre-roll on the 64 ms grid
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/range-qsv.argv');
  });

  it('VAAPI + HDR10 part 0 [0, 2): no seek, trim end only, the TS timeline start as offset', async () => {
    const hdr10 = makeSourceInfo(
      {
        codec: 'hevc',
        width: 3840,
        height: 2160,
        pixFmt: 'yuv420p10le',
        bitDepth: 10,
        hdr: 'pq',
        colorTransfer: 'smpte2084',
      },
      [{}],
      { durationSec: 60 },
    );
    const opts = makePlanOptions({ verified: ['libx264', 'h264_vaapi'], hwaccels: ['vaapi'] });
    const plan = planTranscode(makeValidatedJob(ladderOf('h264_vaapi').slice(0, 2)), hdr10, opts);
    const args = buildRangeFfmpegArgs(plan, { start: 0, end: 2 });
    expect(args).not.toContain('-ss');
    expect(valueOf(args, '-filter_complex')).toMatch(/^\[0:0\]trim=end=11\.98,/);
    expect(valueOf(args, '-output_ts_offset')).toBe('1');
    expect(valueOf(args, '-bsf:a:0')).toBe('noise=drop=gte(n\\,563)');
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/range-vaapi.argv');
  });

  it('a 44.1 kHz track is resampled to 48 kHz before its shift (first_pts counts aresample input samples)', () => {
    const plan = planTranscode(
      makeValidatedJob(ladderOf(), { segmentTime: 4 }),
      makeSourceInfo({ fps: NTSC }, [{ sampleRate: 44_100 }, { index: 2, sampleRate: 48_000 }], { durationSec: 50 }),
      makePlanOptions(),
    );
    const graph = valueOf(buildRangeFfmpegArgs(plan, { start: 7 }), '-filter_complex')!;
    expect(valueOf(buildRangeFfmpegArgs(plan, { start: 7 }), '-ss')).toBe('27.52');
    expect(graph).toContain(
      '[0:1]aresample=48000,asetpts=PTS-round(0.508/TB),aresample=48000:async=1:first_pts=-24384[a0]',
    );
    // The 48 kHz track as before (no first resample), on the same seek.
    expect(graph).toContain('[0:2]asetpts=PTS-round(0.508/TB),aresample=48000:async=1:first_pts=-24384[a1]');
    // A part from the film's start moves nothing: first_pts=0 is 0 at any rate.
    const part0 = valueOf(buildRangeFfmpegArgs(plan, { start: 0, end: 2 }), '-filter_complex')!;
    expect(part0).toContain('[0:1]aresample=48000:async=1:first_pts=0[a0]');
  });

  it("a variable-rate source: the fps filter pins its nominal rate, from the run's zero, after the shift", () => {
    const plan = planTranscode(
      makeValidatedJob(ladderOf(), { segmentTime: 4 }),
      makeSourceInfo({ fps: 25200 / 899, baseFps: 60 }, [{}], { durationSec: 50 }),
      makePlanOptions(),
    );
    expect([plan.fps, plan.frameRateCap, plan.gopFrames]).toEqual([60, 60, 240]);
    const graph = valueOf(buildRangeFfmpegArgs(plan, { start: 7 }), '-filter_complex')!;
    expect(graph).toMatch(/^\[0:0\]trim=start=[0-9.]+,setpts=PTS-round\([0-9.]+\/TB\),fps=60:start_time=0,/);
    // A whole run and a part from the film's start: the plain filter.
    expect(valueOf(buildRangeFfmpegArgs(plan, { start: 0, end: 2 }), '-filter_complex')).toMatch(
      /^\[0:0\]trim=end=[0-9.]+,fps=60,/,
    );
  });

  it('an audio-only ladder has only the audio output, a video-only one only the video output', () => {
    const audioOnly = planTranscode(
      makeValidatedJob(ladderOf()),
      { ...makeSourceInfo({}, [{ index: 0 }], { durationSec: 60 }), video: null },
      makePlanOptions(),
    );
    const a = buildRangeFfmpegArgs(audioOnly, { start: 2 });
    expect(a.filter((x) => x === 'hls')).toHaveLength(1);
    expect(a).not.toContain('0.001');
    expect(valueOf(a, '-filter_complex')).not.toContain('trim');
    const videoOnly = planTranscode(
      makeValidatedJob(ladderOf()),
      makeSourceInfo({}, [], { durationSec: 60 }),
      makePlanOptions(),
    );
    const v = buildRangeFfmpegArgs(videoOnly, { start: 2 });
    expect(v.filter((x) => x === 'hls')).toHaveLength(1);
    expect(valueOf(v, '-hls_time')).toBe('0.001');
    expect(v).not.toContain('-bsf:a:0');
    expect(rangeAlignmentStep(videoOnly)).toBe(1);
  });
});

describe('rangeProgressSpan', () => {
  it('is the part of the film a range covers, clamped to its duration', () => {
    const plan = softwarePlan();
    expect(rangeProgressSpan(plan, { start: 7 })).toEqual({ startSec: 28, endSec: 50 });
    expect(rangeProgressSpan(plan, { start: 2, end: 4 })).toEqual({ startSec: 8, endSec: 16 });
    expect(rangeProgressSpan(plan, { start: 10, end: 14 })).toEqual({ startSec: 40, endSec: 50 });
  });
});
