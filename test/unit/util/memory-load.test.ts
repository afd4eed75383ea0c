import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryLoadReader } from '../../../src/util/memory-load.js';

const meminfoKb = (key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);

describe('memory load', () => {
  it.runIf(process.platform === 'linux')('is MemTotal and MemAvailable from /proc/meminfo on Linux', async () => {
    const mem = await createMemoryLoadReader('linux')();
    expect(mem.total).toBe(meminfoKb('MemTotal') * 1024);
    // The two reads are not atomic: allow for what other programs allocate in between (64 MiB).
    expect(Math.abs(mem.available - meminfoKb('MemAvailable') * 1024)).toBeLessThan(64 * 1024 * 1024);
    // Not MemFree: the page cache counts as available.
    expect(meminfoKb('MemAvailable')).not.toBe(meminfoKb('MemFree'));
  });

  it('reads through systeminformation on macOS, with the same shape', async () => {
    const mem = await createMemoryLoadReader('darwin')();
    expect(mem.total).toBeGreaterThan(0);
    expect(mem.available).toBeGreaterThan(0);
    expect(mem.available).toBeLessThanOrEqual(mem.total);
  });
});
