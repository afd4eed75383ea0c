/**
 * Who a process is, in a form that survives on disk: a pid alone is not enough, because pids are reused (and a
 * restarted container gives the worker pid 1 again). On Linux the kernel's start time of the process and the boot
 * id tell a reused pid apart; elsewhere only the pid and the host name are known, and the checks say so.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface ProcessIdentity {
  pid: number;
  /** Linux: start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start?: string;
  /** Linux: /proc/sys/kernel/random/boot_id. */
  boot_id?: string;
  hostname?: string;
}

function readProc(file: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The kernel's start time of a process (Linux), undefined elsewhere or when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces or ')': split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 22 overall; fields[0] is field 3 (the state)
}

export function currentProcessIdentity(): ProcessIdentity {
  return {
    pid: process.pid,
    start: processStartTime(process.pid),
    boot_id: readProc('/proc/sys/kernel/random/boot_id')?.trim(),
    hostname: os.hostname(),
  };
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process a record names still runs:
 * - 'gone': it does not (pid free, reused by another process, an earlier boot, or our own pid: a restarted
 *   container's worker is pid 1 again, and the record cannot be from us since we are only now reading it);
 * - 'running': it does, as far as this host can tell;
 * - 'elsewhere': it ran on another host (or container with its own pid namespace and host name): this host cannot
 *   see it, so the caller must decide by other means (the lock's heartbeat).
 */
export function recordedProcessState(recorded: ProcessIdentity): 'gone' | 'running' | 'elsewhere' {
  const me = currentProcessIdentity();
  if (recorded.hostname !== undefined && recorded.hostname !== me.hostname) return 'elsewhere';
  if (recorded.boot_id && me.boot_id && recorded.boot_id !== me.boot_id) return 'gone';
  if (!Number.isInteger(recorded.pid) || recorded.pid <= 0 || recorded.pid === process.pid) return 'gone';
  if (!pidExists(recorded.pid)) return 'gone';
  if (recorded.start !== undefined) {
    const now = processStartTime(recorded.pid);
    if (now !== undefined && now !== recorded.start) return 'gone';
  }
  return 'running';
}

/**
 * Linux: whether a live pid runs this program (node with our main.js, or the packaged transcode-worker), for
 * records that predate the start time. Elsewhere we cannot tell, and say no (the state_dir lock is the guard there).
 */
export function looksLikeWorker(pid: number): boolean {
  const cmdline = readProc(`/proc/${pid}/cmdline`);
  if (!cmdline) return false;
  return cmdline.split('\0').some((a) => /transcode-worker|[\\/]main\.js$/.test(a));
}
