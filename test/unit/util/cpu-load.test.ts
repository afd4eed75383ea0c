import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createCpuLoadSampler } from '../../../src/util/cpu-load.js';

const core = (busy: number, idle: number) => ({ times: { user: busy, nice: 0, sys: 0, idle, irq: 0 } });

describe('createCpuLoadSampler', () => {
  it('reports the busy share of all cores over the window since the previous call', () => {
    const readings = [
      [core(100, 900), core(100, 900)],
      [core(150, 950), core(200, 900)], // core 0: 50 busy of 100; core 1: 100 busy of 100
      [core(150, 1050), core(200, 1000)], // all idle
    ];
    let i = 0;
    const sample = createCpuLoadSampler(() => readings[i++]!);
    expect(sample()).toBeCloseTo(10, 5); // since boot: 200 busy of 2000
    expect(sample()).toBeCloseTo(75, 5);
    expect(sample()).toBe(0);
  });

  it('reports 0, never a negative or NaN figure, when the counters go backwards or stand still', () => {
    const readings = [[core(500, 500)], [core(400, 500)], [core(400, 500)]];
    let i = 0;
    const sample = createCpuLoadSampler(() => readings[i++]!);
    sample();
    expect(sample()).toBe(0);
    expect(sample()).toBe(0);
  });

  it('sees a busy core on this machine, with the real os.cpus()', () => {
    const sample = createCpuLoadSampler();
    sample();
    // Half a second of a busy child: the host's CPU use over that window is clearly above zero.
    spawnSync(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 500);']);
    const load = sample();
    expect(load).toBeGreaterThan(5);
    expect(load).toBeLessThanOrEqual(100);
  });
});
