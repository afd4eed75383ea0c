import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/util/pool.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('mapLimit', () => {
  it('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n, i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34]);
    expect(most).toBe(2);
  });

  it('still makes progress with a limit of 0 and handles an empty list', async () => {
    expect(await mapLimit([1, 2], 0, async (n) => n)).toEqual([1, 2]);
    expect(await mapLimit([], 4, async (n) => n)).toEqual([]);
  });

  it('starts nothing after the first failure and settles only when the running calls have ended', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('first');
      await tick();
      await tick();
      finished++;
      if (n === 2) throw new Error('second');
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([1, 2]);
    expect(finished).toBe(1);
  });
});
