import { describe, expect, it } from 'vitest';
import { JobPauser, type PauseState } from '../../../src/worker/job-pauser.js';
import type { PausableProcess, TreeSuspender } from '../../../src/exec/suspend.js';
import { createLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/wait.js';

function setup(opts: { hold?: () => string | undefined } = {}) {
  const load = { ram: 10 };
  const calls: string[] = [];
  const changes: (PauseState | undefined)[] = [];
  let pausedSeconds = 0;
  const suspender: TreeSuspender = {
    mode: 'stop',
    suspend: (pid) => (calls.push(`stop ${pid}`), true),
    resume: (pid) => void calls.push(`cont ${pid}`),
  };
  const pauser = new JobPauser({
    pauseAfterMs: 30,
    resumeAfterMs: 30,
    onOwnerLoad: true,
    holdReason: opts.hold,
    thresholds: { cpu: 80, ram: 50 },
    readLoad: () => ({ ramPercent: load.ram }),
    suspender,
    normalPriority: 10,
    tickMs: 5,
    now: Date.now,
    log: createLogger({ level: 'silent' }),
    onPausedSeconds: (s) => (pausedSeconds += s),
    onChange: (s) => changes.push(s),
  });
  const proc = (pid: number) => {
    let exit!: () => void;
    const exited = new Promise<void>((r) => (exit = r));
    const paused: boolean[] = [];
    const p: PausableProcess = { pid, exited, setPaused: (v) => paused.push(v) };
    return { p, exit, paused };
  };
  return { load, calls, changes, pauser, proc, pausedSeconds: () => pausedSeconds };
}

describe('JobPauser', () => {
  it('stops the attached ffmpeg under load, tells its runner, counts the time, and resumes it after', async () => {
    const t = setup();
    const a = t.proc(41);
    t.pauser.attach(a.p);
    t.load.ram = 70;
    await waitFor(() => t.calls.includes('stop 41'));
    expect(a.paused).toEqual([true]);
    expect(t.pauser.state()?.reason).toMatch(/70% of the RAM/);
    t.load.ram = 10;
    await waitFor(() => t.calls.includes('cont 41'));
    expect(a.paused).toEqual([true, false]);
    expect(t.pauser.state()).toBeUndefined();
    expect(t.changes.map((c) => (c ? 'paused' : 'running'))).toEqual(['paused', 'running']);
    expect(t.pausedSeconds()).toBeGreaterThan(0.02);
    t.pauser.stop();
  });

  it('a new ffmpeg of a paused job is stopped at once; the job ending resumes it; an exited one is never signalled', async () => {
    const t = setup();
    const a = t.proc(41);
    t.pauser.attach(a.p);
    t.load.ram = 70;
    await waitFor(() => t.calls.includes('stop 41'));
    a.exit();
    await a.p.exited;
    const b = t.proc(42);
    t.pauser.attach(b.p);
    expect(t.calls).toContain('stop 42');
    t.pauser.stop();
    expect(t.calls.at(-1)).toBe('cont 42');
    expect(t.calls.filter((c) => c.endsWith(' 41'))).toEqual(['stop 41']);
  });

  it('a hold pauses at once, whatever the load', async () => {
    let hold: string | undefined = 'outside work hours';
    const t = setup({ hold: () => hold });
    t.pauser.attach(t.proc(7).p);
    await waitFor(() => t.calls.includes('stop 7'));
    expect(t.pauser.state()?.reason).toBe('outside work hours');
    hold = undefined;
    await waitFor(() => t.calls.includes('cont 7'));
    t.pauser.stop();
  });
});
