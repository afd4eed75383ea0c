import { describe, expect, it } from 'vitest';
import { buildDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import { busy, caps, client, idle, jobBody } from './fixtures.js';

function setup(opts: Parameters<typeof buildDevOrchestrator>[0] = {}) {
  const dev = buildDevOrchestrator(opts);
  return { ...dev, c: client(dev.app) };
}

describe('dev orchestrator: register and sync', () => {
  it('answers 404 to a sync from an unknown worker, so it registers again', async () => {
    const { c } = setup();
    const res = await c.sync(idle('ghost'));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_registered' });
    expect(String(res.body.message)).toContain('register');
  });

  it('stores the worker and records what each sync reports', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const { c, state } = setup({ now: () => t });
    expect((await c.register('w1', caps({ max_resolution: '2160p' }))).body).toEqual({ ack: true });
    t += 5000;
    expect(
      (await c.sync(idle('w1', { hardware_stats: { cpu_percent: 12.5, ram_percent: 40, is_busy: false } }))).status,
    ).toBe(200);
    const [w] = state.listWorkers();
    expect(w).toMatchObject({
      worker_id: 'w1',
      registrations: 1,
      syncs: 1,
      status: 'IDLE',
      hardware_stats: { cpu_percent: 12.5, ram_percent: 40, is_busy: false },
      current_job_id: '',
      registered_at: '2026-01-01T00:00:00.000Z',
      last_seen: '2026-01-01T00:00:05.000Z',
    });
    expect(w!.capabilities.max_resolution).toBe('2160p');
    await c.register('w1');
    expect(state.listWorkers()[0]!.registrations).toBe(2);
  });

  it('assigns the oldest queued job to an idle worker, and nothing more while it runs', async () => {
    const { c, state } = setup();
    await c.register('w1');
    const a = await c.enqueue(jobBody({ movie_id: 'first' }));
    const b = await c.enqueue(jobBody({ movie_id: 'second' }));
    expect(a.status).toBe(200);
    const jobA = String(a.body.job_id);
    expect(jobA).toMatch(/^job-/);

    const first = await c.sync(idle('w1'));
    expect(first.body.ack).toBe(true);
    expect(first.body.assigned_job).toMatchObject({ job_id: jobA, movie_id: 'first', outputs: [{ codec: 'libx264' }] });
    expect(state.getJob(jobA)).toMatchObject({ status: 'ASSIGNED', worker_id: 'w1' });

    const heartbeat = await c.sync(busy('w1', jobA));
    expect(heartbeat.body).toEqual({ ack: true });
    expect(state.getJob(String(b.body.job_id))!.status).toBe('QUEUED');
    expect(state.listWorkers()[0]!.running_job_id).toBe(jobA);
  });

  it('gives nothing to a worker that reports IDLE but is_busy (host loaded by others)', async () => {
    const { c } = setup();
    await c.register('w1');
    await c.enqueue(jobBody());
    const res = await c.sync(idle('w1', { hardware_stats: { cpu_percent: 97, ram_percent: 20, is_busy: true } }));
    expect(res.body.assigned_job).toBeUndefined();
    expect((await c.sync(idle('w1'))).body.assigned_job).toBeDefined();
  });

  it('gives a hevc_nvenc job to a worker that only has libx265 (software fallback)', async () => {
    const { c } = setup();
    await c.register('x264-only', caps({ supported_codecs: ['libx264'] }));
    await c.register('x265', caps({ supported_codecs: ['libx264', 'libx265'] }));
    const job = jobBody({ outputs: [{ resolution: '720p', bitrate: '2M', codec: 'hevc_nvenc', dest_path: 'p/a' }] });
    const id = String((await c.enqueue(job)).body.job_id);
    expect((await c.sync(idle('x264-only'))).body.assigned_job).toBeUndefined();
    expect((await c.sync(idle('x265'))).body.assigned_job).toMatchObject({ job_id: id });
  });

  it('does not give a 4K job to a 1080p worker, and says why the job waits', async () => {
    const { c, state } = setup();
    await c.register('small', caps({ max_resolution: '1080p' }));
    const id = String(
      (
        await c.enqueue(
          jobBody({ outputs: [{ resolution: '4k', bitrate: '15M', codec: 'libx264', dest_path: 'p/4k' }] }),
        )
      ).body.job_id,
    );
    const small = String((await c.enqueue(jobBody())).body.job_id);
    // The 4K job is older but does not fit: the worker gets the next fitting one.
    expect((await c.sync(idle('small'))).body.assigned_job).toMatchObject({ job_id: small });
    expect(state.getJob(id)).toMatchObject({ status: 'QUEUED' });
    expect(state.getJob(id)!.waiting_reason).toContain('exceeds max_resolution 1080p');

    await c.register('big', caps({ max_resolution: '2160p' }));
    expect((await c.sync(idle('big'))).body.assigned_job).toMatchObject({ job_id: id });
  });

  it('fails a job as lost when its worker reports idle without it for two syncs, and accepts a late finalize', async () => {
    const { c, state } = setup();
    await c.register('w1');
    const id = String((await c.enqueue(jobBody())).body.job_id);
    const next = String((await c.enqueue(jobBody())).body.job_id);
    await c.sync(idle('w1'));
    // One sync racing the assignment does not lose the job.
    expect((await c.sync(idle('w1'))).body.assigned_job).toBeUndefined();
    expect(state.getJob(id)!.status).toBe('ASSIGNED');
    const second = await c.sync(idle('w1'));
    expect(state.getJob(id)).toMatchObject({ status: 'FAILED', lost: true });
    expect(state.getJob(id)!.error_msg).toContain('worker lost the job');
    expect(second.body.assigned_job).toMatchObject({ job_id: next });
    // The worker's own result, delivered late from its outbox, wins over the guess.
    const fin = await c.finalize(id, {
      worker_id: 'w1',
      status: 'FAILED',
      error_msg: 'worker restarted while the job was running',
      metrics: { total_time_ms: 5 },
    });
    expect(fin.status).toBe(200);
    expect(state.getJob(id)).toMatchObject({
      status: 'FAILED',
      error_msg: 'worker restarted while the job was running',
      finalize_count: 1,
    });
    expect(state.getJob(id)!.lost).toBeUndefined();
  });
});
