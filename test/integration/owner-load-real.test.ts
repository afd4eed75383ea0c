/**
 * The owner-load reader on the real /proc (Linux): the CPU of the job's process tree (its root and a grandchild)
 * is ours and is left out of "other programs", whatever else runs on the host. Two readers sample the same window,
 * one told the tree's root and one not: the difference is the tree's CPU, so the host's other load (other tests,
 * other sessions) cancels out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createOwnerLoadReader } from '../../src/worker/owner-load.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A busy loop that first starts a busy grandchild (its pid on stdout): a tree like ffmpeg and its helpers. */
function busyTree(): Promise<{ root: number; grandchild: number }> {
  const code = `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    process.on('SIGTERM', () => { g.kill('SIGKILL'); process.exit(0); });
    console.log(g.pid);
    const end = Date.now() + 60000;
    while (Date.now() < end) {}
    g.kill('SIGKILL');`;
  const root = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(root);
  return new Promise((resolve, reject) => {
    root.stdout!.once('data', (d: Buffer) => resolve({ root: root.pid!, grandchild: Number(String(d).trim()) }));
    root.once('exit', () => reject(new Error('the busy tree exited early')));
  });
}

/** CPU ms of a process from /proc/<pid>/stat (utime + stime at 100 ticks a second): the test's own oracle. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** All CPU time of the host so far, in ms (every core, every state). */
function hostMs(): number {
  return os.cpus().reduce((sum, c) => sum + Object.values(c.times).reduce((a, b) => a + b, 0), 0);
}

describe.runIf(process.platform === 'linux')('owner load on the real /proc', () => {
  it("leaves the job's process tree (root and grandchild) out of the other programs' CPU", async () => {
    const tree = await busyTree();
    try {
      const ours = createOwnerLoadReader();
      const blind = createOwnerLoadReader();
      const treeMs = () => cpuMsOf(tree.root) + cpuMsOf(tree.grandchild);
      const t0 = { tree: treeMs(), host: hostMs() };
      ours(tree.root);
      blind(undefined);
      // A measuring window (not a wait for a condition): both readers and the oracle cover the same 1.5 s.
      await delay(1500);
      const a = ours(tree.root);
      const b = blind(undefined);
      const treePercent = ((treeMs() - t0.tree) / (hostMs() - t0.host)) * 100;
      expect(a.cpuPercent).toBeTypeOf('number');
      expect(b.cpuPercent).toBeTypeOf('number');
      // The two busy processes ran (however loaded the host), and exactly their share is what the reader left out.
      expect(treePercent).toBeGreaterThan(5);
      expect(Math.abs(b.cpuPercent! - a.cpuPercent! - treePercent)).toBeLessThanOrEqual(5);
    } finally {
      process.kill(tree.grandchild, 'SIGKILL');
    }
  });
});
