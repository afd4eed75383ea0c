/**
 * Pausing a process tree without killing it: the owner of the host needs the machine now, the job goes on later.
 *
 * POSIX: SIGSTOP to every process of the tree (root first, so it cannot start more while we look), SIGCONT to
 * resume (children first, root last). A stopped process does not act on SIGTERM until continued, so whoever ends
 * a paused tree must SIGKILL it or send SIGCONT along (kill-tree.ts uses SIGKILL, which a stopped process obeys).
 * Linux reads the tree from /proc; other POSIX systems stop the root only (ffmpeg seldom has children).
 *
 * Windows has no documented suspend without a native add-on (NtSuspendProcess is undocumented and needs FFI), so
 * there "pause" drops the tree's root to the IDLE priority class: it runs only on CPU time nobody else wants.
 * `mode` says which of the two a platform does (docs/good-guest.md).
 */
import os from 'node:os';
import { findDescendants } from './kill-tree.js';

export type SuspendMode = 'stop' | 'idle-class';

export interface TreeSuspender {
  readonly mode: SuspendMode;
  /** Pauses the tree rooted at pid. Never throws; false when nothing could be paused (it exited). */
  suspend(pid: number): boolean;
  /** Resumes it; `normalPriority` is the os.setPriority value to restore (Windows). Never throws. */
  resume(pid: number, normalPriority: number): void;
}

export interface TreeSuspenderDeps {
  platform?: NodeJS.Platform;
  /** process.kill, injectable for tests. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  setPriority?: (pid: number, value: number) => void;
  /** The pid's descendants (Linux: from /proc). */
  descendants?: (pid: number) => number[];
}

export function createTreeSuspender(deps: TreeSuspenderDeps = {}): TreeSuspender {
  const platform = deps.platform ?? process.platform;
  const kill = deps.kill ?? ((pid, sig) => process.kill(pid, sig));
  const setPriority = deps.setPriority ?? ((pid, value) => os.setPriority(pid, value));
  const descendants =
    deps.descendants ??
    ((pid: number) => {
      if (platform !== 'linux') return [];
      try {
        return findDescendants(pid);
      } catch {
        return [];
      }
    });
  const signal = (pid: number, sig: NodeJS.Signals): boolean => {
    try {
      kill(pid, sig);
      return true;
    } catch {
      return false; // gone
    }
  };

  if (platform === 'win32') {
    return {
      mode: 'idle-class',
      suspend(pid) {
        try {
          setPriority(pid, os.constants.priority.PRIORITY_LOW);
          return true;
        } catch {
          return false;
        }
      },
      resume(pid, normalPriority) {
        try {
          setPriority(pid, normalPriority);
        } catch {
          // gone
        }
      },
    };
  }
  return {
    mode: 'stop',
    suspend(pid) {
      if (!signal(pid, 'SIGSTOP')) return false;
      for (const d of descendants(pid)) signal(d, 'SIGSTOP');
      return true;
    },
    resume(pid) {
      for (const d of descendants(pid).reverse()) signal(d, 'SIGCONT');
      signal(pid, 'SIGCONT');
    },
  };
}

/**
 * A running child that may be paused, as its runner hands it out (transcode/ffmpeg.ts's onSpawn, the job context's
 * onProcess): whoever pauses it tells the runner, so the runner's stall watchdog does not count paused time.
 */
export interface PausableProcess {
  readonly pid: number;
  /** Settles once the process exited: its pid must not be signalled after that (it may be reused). */
  readonly exited: Promise<void>;
  /** Paused on purpose (true) or running again (false). */
  setPaused(paused: boolean): void;
}
