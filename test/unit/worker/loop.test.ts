/**
 * The worker's loop with a manual clock, a scripted orchestrator client and an executor the test settles: register,
 * 404 and re-register, triage while busy, cancel, progress 409, shutdown. Real state_dir files, no real waits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  JobCancelledByOrchestratorError,
  JobNoLongerOursError,
  JobGoneError,
  NotRegisteredError,
  ShutdownError,
  TransientOrchestratorError,
} from '../../../src/errors.js';
import type { SyncResponse } from '../../../src/protocol/schemas.js';
import { waitFor } from '../../helpers/wait.js';
import { counter, job, startHarness, untilSleeping, type Harness } from './worker-fakes.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const assign = (id: string): SyncResponse => ({ assigned_job: job(id) }) as SyncResponse;
const until = (fn: () => unknown, message: string) => waitFor(fn, { intervalMs: 1, timeoutMs: 2000, message });

describe('the worker loop', () => {
  it('registers, syncs, and sleeps sync_interval between syncs', async () => {
    h = await startHarness();
    await untilSleeping(h);
    expect(h.client.routes()).toEqual(['register', 'sync']);
    expect(h.worker.status()).toMatchObject({ state: 'IDLE', registered: true, last_sync: { result: 'ok' } });
    expect(h.worker.readiness()).toEqual({ ready: true });
    const t0 = h.clock.now();
    h.clock.advance();
    await until(() => h!.client.routes().length === 3, 'the second sync');
    expect(h.clock.now() - t0).toBe(h.config.sync_interval);
  });

  it('a sync answered 404 registers again at once and syncs; a second 404 right after waits a round', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(new NotRegisteredError(), new NotRegisteredError());
    await h.worker.start();
    await untilSleeping(h);
    expect(h.client.routes()).toEqual(['register', 'sync', 'register', 'sync']);
    expect(h.worker.status().last_sync).toMatchObject({ result: 'not_registered' });
    h.clock.advance();
    await until(() => h!.client.routes().length === 5 && h!.clock.sleeping === 1, 'the next round');
    expect(h.client.routes().at(-1)).toBe('sync');
    expect(h.worker.status().last_sync).toMatchObject({ result: 'ok' });
    expect(await counter(h.metrics.registrations)).toBe(2);
  });

  it('starts an assigned job, rejects (and counts) another while busy, and finalizes COMPLETED', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(assign('a'), assign('b'), assign('a'));
    await h.worker.start();
    await until(() => h!.started.length === 1, 'the job to start');
    expect(h.worker.status()).toMatchObject({ state: 'BUSY', current_job: { job_id: 'a' } });
    await until(async () => (await h!.runningRecord()) !== undefined, 'the running-job record');
    await untilSleeping(h);

    h.clock.advance(); // sync answers job b while a runs
    await until(() => h!.client.routes().filter((r) => r === 'sync').length === 2 && h!.clock.sleeping, 'sync 2');
    expect(await counter(h.metrics.assignmentsRejected)).toBe(1);
    expect(h.client.calls.filter((c) => c.route === 'sync').at(-1)!.body).toMatchObject({
      status: 'BUSY',
      current_job_id: 'a',
    });
    h.clock.advance(); // the orchestrator repeats job a: that is the job we run, not a rejection
    await until(() => h!.client.routes().filter((r) => r === 'sync').length === 3 && h!.clock.sleeping, 'sync 3');
    expect(await counter(h.metrics.assignmentsRejected)).toBe(1);
    expect(h.started.map((s) => s.job.job_id)).toEqual(['a']);

    h.started[0]!.resolve({ manifestUrl: '/out/a/master.m3u8', metrics: {} as never });
    await until(() => h!.client.finalized().length === 1, 'the finalize');
    expect(h.client.finalized()[0]).toMatchObject({
      jobId: 'a',
      body: { status: 'COMPLETED', manifest_url: '/out/a/master.m3u8' },
    });
    // The job's end wakes the loop: it syncs at once to say IDLE, without waiting out sync_interval.
    await until(() => h!.client.routes().at(-1) === 'sync' && h!.client.routes().length === 6, 'the wake-up sync');
    expect(h.worker.status()).toMatchObject({ state: 'IDLE', current_job: null, jobs: { completed: 1 } });
    await until(async () => (await h!.runningRecord()) === undefined, 'the record to go');
  });

  it('cancel_current_job aborts the job with the cancelled reason; nothing is finalized', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(assign('c'), { cancel_current_job: true } as SyncResponse);
    await h.worker.start();
    await until(() => h!.started.length === 1, 'the job to start');
    await untilSleeping(h);
    h.clock.advance();
    await until(() => h!.worker.status().current_job === null, 'the job to end');
    const reason: unknown = h.started[0]!.ctx.signal.reason;
    expect(reason).toBeInstanceOf(JobCancelledByOrchestratorError);
    expect(reason).toBeInstanceOf(JobNoLongerOursError);
    expect((reason as Error).message).toBe('job cancelled by the orchestrator');
    expect(h.worker.status().jobs).toEqual({ completed: 0, failed: 0, cancelled: 1 });
    await until(async () => (await h!.runningRecord()) === undefined, 'the record to go');
    expect(h.client.finalized()).toEqual([]);
    expect(await h.outboxOnDisk()).toEqual({});
  });

  it('a progress answer 409 aborts the job as no longer ours; nothing is finalized', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(assign('g'));
    h.client.progressAnswers.push(new JobGoneError('g', 409));
    await h.worker.start();
    await until(() => h!.started.length === 1 && h!.worker.status().current_job === null, 'the job to end');
    const reason: unknown = h.started[0]!.ctx.signal.reason;
    expect(reason).toBeInstanceOf(JobNoLongerOursError);
    expect(reason).not.toBeInstanceOf(JobCancelledByOrchestratorError);
    expect((reason as Error).message).toBe('job no longer assigned to this worker');
    expect(h.worker.status().jobs.cancelled).toBe(1);
    expect(h.client.finalized()).toEqual([]);
  });

  it('shutdown aborts the running job and keeps FAILED "worker shutting down" in the outbox when undeliverable', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(assign('s'));
    h.client.finalizeAnswers = Array.from({ length: 1000 }, () => new TransientOrchestratorError('down', 503));
    await h.worker.start();
    await until(() => h!.started.length === 1, 'the job to start');
    await h.worker.stop();
    expect(h.started[0]!.ctx.signal.reason).toBeInstanceOf(ShutdownError);
    expect(h.worker.status()).toMatchObject({ state: 'STOPPED', jobs: { cancelled: 1 } });
    expect(h.worker.readiness()).toEqual({ ready: false, reason: 'worker shutting down' });
    expect(await h.outboxOnDisk()).toMatchObject({
      s: { payload: { status: 'FAILED', error_msg: 'worker shutting down' } },
    });
    expect(h.client.finalized().length).toBeGreaterThan(0);
    expect(await h.runningRecord()).toBeUndefined();
  });

  it('a job that completes as shutdown begins is still COMPLETED; stop twice is one stop', async () => {
    h = await startHarness({ start: false });
    h.client.syncAnswers.push(assign('d'));
    await h.worker.start();
    await until(() => h!.started.length === 1, 'the job to start');
    h.started[0]!.resolve({ manifestUrl: '/out/d/master.m3u8', metrics: {} as never });
    const stops = [h.worker.stop(), h.worker.stop()];
    expect(stops[0]).toBe(stops[1]);
    await Promise.all(stops);
    expect(h.client.finalized()[0]).toMatchObject({ jobId: 'd', body: { status: 'COMPLETED' } });
  });

  it('takes no job while stopping: an answer during shutdown is rejected and counted', async () => {
    h = await startHarness({ start: false });
    let release!: (r: SyncResponse) => void;
    h.client.syncAnswers.push(() => new Promise<SyncResponse>((r) => (release = r)));
    await h.worker.start();
    await until(() => release !== undefined, 'the sync in flight');
    const stopped = h.worker.stop();
    release(assign('late'));
    await stopped;
    expect(h.started).toEqual([]);
    expect(await counter(h.metrics.assignmentsRejected)).toBe(1);
  });
});
