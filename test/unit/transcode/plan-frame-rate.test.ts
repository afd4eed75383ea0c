import { describe, expect, it } from 'vitest';
import { planFrameRate, variableRateNominal } from '../../../src/transcode/plan-frame-rate.js';

const v = (fps: number, baseFps?: number, interlaced = false) => ({
  fps,
  interlaced,
  ...(baseFps !== undefined ? { baseFps } : {}),
});

describe('the output frame rate', () => {
  it('a constant-rate source keeps its rate and gets no fps filter (every such argv unchanged)', () => {
    expect(planFrameRate(v(24000 / 1001, 24000 / 1001), 60)).toEqual({ fps: 24000 / 1001 });
    expect(planFrameRate(v(25), 60)).toEqual({ fps: 25 });
    // 29.97 against 30 is 0.1 %: the same rate written two ways, not a variable one.
    expect(planFrameRate(v(29.97, 30000 / 1001), 60)).toEqual({ fps: 29.97 });
  });

  it('a variable-rate source is pinned at its nominal rate (r_frame_rate), snapped to the standard rate', () => {
    // The measured case: r_frame_rate 60, average 28 fps (ffmpeg wrote 60 fps while the plan counted 28).
    expect(planFrameRate(v(25200 / 899, 60), 60)).toEqual({ fps: 60, fpsFilter: 60 });
    // A phone video: nominal 30, average 29.6.
    expect(planFrameRate(v(29.6, 30), 60)).toEqual({ fps: 30, fpsFilter: 30 });
    // r_frame_rate from odd timestamps: 180000/6007 is 29.97 (0.017 % off), not 30 and not itself.
    expect(variableRateNominal(v(27, 180000 / 6007))).toBe(30000 / 1001);
    expect(variableRateNominal(v(50, 60))).toBe(60);
    expect(variableRateNominal(v(50, 60000 / 1001))).toBe(60000 / 1001);
  });

  it('a variable-rate source above 60 fps is thinned to an integer fraction, pinned', () => {
    expect(planFrameRate(v(90, 120), 60)).toEqual({ fps: 60, fpsFilter: 60 });
    // Constant 120 fps: thinned as before.
    expect(planFrameRate(v(120, 120), 60)).toEqual({ fps: 60, fpsFilter: 60 });
    expect(planFrameRate(v(50, 50), 60)).toEqual({ fps: 50 });
  });

  it('not variable-rate: an interlaced field rate, an absurd or missing r_frame_rate, one below the average', () => {
    expect(variableRateNominal(v(25, 50, true))).toBeUndefined();
    expect(variableRateNominal(v(30, 90000))).toBeUndefined();
    expect(variableRateNominal(v(30))).toBeUndefined();
    expect(variableRateNominal(v(0, 30))).toBeUndefined();
    expect(variableRateNominal(v(30, 24))).toBe(30);
    // Unknown rate, no video: the fallback, no filter.
    expect(planFrameRate(v(0), 60)).toEqual({ fps: 25 });
    expect(planFrameRate(null, 60)).toEqual({ fps: 25 });
  });
});
