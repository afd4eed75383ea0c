import { describe, expect, it } from 'vitest';
import { createHostLoadReader, toHardwareStats } from '../../../src/worker/host-load.js';

describe('hardware stats', () => {
  const t = { cpu: 80, ram: 90 };
  it('is busy while a job runs', () => {
    expect(toHardwareStats({ cpuPercent: 5, ramPercent: 10 }, true, t).is_busy).toBe(true);
  });
  it('is busy when others load the CPU or RAM past the thresholds', () => {
    expect(toHardwareStats({ cpuPercent: 81, ramPercent: 10 }, false, t).is_busy).toBe(true);
    expect(toHardwareStats({ cpuPercent: 10, ramPercent: 91 }, false, t).is_busy).toBe(true);
    expect(toHardwareStats({ cpuPercent: 80, ramPercent: 90 }, false, t)).toEqual({
      cpu_percent: 80,
      ram_percent: 90,
      is_busy: false,
    });
  });
  it('reads real numbers from this host', async () => {
    const read = createHostLoadReader();
    const load = await read();
    expect(load.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(load.cpuPercent).toBeLessThanOrEqual(100);
    expect(load.ramPercent).toBeGreaterThan(0);
    expect(load.ramPercent).toBeLessThan(100);
  });
});
