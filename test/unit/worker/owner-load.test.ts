import { describe, expect, it } from 'vitest';
import { createOwnerLoadReader, overThresholds } from '../../../src/worker/owner-load.js';

const GiB = 2 ** 30;

/** A host of 2 cores whose busy/idle ms the test advances, with a tree of processes whose CPU ms it sets. */
function fakeHost() {
  const host = {
    busy: 0,
    idle: 0,
    selfMs: 0,
    tree: [] as { pid: number; start: string; cpuMs: number; rss: number }[],
  };
  const reader = createOwnerLoadReader({
    platform: 'linux',
    cpus: () => [{ times: { user: host.busy, nice: 0, sys: 0, idle: host.idle, irq: 0 } }],
    totalmem: () => 16 * GiB,
    freemem: () => 8 * GiB,
    self: () => ({ cpuMs: host.selfMs, rss: GiB }),
    tree: () => host.tree,
  });
  return { host, reader };
}

describe('owner load', () => {
  it("subtracts this process and the ffmpeg tree from the host's CPU and RAM", () => {
    const { host, reader } = fakeHost();
    host.tree = [{ pid: 10, start: 's', cpuMs: 0, rss: 2 * GiB }];
    // RAM: 16 GiB, 8 used, 1 ours (node) + 2 (ffmpeg): 5 GiB of other programs = 31.3%.
    expect(reader(10)).toEqual({ cpuPercent: undefined, ramPercent: 31.3 });
    // 2000 ms of host time: 1500 busy, of which ffmpeg 1000 and node 100: others 400 = 20%.
    host.busy += 1500;
    host.idle += 500;
    host.tree = [{ pid: 10, start: 's', cpuMs: 1000, rss: 2 * GiB }];
    host.selfMs += 100;
    expect(reader(10).cpuPercent).toBe(20);
  });

  it('a child new since the last sample counts whole; a reused pid is a new process', () => {
    const { host, reader } = fakeHost();
    host.tree = [{ pid: 10, start: 'a', cpuMs: 5000, rss: 0 }];
    reader(10);
    host.busy += 1000;
    host.idle += 1000;
    host.tree = [
      { pid: 10, start: 'b', cpuMs: 300, rss: 0 },
      { pid: 11, start: 'c', cpuMs: 200, rss: 0 },
    ];
    expect(reader(10).cpuPercent).toBe(25);
  });

  it('elsewhere than Linux the CPU criterion is off', () => {
    const reader = createOwnerLoadReader({
      platform: 'win32',
      totalmem: () => 100,
      freemem: () => 50,
      self: () => ({ cpuMs: 0, rss: 10 }),
    });
    reader(1);
    expect(reader(1)).toEqual({ ramPercent: 40 });
  });

  it('names the criterion that is over', () => {
    const t = { cpu: 80, ram: 90 };
    expect(overThresholds({ cpuPercent: 81, ramPercent: 10 }, t)).toBe(
      'other programs use 81% of the CPU (busy_cpu_percent 80)',
    );
    expect(overThresholds({ cpuPercent: undefined, ramPercent: 95 }, t)).toMatch(/95% of the RAM/);
    expect(overThresholds({ cpuPercent: 80, ramPercent: 90 }, t)).toBeUndefined();
  });
});
