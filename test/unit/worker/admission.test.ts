/**
 * Work hours and drain in the worker's loop, with the manual clock and the scripted client of worker-fakes.ts:
 * BUSY syncs and refused assignments outside the window, jobs again once it opens; a drain request file picked up
 * at the next sync; the pause controller's hold reason.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncResponse } from '../../../src/protocol/schemas.js';
import { writeDrainRequest } from '../../../src/worker/drain-files.js';
import { waitFor } from '../../helpers/wait.js';
import { procState } from '../../helpers/processes.js';
import { counter, job, startHarness, untilSleeping, type Harness } from './worker-fakes.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const assign = (id: string): SyncResponse => ({ assigned_job: job(id) }) as SyncResponse;
const until = (fn: () => unknown, message: string) => waitFor(fn, { intervalMs: 1, timeoutMs: 2000, message });
const syncs = (h: Harness) =>
  h.client.calls.filter((c) => c.route === 'sync').map((c) => c.body as { status: string; hardware_stats: object });

describe('admission in the loop', () => {
  it('outside the work hours: BUSY, an assignment refused; at the window start: IDLE and the job runs', async () => {
    // The manual clock starts at 2026-01-01T00:00:00Z; the window opens at 00:01 UTC, twelve syncs later.
    h = await startHarness({
      start: false,
      env: { WORKER_WORK_HOURS: '00:01-23:00', WORKER_WORK_HOURS_RUNNING_JOB: 'pause' },
      timeZone: 'UTC',
    });
    h.client.syncAnswers.push(assign('early'));
    await h.worker.start();
    await untilSleeping(h);
    expect(syncs(h)).toHaveLength(1);
    expect(syncs(h)[0]).toMatchObject({ status: 'BUSY', hardware_stats: { is_busy: true } });
    expect(h.started).toHaveLength(0);
    expect(await counter(h.metrics.assignmentsRejected)).toBe(1);
    expect(h.worker.status()).toMatchObject({
      no_new_jobs: 'outside work hours (00:01-23:00) until 00:01',
      work_hours: { within: false, until: '2026-01-01T00:01:00.000Z', running_job: 'pause' },
    });
    expect(h.worker.holdReason()).toBe('outside work hours (00:01-23:00) until 00:01');

    while (h.clock.now() < Date.parse('2026-01-01T00:01:00Z')) {
      h.clock.advance();
      const n = syncs(h).length;
      await until(() => syncs(h!).length > n && h!.clock.sleeping === 1, 'the next sync');
    }
    expect(syncs(h).at(-1)).toMatchObject({ status: 'IDLE', hardware_stats: { is_busy: false } });
    expect(h.worker.holdReason()).toBeUndefined();
    h.client.syncAnswers.push(assign('in-hours'));
    h.clock.advance();
    await until(() => h!.started.length === 1, 'the job to start');
    expect(h.started[0]!.job.job_id).toBe('in-hours');
  });

  it('a drain request file is applied at the next sync: BUSY, nothing started; cancelled, IDLE again', async () => {
    h = await startHarness();
    await untilSleeping(h);
    await writeDrainRequest(h.stateDir, {
      draining: true,
      exit: false,
      requested_at: new Date().toISOString(),
      requested_by: 'test',
    });
    h.client.syncAnswers.push(assign('refused'));
    h.clock.advance();
    await until(() => syncs(h!).length === 2 && h!.clock.sleeping === 1, 'the second sync');
    expect(syncs(h)[1]).toMatchObject({ status: 'BUSY', hardware_stats: { is_busy: true } });
    expect(h.started).toHaveLength(0);
    expect(h.worker.status()).toMatchObject({ drain: { exit: false, requested_by: 'test' } });

    await writeDrainRequest(h.stateDir, {
      draining: false,
      exit: false,
      requested_at: new Date().toISOString(),
      requested_by: 'test',
    });
    h.clock.advance();
    await until(() => syncs(h!).length === 3 && h!.clock.sleeping === 1, 'the third sync');
    expect(syncs(h)[2]).toMatchObject({ status: 'IDLE', hardware_stats: { is_busy: false } });
    expect(h.worker.status()).toMatchObject({ drain: null, no_new_jobs: null, work_hours: null });
  });

  it.skipIf(process.platform !== 'linux')(
    'pause mode: the running job is stopped when the window ends, and goes on when it opens again',
    async () => {
      // The window is open at the clock's start (00:00 UTC) and closes at 00:02; owner-load pausing is off, so only
      // the work-hours hold can stop the stand-in for ffmpeg (a real child process: real SIGSTOP/SIGCONT).
      h = await startHarness({
        start: false,
        env: {
          WORKER_WORK_HOURS: '00:00-00:02',
          WORKER_WORK_HOURS_RUNNING_JOB: 'pause',
          WORKER_PAUSE_ON_OWNER_LOAD: 'false',
        },
        timeZone: 'UTC',
      });
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const pausedCalls: boolean[] = [];
      try {
        h.client.syncAnswers.push(assign('long'));
        await h.worker.start();
        await until(() => h!.started.length === 1, 'the job to start');
        h.started[0]!.ctx.onProcess?.(child.pid!, {
          pid: child.pid!,
          exited,
          setPaused: (p) => pausedCalls.push(p),
        });
        const state = () => procState(child.pid!)?.state;
        expect(state()).not.toBe('T');

        h.clock.t = Date.parse('2026-01-01T00:03:00Z'); // past the window's end
        await waitFor(() => state() === 'T', { timeoutMs: 5000, message: 'the process stopped at the window end' });
        expect(pausedCalls).toEqual([true]);
        expect(h.worker.status()).toMatchObject({ paused: { reason: expect.stringContaining('outside work hours') } });

        h.clock.t = Date.parse('2026-01-02T00:00:30Z'); // the next day's window
        await waitFor(() => state() !== 'T', { timeoutMs: 5000, message: 'the process resumed in the window' });
        expect(pausedCalls).toEqual([true, false]);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    },
  );
});
