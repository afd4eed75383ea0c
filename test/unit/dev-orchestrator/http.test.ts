import { afterEach, describe, expect, it } from 'vitest';
import {
  buildDevOrchestrator,
  startDevOrchestrator,
  type RunningDevOrchestrator,
} from '../../../src/dev-orchestrator/server.js';
import { caps, client, idle, jobBody } from './fixtures.js';

describe('dev orchestrator: HTTP surface', () => {
  let running: RunningDevOrchestrator | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('requires the bearer token on every /api/v1 route when one is set', async () => {
    const { app } = buildDevOrchestrator({ authToken: 's3cret' });
    const anon = client(app);
    for (const res of [
      await anon.register('w1'),
      await anon.sync(idle('w1')),
      await anon.call('GET', '/api/v1/jobs'),
      await anon.call('GET', '/api/v1/workers'),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
    }
    expect((await client(app, { authorization: 'Bearer wrong' }).register('w1')).status).toBe(401);
    const ok = client(app, { authorization: 'Bearer s3cret' });
    expect((await ok.register('w1')).status).toBe(200);
    expect((await ok.call('GET', '/api/v1/workers')).body.workers).toHaveLength(1);
  });

  it('answers 400 with a message naming the field on a bad payload', async () => {
    const { app } = buildDevOrchestrator();
    const c = client(app);
    const reg = await c.register('w1', { ...caps(), has_gpu: 'yes' } as never);
    expect(reg.status).toBe(400);
    expect(reg.body.message).toBe('invalid register request: capabilities.has_gpu must be boolean');

    await c.register('w1');
    const sync = await c.sync(idle('w1', { hardware_stats: { cpu_percent: 1, ram_percent: 1 } }));
    expect(sync.status).toBe(400);
    expect(sync.body.message).toBe('invalid sync request: hardware_stats.is_busy is required');

    const job = await c.enqueue({ ...jobBody(), outputs: [] });
    expect(job.status).toBe(400);
    expect(String(job.body.message)).toContain('outputs');

    const raw = await app.inject({
      method: 'POST',
      url: '/api/v1/workers/sync',
      headers: { 'content-type': 'application/json' },
      payload: '{"worker_id":',
    });
    expect(raw.statusCode).toBe(400);
    expect(JSON.parse(raw.body).message).toContain('not valid JSON');

    const badStatus = await c.call('GET', '/api/v1/jobs?status=DONE');
    expect(badStatus.status).toBe(400);
    expect(String(badStatus.body.message)).toContain('QUEUED');
  });

  it('rejects a duplicate job_id and lists jobs by status', async () => {
    const { app } = buildDevOrchestrator();
    const c = client(app);
    expect((await c.enqueue(jobBody({ job_id: 'j1' }))).body.job_id).toBe('j1');
    expect((await c.enqueue(jobBody({ job_id: 'j1' }))).status).toBe(409);
    await c.enqueue(jobBody({ job_id: 'j2' }));
    await c.cancel('j2');
    const queued = await c.call('GET', '/api/v1/jobs?status=queued');
    expect((queued.body.jobs as { job_id: string }[]).map((j) => j.job_id)).toEqual(['j1']);
    expect((await c.job('j2')).body).toMatchObject({ job_id: 'j2', status: 'CANCELLED' });
    expect((await c.job('j3')).status).toBe(404);
  });

  it('listens on a real port and forgets everything when restarted', async () => {
    running = await startDevOrchestrator({ host: '127.0.0.1', port: 0 });
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const post = (path: string, body: unknown) =>
      fetch(running!.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(body),
      });
    expect((await post('/api/v1/workers/register', { worker_id: 'w1', capabilities: caps() })).status).toBe(200);
    expect((await post('/api/v1/workers/sync', idle('w1'))).status).toBe(200);
    const port = running.port;
    await running.close();
    running = await startDevOrchestrator({ host: '127.0.0.1', port });
    expect((await post('/api/v1/workers/sync', idle('w1'))).status).toBe(404);
  });
});
