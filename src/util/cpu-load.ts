/**
 * Host CPU use between two calls, from os.cpus()'s cumulative per-core times: no child process and no file read.
 * systeminformation's currentLoad() spawned `sh -c "cat /proc/stat | grep cpu"` on every sync (measured in the cpu
 * image: 4.6 ms in Node plus 21.8 ms in the shell, and the event loop blocked 20-80 ms by its execSync), the
 * largest share of an idle worker's CPU. os.cpus() costs about 0.2 ms and works the same on Linux, macOS and Windows.
 */
import os from 'node:os';

type CpuTimes = Pick<os.CpuInfo, 'times'>;

/** Busy and total CPU time of all cores, in ms, from os.cpus() entries. */
export function totals(cpus: readonly CpuTimes[]): { busy: number; all: number } {
  let busy = 0;
  let all = 0;
  for (const { times: t } of cpus) {
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    all += sum;
    busy += sum - t.idle;
  }
  return { busy, all };
}

/**
 * A reader of the host's CPU use in percent (0-100, all cores together) over the window since its previous call;
 * the first call covers the time since boot. `cpus` is injectable for tests.
 */
export function createCpuLoadSampler(cpus: () => readonly CpuTimes[] = os.cpus): () => number {
  let previous = totals([]);
  return () => {
    const now = totals(cpus());
    const all = now.all - previous.all;
    const busy = now.busy - previous.busy;
    previous = now;
    // A core that went offline (or a counter that wrapped) can make a window negative: report nothing then.
    if (!(all > 0) || busy < 0) return 0;
    return Math.min(100, (busy / all) * 100);
  };
}
