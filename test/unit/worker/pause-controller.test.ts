import { describe, expect, it } from 'vitest';
import { PauseController } from '../../../src/worker/pause-controller.js';

const OVER = 'other programs use 95% of the CPU';

/** Feeds one sample per second: `true` over the thresholds, `false` under; returns the changes by second. */
function run(c: PauseController, samples: boolean[]): Record<number, string> {
  const changes: Record<number, string> = {};
  samples.forEach((over, s) => {
    const change = c.tick(s * 1000, over ? OVER : undefined);
    if (change) changes[s] = change;
  });
  return changes;
}

describe('PauseController', () => {
  it('pauses once the load stayed over for pause_after, resumes once it stayed under for resume_after', () => {
    const c = new PauseController({ pauseAfterMs: 3000, resumeAfterMs: 2000, onOwnerLoad: true });
    //                  0      1     2     3     4     5      6      7      8
    const changes = run(c, [true, true, true, true, true, false, false, false, false]);
    expect(changes).toEqual({ 3: 'pause', 7: 'resume' });
    expect(c.paused()).toBe(false);
  });

  it('a spike shorter than pause_after never pauses; a lull shorter than resume_after never resumes', () => {
    const c = new PauseController({ pauseAfterMs: 2000, resumeAfterMs: 2000, onOwnerLoad: true });
    expect(run(c, [true, true, false, true, true, false])).toEqual({});
    const d = new PauseController({ pauseAfterMs: 1000, resumeAfterMs: 2000, onOwnerLoad: true });
    expect(run(d, [true, true, false, false, true, false, false, false])).toEqual({ 1: 'pause', 7: 'resume' });
  });

  it('says why and since when while paused', () => {
    const c = new PauseController({ pauseAfterMs: 1000, resumeAfterMs: 1000, onOwnerLoad: true });
    c.tick(0, OVER);
    expect(c.paused()).toBe(false);
    expect(c.tick(1000, OVER)).toBe('pause');
    expect(c.tick(2000, 'other programs use 97% of the RAM')).toBeUndefined();
    expect(c.reason()).toBe('other programs use 97% of the RAM');
    expect(c.since()).toBe(1000);
  });

  it('pause_on_owner_load false: the load never pauses', () => {
    const c = new PauseController({ pauseAfterMs: 0, resumeAfterMs: 0, onOwnerLoad: false });
    expect(run(c, [true, true, true])).toEqual({});
  });

  it('a hold pauses at once and resumes at once, even with pausing on load off', () => {
    let hold: string | undefined;
    const c = new PauseController({
      pauseAfterMs: 10_000,
      resumeAfterMs: 30_000,
      onOwnerLoad: false,
      holdReason: () => hold,
    });
    expect(c.tick(0, undefined)).toBeUndefined();
    hold = 'outside work hours';
    expect(c.tick(1000, OVER)).toBe('pause');
    expect(c.reason()).toBe('outside work hours');
    hold = undefined;
    expect(c.tick(2000, OVER)).toBe('resume');
  });

  it('a hold that ends while the owner still loads the host leaves the job paused for the load', () => {
    let hold: string | undefined = 'outside work hours';
    const c = new PauseController({
      pauseAfterMs: 1000,
      resumeAfterMs: 2000,
      onOwnerLoad: true,
      holdReason: () => hold,
    });
    expect(c.tick(0, OVER)).toBe('pause');
    c.tick(1000, OVER);
    hold = undefined;
    expect(c.tick(2000, OVER)).toBeUndefined();
    expect(c.reason()).toBe(OVER);
    expect(c.since()).toBe(0);
    expect(c.tick(3000, undefined)).toBeUndefined();
    expect(c.tick(5000, undefined)).toBe('resume');
  });
});
