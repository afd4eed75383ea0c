import { describe, expect, it } from 'vitest';
import {
  alignDown,
  AUDIO_FRAME_SAMPLES,
  audioAlignmentStep,
  partBoundaries,
  segmentCount,
} from '../../../src/media/segment-grid.js';

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

describe('partBoundaries', () => {
  it('cuts a 2-minute film with T=4 into contiguous even-aligned parts that cover it', () => {
    const parts = partBoundaries(120, 4, 4, 2);
    expect(parts[0]!.start).toBe(0);
    expect(parts.at(-1)!.end).toBe(30);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.start).toBe(parts[i - 1]!.end);
    for (const p of parts) {
      expect(p.start % 2).toBe(0);
      expect(p.end).toBeGreaterThan(p.start);
    }
    expect(parts.map((p) => p.end - p.start)).toEqual([8, 8, 8, 6]);
  });

  it('on any segment (step 1, the default): as equal as can be, the larger parts first', () => {
    expect(partBoundaries(120, 4, 4).map((p) => p.end - p.start)).toEqual([8, 8, 7, 7]);
    expect(partBoundaries(120, 4, 4)).toEqual([
      { start: 0, end: 8 },
      { start: 8, end: 16 },
      { start: 16, end: 23 },
      { start: 23, end: 30 },
    ]);
    expect(partBoundaries(10, 4, 5)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
      { start: 2, end: 3 },
    ]);
  });

  it('counts a short last segment and never makes empty parts', () => {
    expect(segmentCount(121, 4)).toBe(31);
    expect(segmentCount(120.0004, 4)).toBe(30);
    // A container 21 ms longer than its picture (AAC priming in Matroska): the tail is the last part's, not a segment.
    expect(segmentCount(16.021, 2)).toBe(8);
    expect(partBoundaries(10, 4, 5, 2)).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 3 },
    ]);
    expect(partBoundaries(3, 4, 3, 2)).toEqual([{ start: 0, end: 1 }]);
  });
});
