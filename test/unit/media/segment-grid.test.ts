import { describe, expect, it } from 'vitest';
import { alignDown, AUDIO_FRAME_SAMPLES, audioAlignmentStep } from '../../../src/media/segment-grid.js';

describe('audioAlignmentStep', () => {
  it('gives the steps measured for AAC (docs/design/resume-and-split-seams.md)', () => {
    expect(audioAlignmentStep(4)).toBe(2);
    expect(audioAlignmentStep(6)).toBe(4);
    expect(audioAlignmentStep(2)).toBe(4);
    expect(audioAlignmentStep(10)).toBe(4);
    for (const t of [1, 3, 5, 7]) expect(audioAlignmentStep(t)).toBe(8);
  });

  it('makes every multiple a whole number of frames of every codec', () => {
    const frames = [AUDIO_FRAME_SAMPLES.aac, AUDIO_FRAME_SAMPLES.eac3];
    for (const t of [1, 2, 2.5, 4, 6, 6.5, 10, 30]) {
      const g = audioAlignmentStep(t, frames)!;
      for (const f of frames) expect(((g * t * 48000) % f) + 0).toBe(0);
      // and no smaller step works
      for (let s = 1; s < g; s++) expect(frames.every((f) => (s * t * 48000) % f === 0)).toBe(false);
    }
  });

  it('is 1 without audio and null when T is not a whole number of samples', () => {
    expect(audioAlignmentStep(4, [])).toBe(1);
    expect(audioAlignmentStep(4.00001)).toBeNull();
    expect(audioAlignmentStep(0)).toBeNull();
  });
});

describe('alignDown', () => {
  it('rounds down to a multiple of the step', () => {
    expect(alignDown(7, 2)).toBe(6);
    expect(alignDown(8, 4)).toBe(8);
    expect(alignDown(3, 8)).toBe(0);
    expect(alignDown(5, 1)).toBe(5);
  });
});
