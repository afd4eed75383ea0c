/**
 * Black-box fault tests: results survive orchestrator failures and worker crashes; aborted jobs leave nothing behind.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LONG, SHORT, ladderJob, listFiles, makeWorld, type World } from './fixture.js';
import { ffmpegProcessesMentioning } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

/** Waits until ffmpeg is really encoding (not just the job assigned), so a fault lands mid-transcode. */
async function waitUntilEncoding(w: World, jobId: string) {
  await w.orch.waitFor((o) => o.requestsTo('progress').some((r) => r.jobId === jobId && r.body.progress > 0), {
    timeoutMs: 40_000,
    message: 'progress above 0',
  });
}

async function expectNothingLeft(w: World, destRoot: string) {
  await waitFor(async () => (await ffmpegProcessesMentioning(w.dirs.root)).length === 0, {
    timeoutMs: 10_000,
    message: 'no ffmpeg process left',
  });
  expect(await listFiles(path.join(w.dirs.nas, destRoot))).toEqual([]);
  await waitFor(async () => (await listFiles(w.dirs.temp)).length === 0, { message: 'staging to be empty' });
}

describe('faults (black box)', () => {
  it('retries a finalize answered 500 until the orchestrator accepts it', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    orch.fail('finalize', 3, 500);
    await world.start();
    const job = await orch.enqueue(ladderJob(SHORT, 'processed/retry'));
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    const attempts = orch.requestsTo('finalize');
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 500, 200]);
    expect(attempts.every((a) => a.body.status === 'COMPLETED')).toBe(true);
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
      message: 'the outbox to be empty',
    });
  });

  it('keeps a COMPLETED result across an orchestrator outage and a worker SIGKILL, and delivers it after both restart', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    // From the moment the job ends, the orchestrator is unreachable (connections dropped).
    orch.failWith('finalize', Infinity, { destroy: true });
    const first = await world.start();
    const job = await orch.enqueue(ladderJob(SHORT, 'processed/outage'));
    await orch.waitForRequest('finalize', { timeoutMs: 60_000 });
    // A written entry, not the temp file of a write still in progress (a SIGKILL then would rightly lose it).
    await waitFor(
      async () =>
        (await listFiles(path.join(dirs.state, 'outbox'))).filter((f) => f.endsWith('.json') && !f.startsWith('.'))
          .length === 1,
      { message: 'the result in the outbox' },
    );
    first.kill('SIGKILL');
    await first.exited;
    await orch.stop();
    orch.clearFaults();
    await orch.start();
    await world.start();
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 30_000 });
    expect({ status: done.status, error_msg: done.error_msg }).toEqual({ status: 'COMPLETED', error_msg: undefined });
    expect(done.manifest_url).toBe('/processed/outage/index.m3u8');
    expect(existsSync(path.join(dirs.nas, 'processed', 'outage', 'index.m3u8'))).toBe(true);
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
      message: 'the outbox to be empty',
    });
  });

  it('aborts the job when a progress report answers 410: no ffmpeg left, nothing committed, staging empty, no finalize', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch } = world;
    const w = await world.start({ WORKER_X264_PRESET: 'slow' });
    orch.hook('progress', (req) =>
      req.body?.progress > 0 ? { status: 410, body: { error: 'gone', message: 'reassigned' } } : undefined,
    );
    const job = await orch.enqueue(ladderJob(LONG, 'processed/gone'));
    await w.waitForLog((l) => /job aborted/.test(l.msg) && l.job_id === job.job_id, 40_000, 'the abort');
    await expectNothingLeft(world, 'processed');
    expect(orch.requestsTo('finalize')).toEqual([]);
    // And the worker is ready for the next job.
    await orch.waitForRequest('sync', {
      afterSeq: orch.lastRequest('progress')!.seq,
      where: (r) => r.body.status === 'IDLE',
    });
  });

  it('on SIGTERM mid-job: aborts, finalizes FAILED "worker shutting down", exits 0 within 10 s', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch } = world;
    const w = await world.start({ WORKER_X264_PRESET: 'slow' });
    const job = await orch.enqueue(ladderJob(LONG, 'processed/term'));
    await waitUntilEncoding(world, job.job_id);
    const t0 = Date.now();
    w.kill('SIGTERM');
    const exit = await w.exited;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(exit.code).toBe(0);
    const done = await orch.waitForJob(job.job_id, ['FAILED', 'COMPLETED']);
    expect(done.status).toBe('FAILED');
    expect(done.error_msg).toBe('worker shutting down');
    await expectNothingLeft(world, 'processed');
  });

  it('after SIGKILL mid-job, the next start finalizes the job FAILED and removes its staging', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    const w = await world.start({ WORKER_X264_PRESET: 'slow' });
    const job = await orch.enqueue(ladderJob(LONG, 'processed/kill'));
    await waitUntilEncoding(world, job.job_id);
    expect(existsSync(path.join(dirs.state, 'running-job.json'))).toBe(true);
    // ffmpeg's HLS muxer writes a segment file only once the segment is complete: wait for the first one.
    await waitFor(async () => (await listFiles(dirs.temp)).length > 0, { timeoutMs: 30_000, message: 'staged files' });
    w.kill('SIGKILL');
    await w.exited;
    // A SIGKILLed worker cannot take its ffmpeg along: the orphan keeps encoding until the next start ends it.
    const orphans = await ffmpegProcessesMentioning(dirs.root);
    expect(orphans.length).toBe(1);

    await world.start({ WORKER_X264_PRESET: 'slow' });
    const done = await orch.waitForJob(job.job_id, ['FAILED', 'COMPLETED'], { timeoutMs: 30_000 });
    expect(done.status).toBe('FAILED');
    expect(done.error_msg).toBe('worker restarted while the job was running');
    // The record goes once the FAILED result is on disk; delivery does not wait for that.
    await waitFor(() => !existsSync(path.join(dirs.state, 'running-job.json')), { message: 'the record removed' });
    await expectNothingLeft(world, 'processed');
    expect(world.workers[1]!.logs.some((l) => l.msg === 'ended the ffmpeg the interrupted job left running')).toBe(
      true,
    );
  });
});
