/**
 * The range-run maths against the numbers measured in docs/design/resume-and-split-seams.md (the runs there gave
 * the same first PTS as the uninterrupted run, to the tick, with exactly these values).
 */
import { describe, expect, it } from 'vitest';
import {
  audioDropExpr,
  firstFrameAtOrAfter,
  frameRateOf,
  rangeKeyframeExpr,
  rangeTiming,
  secondsArg,
  seekGridSamples,
  type RangeTimingInput,
} from '../../../src/transcode/range-timing.js';

const NTSC = 24000 / 1001;
const ts = (fps: number, over: Partial<RangeTimingInput> = {}): RangeTimingInput => ({
  segmentTime: 4,
  fps,
  segmentType: 'ts',
  audioCodecs: ['aac'],
  hasVideo: true,
  ...over,
});

describe('frame rates', () => {
  it('recognises 1001-rates from their float, integers, and simple fractions', () => {
    expect(frameRateOf(NTSC)).toEqual({ num: 24000, den: 1001 });
    expect(frameRateOf(23.976023976023978)).toEqual({ num: 24000, den: 1001 });
    expect(frameRateOf(30000 / 1001)).toEqual({ num: 30000, den: 1001 });
    expect(frameRateOf(60000 / 1001)).toEqual({ num: 60000, den: 1001 });
    expect(frameRateOf(25)).toEqual({ num: 25, den: 1 });
    expect(frameRateOf(12.5)).toEqual({ num: 25, den: 2 });
    expect(() => frameRateOf(0)).toThrow(/constant frame rate/);
  });

  it('Z: the first frame at or after K*T', () => {
    expect(firstFrameAtOrAfter(28, NTSC)).toBeCloseTo(28.028, 9);
    expect(firstFrameAtOrAfter(24, 25)).toBe(24);
    // 24.024 s is frame 576 exactly at 23.976: no rounding up past it.
    expect(firstFrameAtOrAfter(576 * (1001 / 24000), NTSC)).toBeCloseTo(24.024, 9);
  });
});

describe('the seek grid: whole samples of every source track', () => {
  it('64 ms for 48 kHz and its family, 320 ms for 44.1 kHz and its family or a rate not stated', () => {
    expect(seekGridSamples([])).toBe(3072);
    expect(seekGridSamples([48_000, 96_000, 32_000, 24_000, 16_000, 8_000])).toBe(3072);
    expect(seekGridSamples([44_100])).toBe(15_360);
    expect(seekGridSamples([48_000, 22_050])).toBe(15_360);
    expect(seekGridSamples([undefined])).toBe(15_360);
    // 44.056 kHz (NTSC pull-down audio) needs 8 s; the pre-roll is then longer, the maths the same.
    expect(seekGridSamples([44_056])).toBe(384_000);
    for (const r of [44_100, 22_050, 11_025, 88_200, 176_400, 37_800])
      expect(((15_360 / 48_000) * r) % 1, `${r} Hz`).toBe(0);
  });

  it('a 44.1 kHz track: the seek on the 320 ms grid (whole samples at 44.1 kHz), drop and first_pts from it', () => {
    const t = rangeTiming(ts(NTSC, { audioSourceRates: [44_100] }), { start: 7 });
    // 48 kHz: 27.712 s (the 64 ms grid); 44.1 kHz: the 320 ms grid at or before it.
    expect(secondsArg(t.seek)).toBe('27.52');
    expect((t.seek * 44_100) % 1).toBe(0);
    expect(secondsArg(t.pa)).toBe('0.508');
    expect(t.audioFirstPts).toBe(-24384);
    // n_7 = ceil(28 * 48000 / 1024) = 1313, minus the 1290 packets before the seek.
    expect(t.audio[0]!.drop).toBe(1313 - (27.52 * 48_000) / 1024);
    expect(secondsArg(t.videoOffset)).toBe('29.028');
  });
});

