import { describe, expect, it } from 'vitest';
import { buildDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import { busy, client, completed, idle, jobBody } from './fixtures.js';

/** One worker w1 with one assigned job. */
async function assigned() {
  const dev = buildDevOrchestrator();
  const c = client(dev.app);
  await c.register('w1');
  await c.register('w2');
  const id = String((await c.enqueue(jobBody({ job_id: 'job-a' }))).body.job_id);
  expect((await c.sync(idle('w1'))).body.assigned_job).toMatchObject({ job_id: id });
  return { ...dev, c, id };
}

describe('dev orchestrator: progress reports (PATCH)', () => {
  it('records progress, fps and eta and moves the job to PROCESSING', async () => {
    const { c, state, id } = await assigned();
    expect((await c.progress(id, 'w1', 12.5, { 'x-worker-id': 'w1' })).body).toEqual({ ack: true });
    await c.progress(id, 'w1', 40);
    const job = state.getJob(id)!;
    expect(job).toMatchObject({ status: 'PROCESSING', progress: 40, current_fps: 30, eta_sec: 12 });
    expect(job.started_at).toBeDefined();
    expect(job.progress_history.map((p) => p.progress)).toEqual([12.5, 40]);
  });

  it('answers 404 for an unknown job, 409 for another worker or an ended job, 410 for a cancelled one', async () => {
    const { c, id } = await assigned();
    expect((await c.progress('nope', 'w1')).status).toBe(404);
    const other = await c.progress(id, 'w2');
    expect(other.status).toBe(409);
    expect(String(other.body.message)).toContain('assigned to worker w1');

    const queued = String((await c.enqueue(jobBody())).body.job_id);
    expect((await c.progress(queued, 'w1')).status).toBe(409);

    await c.finalize(id, completed('w1'));
    expect((await c.progress(id, 'w1')).status).toBe(409);

    const { c: c2, id: id2 } = await assigned();
    await c2.cancel(id2);
    const gone = await c2.progress(id2, 'w1');
    expect(gone.status).toBe(410);
    expect(gone.body.error).toBe('gone');
  });

  it('refuses a report whose X-Worker-ID header and worker_id differ', async () => {
    const { c, id } = await assigned();
    const res = await c.progress(id, 'w1', 10, { 'x-worker-id': 'w2' });
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toContain('X-Worker-ID');
  });
});

describe('dev orchestrator: finalize', () => {
  it('records a COMPLETED result with its manifest and metrics, and frees the worker', async () => {
    const { c, state, id } = await assigned();
    const next = String((await c.enqueue(jobBody())).body.job_id);
    const res = await c.finalize(id, completed('w1'));
    expect(res).toEqual({ status: 200, body: { ack: true } });
    const job = state.getJob(id)!;
    expect(job).toMatchObject({
      status: 'COMPLETED',
      manifest_url: '/processed/a/index.m3u8',
      progress: 100,
      finalize_count: 1,
    });
    expect(job.finalize?.metrics.total_time_ms).toBe(1234);
    expect(job.finished_at).toBeDefined();
    expect((await c.sync(idle('w1'))).body.assigned_job).toMatchObject({ job_id: next });
  });

  it('is idempotent: the same result again is 200 and only counted', async () => {
    const { c, state, id } = await assigned();
    await c.finalize(id, completed('w1'));
    const again = await c.finalize(id, {
      ...completed('w1'),
      manifest_url: '/elsewhere.m3u8',
      metrics: { total_time_ms: 1 },
    });
    expect(again.status).toBe(200);
    const job = state.getJob(id)!;
    expect(job.finalize_count).toBe(2);
    expect(job.manifest_url).toBe('/processed/a/index.m3u8');
    expect(job.finalize?.metrics.total_time_ms).toBe(1234);
  });

  it('refuses a different result for an ended job, a finalize from another worker, and one for a cancelled job', async () => {
    const { c, state, id } = await assigned();
    await c.finalize(id, completed('w1'));
    const flip = await c.finalize(id, {
      worker_id: 'w1',
      status: 'FAILED',
      error_msg: 'x',
      metrics: { total_time_ms: 1 },
    });
    expect(flip.status).toBe(409);
    expect(String(flip.body.message)).toContain('already finalized as COMPLETED');
    expect((await c.finalize(id, completed('w2'))).status).toBe(409);
    expect(state.getJob(id)!.status).toBe('COMPLETED');
    expect((await c.finalize('missing', completed('w1'))).status).toBe(404);

    const { c: c2, id: id2 } = await assigned();
    await c2.cancel(id2);
    expect((await c2.finalize(id2, completed('w1'))).status).toBe(410);
  });

  it('keeps the error message of a FAILED result', async () => {
    const { c, state, id } = await assigned();
    await c.finalize(id, {
      worker_id: 'w1',
      status: 'FAILED',
      error_msg: 'input file does not exist: movies/a.mkv',
      metrics: { total_time_ms: 9 },
    });
    expect(state.getJob(id)).toMatchObject({ status: 'FAILED', error_msg: 'input file does not exist: movies/a.mkv' });
  });

  it('requires manifest_url on COMPLETED', async () => {
    const { c, id } = await assigned();
    const res = await c.finalize(id, { worker_id: 'w1', status: 'COMPLETED', metrics: { total_time_ms: 1 } });
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toContain('manifest_url');
  });
});

describe('dev orchestrator: cancel', () => {
  it('tells the worker running a cancelled job to stop, then gives it new work once it is idle', async () => {
    const { c, state, id } = await assigned();
    await c.progress(id, 'w1', 20);
    const cancelled = await c.cancel(id);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED' });
    expect((await c.sync(busy('w1', id))).body).toMatchObject({ cancel_current_job: true });
    const next = String((await c.enqueue(jobBody())).body.job_id);
    expect((await c.sync(idle('w1'))).body).toEqual({
      ack: true,
      assigned_job: expect.objectContaining({ job_id: next }),
    });
    expect(state.getJob(id)!.status).toBe('CANCELLED');
  });

  it('cancels a queued job so no worker gets it; an ended job cannot be cancelled', async () => {
    const dev = buildDevOrchestrator();
    const c = client(dev.app);
    await c.register('w1');
    const id = String((await c.enqueue(jobBody())).body.job_id);
    expect((await c.cancel(id)).status).toBe(200);
    expect((await c.cancel(id)).status).toBe(200); // cancelling twice is harmless
    expect((await c.sync(idle('w1'))).body.assigned_job).toBeUndefined();
    expect((await c.cancel('missing')).status).toBe(404);

    const done = String((await c.enqueue(jobBody())).body.job_id);
    await c.sync(idle('w1'));
    await c.finalize(done, completed('w1'));
    expect((await c.cancel(done)).status).toBe(409);
  });
});
