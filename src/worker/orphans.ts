/**
 * Ending the ffmpeg a crashed worker left behind. A SIGKILLed (or OOM-killed) Node process takes no children with
 * it, so its ffmpeg may still be encoding into a staging folder that recovery is about to delete. Pids are reused,
 * so a recorded pid is only killed when it still is that ffmpeg: its command line names the job's staging folder.
 */
import { readFileSync } from 'node:fs';
import { killProcessTree } from '../exec/kill-tree.js';
import { pidExists } from '../util/process-identity.js';

export type OrphanCheck = 'killed' | 'gone' | 'not-ours' | 'unverifiable';

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

export function killOrphanFfmpeg(pid: number, stagingDir: string): OrphanCheck {
  if (!Number.isInteger(pid) || pid <= 0 || !pidExists(pid)) return 'gone';
  // Only Linux lets us read another process's arguments without a helper program; elsewhere we do not guess.
  if (process.platform !== 'linux') return 'unverifiable';
  const argv = commandLine(pid);
  if (!argv) return 'gone';
  if (!argv.some((a) => a.includes(stagingDir))) return 'not-ours';
  killProcessTree(pid);
  return 'killed';
}