describe('rangeTiming: the measured instances of the design doc', () => {
  // TS offsets: the design doc measured Z + the AAC priming (28.049333 here) against a fresh run the muxer shifted by
  // that priming; fresh runs now start their timeline at TS_TIMELINE_START_SEC (1 s), so every TS offset is Z + 1.
  it('23.976 fps, K=7, T=4, TS: -ss 27.712, Pv 0.316, first_pts -15168, drop 14, offset Z + 1 = 29.028', () => {
    const t = rangeTiming(ts(NTSC), { start: 7 });
    expect(secondsArg(t.seek)).toBe('27.712');
    expect(secondsArg(t.pv)).toBe('0.316');
    expect(t.audioFirstPts).toBe(-15168);
    expect(t.audio[0]!.drop).toBe(14);
    expect(secondsArg(t.videoOffset)).toBe('29.028');
    expect(t.audioOffsets.map(secondsArg)).toEqual(['29.028']);
    expect(rangeKeyframeExpr(4, t.keyShift)).toBe('expr:gte(t,n_forced*4-0.028)');
    expect(audioDropExpr(t.audio[0]!)).toBe('lt(n\\,14)');
  });

  it('25 fps, K=6, T=4, TS: -ss 23.68, Pv 0.32, first_pts -15360, drop 15, offset Z + 1 = 25, keyframes unchanged', () => {
    const t = rangeTiming(ts(25), { start: 6 });
    expect(secondsArg(t.seek)).toBe('23.68');
    expect(secondsArg(t.pv)).toBe('0.32');
    expect(t.audioFirstPts).toBe(-15360);
    expect(t.audio[0]!.drop).toBe(15);
    expect(secondsArg(t.videoOffset)).toBe('25');
    expect(rangeKeyframeExpr(4, t.keyShift)).toBe('expr:gte(t,n_forced*4)');
  });

  it('fMP4: video at Z, audio at Z + its priming', () => {
    const t = rangeTiming(ts(NTSC, { segmentType: 'fmp4' }), { start: 7 });
    expect(secondsArg(t.videoOffset)).toBe('28.028');
    expect(t.audioOffsets.map(secondsArg)).toEqual(['28.049333']);
  });

  it('a part [6, 10) at 23.976: trim end Z_E - S, input -t with post-roll, keep n_KE - n_K packets', () => {
    const t = rangeTiming(ts(NTSC), { start: 6, end: 10 });
    // Z = 24.024, Z_E = 40.04; n_6 = 1125, n_10 = 1875.
    expect(secondsArg(t.z)).toBe('24.024');
    expect(secondsArg(t.seek)).toBe('23.68');
    // Half a frame (1001/48000 s) before Z_E - S = 16.36: the frame the uninterrupted run puts at Z_E stays out.
    expect(secondsArg(t.trimEnd!)).toBe('16.339146');
    expect(secondsArg(t.trimStart!)).toBe('0.323146');
    expect(secondsArg(t.inputDuration!)).toBe('16.56');
    expect(t.audio[0]).toMatchObject({ drop: 15, keep: 750 });
    expect(audioDropExpr(t.audio[0]!)).toBe('lt(n\\,15)+gte(n\\,765)');
  });

  it('part 0 [0, 4): no seek, no trim start, the priming packet kept; TS offsets = the timeline start', () => {
    const t = rangeTiming(ts(25), { start: 0, end: 4 });
    expect(t).toMatchObject({ seek: 0, z: 0, pv: 0, audioFirstPts: 0 });
    expect(t.audio[0]).toMatchObject({ drop: 0, keep: 750 });
    expect(audioDropExpr(t.audio[0]!)).toBe('gte(n\\,750)');
    expect(secondsArg(t.videoOffset)).toBe('1');
    // The audio keeps its priming packet (at -1024 samples, then +1 s: never negative, never shifted).
    expect(t.audioOffsets).toEqual([1]);
    expect(secondsArg(t.trimEnd!)).toBe('15.98');
    expect(t.trimStart).toBeUndefined();
  });

  it('AC-3/E-AC-3 beside AAC: one seek on the 64 ms grid, packets per codec, one TS offset, fMP4 per codec', () => {
    const t = rangeTiming(ts(25, { audioCodecs: ['aac', 'eac3'] }), { start: 6 });
    expect(secondsArg(t.seek)).toBe('23.68');
    // E-AC-3: n_6 = 24*48000/1536 = 750, starting at sample 750*1536 - 256; the seek is 740 frames in.
    expect(t.audio.map((a) => a.drop)).toEqual([15, 10]);
    expect(t.audioOffsets.map(secondsArg)).toEqual(['25', '25']);
    const f = rangeTiming(ts(25, { audioCodecs: ['aac', 'eac3'], segmentType: 'fmp4' }), { start: 6 });
    expect(f.audioOffsets.map(secondsArg)).toEqual(['24.021333', '24.005333']);
  });

  it('without audio: the same TS offset; audio-only: Z = K*T', () => {
    const v = rangeTiming(ts(NTSC, { audioCodecs: [] }), { start: 7 });
    expect(secondsArg(v.videoOffset)).toBe('29.028');
    expect(v.audio).toEqual([]);
    const a = rangeTiming(ts(NTSC, { hasVideo: false }), { start: 7 });
    expect(a.z).toBe(28);
  });

  it("a resume with the audio a segment earlier (K = 7, K' = 6 at 23.976): seek and drop by K', video by K", () => {
    const t = rangeTiming(ts(NTSC), { start: 7, audioStart: 6 });
    const v = rangeTiming(ts(NTSC), { start: 7 });
    const a = rangeTiming(ts(NTSC), { start: 6 });
    // The audio is exactly a run from 6: same seek, shift, drop and offset.
    expect(t.seek).toBe(a.seek);
    expect({ pa: t.pa, first: t.audioFirstPts, drop: t.audio[0]!.drop, off: t.audioOffsets }).toEqual({
      pa: a.pv,
      first: a.audioFirstPts,
      drop: a.audio[0]!.drop,
      off: a.audioOffsets,
    });
    // The video is a run from 7 seen from the earlier seek: same zero, offset and keyframe grid, a longer trim.
    expect({ z: t.z, off: t.videoOffset, key: t.keyShift }).toEqual({ z: v.z, off: v.videoOffset, key: v.keyShift });
    expect(secondsArg(t.pv)).toBe(secondsArg(v.z - a.seek));
    expect(secondsArg(t.trimStart!)).toBe(secondsArg(v.z - a.seek - 0.5 / NTSC));
    expect({ start: t.start, audioStart: t.audioStart }).toEqual({ start: 7, audioStart: 6 });
  });

  it('refuses a range that is not one', () => {
    expect(() => rangeTiming(ts(25), { start: -1 })).toThrow(/>= 0/);
    expect(() => rangeTiming(ts(25), { start: 4, end: 4 })).toThrow(/end after/);
    // The audio never after the video.
    expect(() => rangeTiming(ts(25), { start: 4, audioStart: 5 })).toThrow(/audio/);
    expect(() => rangeTiming(ts(25), { start: 4, audioStart: -2 })).toThrow(/audio/);
  });
});
