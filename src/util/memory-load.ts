/**
 * The host's RAM use, read each sync: total and available bytes (available = what programs can still get without
 * swapping, page cache being reclaimable).
 *
 * On Linux and Windows Node's own os.freemem() is that figure (libuv reads MemAvailable from /proc/meminfo on Linux
 * since 1.45, Node 20 ships 1.46; ullAvailPhys on Windows) and costs a few microseconds. systeminformation's mem(),
 * used before, reports the same `available` there but reads /proc/meminfo through the thread pool on Linux
 * (0.57 ms of CPU a call on the bench machine against 0.03 ms) and on Windows starts PowerShell on every call for the
 * swap figures nobody here reads. On macOS os.freemem() counts only free pages (macOS keeps few, its cache being
 * inactive pages), so there systeminformation's vm_stat reading is kept.
 */
import os from 'node:os';
import { sysinfo } from './sysinfo.js';

export interface MemoryLoad {
  total: number;
  available: number;
}

export type MemoryLoadReader = () => Promise<MemoryLoad>;

export function createMemoryLoadReader(platform: NodeJS.Platform = process.platform): MemoryLoadReader {
  if (platform === 'darwin') {
    const memory = sysinfo.memory();
    return async () => {
      const mem = await memory.mem();
      return { total: mem.total, available: mem.available };
    };
  }
  return () => Promise.resolve({ total: os.totalmem(), available: os.freemem() });
}
