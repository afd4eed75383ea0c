import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** State (R, S, T, Z...) and nice value of a process, from /proc/<pid>/stat (Linux); undefined once it is gone. */
export function procState(pid: number): { state: string; nice: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, nice: Number(f[16]) };
  } catch {
    return undefined;
  }
}

/**
 * Pids of live ffmpeg processes whose command line mentions `needle` (e.g. a test's NAS or temp folder), so a test
 * can prove that an aborted job left no ffmpeg behind. Linux only (/proc); elsewhere it returns [] and says so.
 */
export async function ffmpegProcessesMentioning(needle: string): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const state = stat.split(') ')[1]?.[0];
      if (state === 'Z') continue; // a zombie is already dead; its parent just has not reaped it
      if (/ffmpeg(\.exe)?$/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(needle))) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
