import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpuPriorityValue, createPrioritySetter, ioniceArgs } from '../../../src/exec/priority.js';
import { createTreeSuspender } from '../../../src/exec/suspend.js';

describe('process priority', () => {
  it('maps the levels to nice 10/19 (BELOW_NORMAL/IDLE classes on Windows) and ionice classes', () => {
    expect(cpuPriorityValue('low')).toBe(os.constants.priority.PRIORITY_BELOW_NORMAL);
    expect(cpuPriorityValue('idle')).toBe(os.constants.priority.PRIORITY_LOW);
    expect(cpuPriorityValue('normal')).toBe(os.constants.priority.PRIORITY_NORMAL);
    expect(ioniceArgs('low', [5])).toEqual(['-c', '2', '-n', '7', '-p', '5']);
    expect(ioniceArgs('idle', [5, 6])).toEqual(['-c', '3', '-p', '5', '6']);
    expect(ioniceArgs('normal', [5])).toBeUndefined();
  });

  it('without ionice: says so once at debug, and still sets the CPU priority', async () => {
    const debug: string[] = [];
    const calls: string[][] = [];
    const setter = createPrioritySetter({
      platform: 'linux',
      log: { debug: (_o, msg) => debug.push(msg) },
      ionice: async (args) => (calls.push(args), false),
    });
    // This process at nice 0 → a child that sleeps; lower it, read it back.
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
    try {
      setter.apply(child.pid!, 'low');
      await new Promise((r) => setTimeout(r, 20));
      setter.apply(child.pid!, 'low'); // known missing: not run again
      await new Promise((r) => setTimeout(r, 20));
      expect(os.getPriority(child.pid!)).toBe(os.constants.priority.PRIORITY_BELOW_NORMAL);
      expect(calls.length).toBe(1);
      expect(debug.filter((m) => /ionice not found/.test(m))).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('tree suspender', () => {
  it('POSIX: SIGSTOP root first, SIGCONT root last', () => {
    const sent: string[] = [];
    const s = createTreeSuspender({
      platform: 'linux',
      kill: (pid, sig) => sent.push(`${sig} ${pid}`),
      descendants: () => [2, 3],
    });
    expect(s.mode).toBe('stop');
    expect(s.suspend(1)).toBe(true);
    s.resume(1, 10);
    expect(sent).toEqual(['SIGSTOP 1', 'SIGSTOP 2', 'SIGSTOP 3', 'SIGCONT 3', 'SIGCONT 2', 'SIGCONT 1']);
  });

  it('Windows: the idle class while paused, the job priority back after', () => {
    const set: [number, number][] = [];
    const s = createTreeSuspender({ platform: 'win32', setPriority: (pid, v) => set.push([pid, v]) });
    expect(s.mode).toBe('idle-class');
    s.suspend(7);
    s.resume(7, 10);
    expect(set).toEqual([
      [7, os.constants.priority.PRIORITY_LOW],
      [7, 10],
    ]);
  });
});
