/**
 * Kills a process and all its descendants. ffmpeg seldom has children, but a wrapper script or a hardware helper
 * may, and a job must leave nothing running.
 *
 * Linux: the tree is read from /proc (no `ps` needed: slim container images do not ship procps, and tree-kill
 * would crash the worker on the missing binary). Windows and macOS: tree-kill (taskkill /T /F, pgrep).
 */
import { readdirSync, readFileSync } from 'node:fs';
import treeKill from 'tree-kill';

/** pid -> parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised command name). */
function readParentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  return parents;
}

/** The pid's descendants, deepest last. */
export function findDescendants(pid: number, parents: Map<number, number> = readParentMap()): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents) children.set(parent, [...(children.get(parent) ?? []), child]);
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (out.includes(c) || c === pid) continue;
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGKILLs the tree rooted at pid. Never throws. */
export function killProcessTree(pid: number, onError?: (err: Error) => void): void {
  if (process.platform === 'linux') {
    let descendants: number[] = [];
    try {
      descendants = findDescendants(pid);
    } catch (err) {
      onError?.(err as Error);
    }
    // SIGKILL also ends a stopped (paused) process at once; SIGTERM would wait until it is continued.
    // Stop the root first so it cannot spawn more, then kill children before the root: a child whose parent
    // died first would be re-parented and could be missed by a second look.
    signalPid(pid, 'SIGSTOP');
    for (const d of descendants.reverse()) signalPid(d, 'SIGKILL');
    signalPid(pid, 'SIGKILL');
    return;
  }
  treeKill(pid, 'SIGKILL', (err) => {
    if (err) {
      onError?.(err);
      signalPid(pid, 'SIGKILL');
    }
  });
}
