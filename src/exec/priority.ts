/**
 * The CPU and I/O priority of the programs a job runs (ffmpeg, ffprobe), so the owner of the host keeps most of
 * its speed while a job runs (issue 13, docs/good-guest.md).
 *
 * CPU: os.setPriority, which needs no native add-on and works on both families: Linux/macOS nice values, Windows
 * priority classes (PRIORITY_BELOW_NORMAL is BELOW_NORMAL_PRIORITY_CLASS, PRIORITY_LOW is IDLE_PRIORITY_CLASS).
 * It is set right after spawn, from the parent: Node cannot set it between fork and exec. The race is harmless in
 * practice (ffmpeg spends milliseconds loading its libraries before it starts any thread, and measured here every
 * thread of a libx264 encode had nice 10), but on Linux nice is per thread, so one more pass over
 * /proc/<pid>/task a moment later catches a thread made before the first call. Children inherit both priorities
 * (Windows: a BELOW_NORMAL or IDLE parent's children get its class).
 *
 * I/O (Linux only): ioprio_set has no Node API, so util-linux's `ionice -p` is run (best-effort level 7 for low,
 * the idle class for idle). Whether it exists is checked once; without it I/O priority is skipped and that is
 * logged once at debug. It only matters with the BFQ (or CFQ) I/O scheduler; others ignore it.
 */
import os from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';

export type ProcessPriority = 'low' | 'normal' | 'idle';

export const PROCESS_PRIORITIES: readonly ProcessPriority[] = ['low', 'normal', 'idle'];

/** The os.setPriority value of each level: nice 0/10/19 on POSIX, NORMAL/BELOW_NORMAL/IDLE classes on Windows. */
export function cpuPriorityValue(priority: ProcessPriority): number {
  const p = os.constants.priority;
  return priority === 'idle' ? p.PRIORITY_LOW : priority === 'low' ? p.PRIORITY_BELOW_NORMAL : p.PRIORITY_NORMAL;
}

/** `ionice` arguments for a level (Linux): best-effort 7 for low, the idle class for idle, none for normal. */
export function ioniceArgs(priority: ProcessPriority, pids: readonly number[]): string[] | undefined {
  if (priority === 'normal' || pids.length === 0) return undefined;
  const cls = priority === 'idle' ? ['-c', '3'] : ['-c', '2', '-n', '7'];
  return [...cls, '-p', ...pids.map(String)];
}

export interface PriorityLog {
  debug(obj: object, msg: string): void;
}

export interface PrioritySetter {
  /** Lowers a just-started process (and, on Linux, a moment later every thread it made). Never throws. */
  apply(pid: number, priority: ProcessPriority): void;
  /** Sets a process to the os.setPriority value at once (the pause's idle class on Windows). Never throws. */
  setCpu(pid: number, value: number): boolean;
}

export interface PrioritySetterDeps {
  log?: PriorityLog;
  platform?: NodeJS.Platform;
  /** Runs `ionice` with these arguments; resolves false when it cannot be run (missing binary). */
  ionice?: (args: string[]) => Promise<boolean>;
  /** The follow-up pass over the threads, after this many ms (Linux). */
  threadPassMs?: number;
}

const runIonice = (args: string[]): Promise<boolean> =>
  new Promise((resolve) =>
    execFile('ionice', args, { windowsHide: true, timeout: 5000 }, (err) => {
      // ENOENT: not installed. A process that already exited makes ionice fail too: that is not "missing".
      resolve(!(err && (err as NodeJS.ErrnoException).code === 'ENOENT'));
    }),
  );

/** The kernel's start time of a process (Linux, /proc/<pid>/stat field 22): tells a reused pid apart. */
export function linuxStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function threadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return []; // already gone
  }
}

export function createPrioritySetter(deps: PrioritySetterDeps = {}): PrioritySetter {
  const platform = deps.platform ?? process.platform;
  const ionice = deps.ionice ?? runIonice;
  let ioniceMissing = false;
  const setCpu = (pid: number, value: number): boolean => {
    try {
      os.setPriority(pid, value);
      return true;
    } catch (err) {
      // ESRCH: it exited already; EACCES: raising needs privileges (never asked for here: only lowering).
      deps.log?.debug({ pid, err: (err as Error).message }, 'cannot set process priority');
      return false;
    }
  };
  const setIo = (pids: number[], priority: ProcessPriority): void => {
    const args = ioniceArgs(priority, pids);
    if (!args || ioniceMissing || platform !== 'linux') return;
    void ionice(args).then((ran) => {
      if (ran || ioniceMissing) return;
      ioniceMissing = true;
      deps.log?.debug({}, 'ionice not found (util-linux): ffmpeg keeps the default I/O priority');
    });
  };
  return {
    setCpu,
    apply(pid, priority) {
      if (priority === 'normal') return;
      const value = cpuPriorityValue(priority);
      if (!setCpu(pid, value)) return;
      setIo([pid], priority);
      if (platform !== 'linux') return;
      const started = linuxStartTime(pid);
      const timer = setTimeout(() => {
        if (started === undefined || linuxStartTime(pid) !== started) return; // exited (its pid may be reused)
        const tids = threadIds(pid).filter((t) => t !== pid);
        for (const tid of tids) setCpu(tid, value);
        setIo(tids, priority);
      }, deps.threadPassMs ?? 1000);
      timer.unref?.();
    },
  };
}
