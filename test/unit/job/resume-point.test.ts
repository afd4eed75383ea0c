/**
 * Where a resume starts (job/resume.ts resumePoint): the video from the last segment every rendition finished, the
 * audio from the last boundary on its alignment step at or before it.
 */
import { describe, expect, it } from 'vitest';
import { resumePoint } from '../../../src/job/resume.js';

describe('resumePoint', () => {
  it('video from the last finished segment, audio from the aligned one before it', () => {
    expect(resumePoint(17, 2, true)).toEqual({ from: 17, audioFrom: 16 });
    expect(resumePoint(16, 2, true)).toEqual({ from: 16, audioFrom: 16 });
    expect(resumePoint(11, 4, true)).toEqual({ from: 11, audioFrom: 8 });
    // Without audio the step is 1: both at the last finished segment.
    expect(resumePoint(7, 1, true)).toEqual({ from: 7, audioFrom: 7 });
  });

  it('an audio-only ladder starts on the step; nothing is kept off the sample grid', () => {
    expect(resumePoint(17, 2, false)).toEqual({ from: 16, audioFrom: 16 });
    // The audio restarts at 0 (muxed as a fresh run's: test/integration/range-seams.test.ts, part [1, 3)).
    expect(resumePoint(1, 2, true)).toEqual({ from: 1, audioFrom: 0 });
    expect(resumePoint(3, 4, true)).toEqual({ from: 3, audioFrom: 0 });
    expect(resumePoint(1, 2, false)).toEqual({ from: 0, audioFrom: 0 });
    expect(resumePoint(0, 2, true)).toEqual({ from: 0, audioFrom: 0 });
    expect(resumePoint(20, null, true)).toEqual({ from: 0, audioFrom: 0 });
  });
});
