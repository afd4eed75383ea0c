import { createCpuLoadSampler } from '../util/cpu-load.js';
import { createMemoryLoadReader } from '../util/memory-load.js';
import type { HardwareStats } from '../protocol/schemas.js';
import type { Logger } from '../log.js';
import { errorMessage } from '../errors.js';

export interface HostLoad {
  cpuPercent: number;
  ramPercent: number;
}

export type HostLoadReader = () => Promise<HostLoad>;

/**
 * CPU over the interval since the previous call (util/cpu-load.ts: os.cpus() times, no child process), and RAM
 * as used-minus-reclaimable: page cache is not pressure, so "available" is what matters on a NAS-adjacent box.
 */
export function createHostLoadReader(): HostLoadReader {
  const cpuLoad = createCpuLoadSampler();
  const memory = createMemoryLoadReader();
  return async () => {
    const mem = await memory();
    const ramPercent = mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : 0;
    return { cpuPercent: round1(cpuLoad()), ramPercent: round1(ramPercent) };
  };
}

function round1(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.round(n * 10) / 10) : 0;
}

/** BUSY while a job runs, and also while others load the host past the thresholds (a gaming PC is left alone). */
export function toHardwareStats(
  load: HostLoad,
  jobRunning: boolean,
  thresholds: { cpu: number; ram: number },
): HardwareStats {
  const overloaded = load.cpuPercent > thresholds.cpu || load.ramPercent > thresholds.ram;
  return { cpu_percent: load.cpuPercent, ram_percent: load.ramPercent, is_busy: jobRunning || overloaded };
}

export interface HostLoadSamplerDeps {
  read: HostLoadReader;
  now: () => number;
  thresholds: { cpu: number; ram: number };
  log: Logger;
}

/**
 * The host's load as each sync reports it. The CPU figure covers the window since the previous sample, so while a
 * window overlapped a job our own ffmpeg loaded the CPU: that is not "others are using the host", and does not make
 * an idle worker say BUSY. A reader that fails reports zero load (logged at debug): a sync must never wait on it.
 */
export class HostLoadSampler {
  private lastSampleAt = 0;

  constructor(private readonly deps: HostLoadSamplerDeps) {}

  async sample(job: { running: boolean; lastEndedAt: number }): Promise<HardwareStats> {
    const jobDuringWindow = job.running || job.lastEndedAt >= this.lastSampleAt;
    let load: HostLoad = { cpuPercent: 0, ramPercent: 0 };
    try {
      load = await this.deps.read();
    } catch (err) {
      this.deps.log.debug({ err: errorMessage(err) }, 'cannot read host load');
    }
    this.lastSampleAt = this.deps.now();
    const cpuForBusy = jobDuringWindow && !job.running ? 0 : load.cpuPercent;
    const stats = toHardwareStats({ ...load, cpuPercent: cpuForBusy }, job.running, this.deps.thresholds);
    return { ...stats, cpu_percent: load.cpuPercent };
  }
}
