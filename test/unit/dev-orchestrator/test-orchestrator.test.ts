/** The scriptable test orchestrator (test/helpers/orchestrator.ts) that the black-box tests rely on. */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestOrchestrator, type TestOrchestrator } from '../../helpers/orchestrator.js';
import { waitFor } from '../../helpers/wait.js';
import { caps, idle, jobBody } from './fixtures.js';

let orch: TestOrchestrator | undefined;
afterEach(async () => {
  await orch?.close();
  orch = undefined;
});

async function post(o: TestOrchestrator, path: string, body: unknown, headers: Record<string, string> = {}) {
  // connection: close so a stopped orchestrator never leaves a stale keep-alive socket to this client.
  const res = await fetch(o.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}
const register = (o: TestOrchestrator) =>
  post(o, '/api/v1/workers/register', { worker_id: 'w1', capabilities: caps() }, { 'x-worker-id': 'w1' });

describe('test orchestrator', () => {
  it('records every request in order with headers and parsed body, and the answer', async () => {
    orch = await startTestOrchestrator();
    await register(orch);
    await post(orch, '/api/v1/workers/sync', idle('w1'));
    expect(orch.requests.map((r) => [r.seq, r.route, r.status])).toEqual([
      [1, 'register', 200],
      [2, 'sync', 200],
    ]);
    const reg = orch.lastRequest('register')!;
    expect(reg.headers['x-worker-id']).toBe('w1');
    expect(reg.body.capabilities.supported_codecs).toEqual(['libx264', 'aac']);
    expect(reg.responseBody).toEqual({ ack: true });
    expect(reg.faulted).toBe(false);
    expect(orch.lastSeq).toBe(2);
    await post(orch, '/api/v1/workers/sync', idle('w1'));
    const gaps = orch.gaps('sync');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toBeGreaterThanOrEqual(0);
    const next = orch.waitForRequest('sync', { afterSeq: orch.lastSeq, timeoutMs: 2000 });
    await post(orch, '/api/v1/workers/sync', idle('w1'));
    expect((await next).seq).toBe(4);
  });

  it('injects N failures on a route without touching the state, then lets requests through', async () => {
    orch = await startTestOrchestrator();
    orch.fail('register', 2, 503);
    expect((await register(orch)).status).toBe(503);
    expect((await register(orch)).status).toBe(503);
    expect(orch.workers()).toHaveLength(0);
    expect((await register(orch)).status).toBe(200);
    expect(orch.workers()).toHaveLength(1);
    expect(orch.requestsTo('register').map((r) => r.faulted)).toEqual([true, true, false]);
  });

  it('hooks can answer malformed JSON, drop the connection, or step aside', async () => {
    orch = await startTestOrchestrator();
    await register(orch);
    let n = 0;
    const remove = orch.hook('sync', () => {
      n += 1;
      if (n === 1) return { status: 200, raw: '{"ack": tru' };
      if (n === 2) return { destroy: true };
      return undefined;
    });
    expect(await post(orch, '/api/v1/workers/sync', idle('w1'))).toEqual({ status: 200, text: '{"ack": tru' });
    await expect(post(orch, '/api/v1/workers/sync', idle('w1'))).rejects.toThrow();
    expect((await post(orch, '/api/v1/workers/sync', idle('w1'))).status).toBe(200);
    remove();
    expect(orch.requestsTo('sync')).toHaveLength(3);
  });

  it('can hold an answer past a client timeout, and still stops at once', async () => {
    orch = await startTestOrchestrator();
    orch.failWith('register', 1, { delayMs: 30_000, status: 200, body: { ack: true } });
    const started = Date.now();
    await expect(
      fetch(orch.url + '/api/v1/workers/register', { method: 'POST', signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    await orch.waitForRequest('register');
    await orch.stop();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reset() forgets everything: the next sync answers 404', async () => {
    orch = await startTestOrchestrator();
    await register(orch);
    const job = await orch.enqueue(jobBody());
    expect(orch.job(job.job_id)?.status).toBe('QUEUED');
    orch.reset();
    expect((await post(orch, '/api/v1/workers/sync', idle('w1'))).status).toBe(404);
    expect(orch.job(job.job_id)).toBeUndefined();
  });

  it('stop() takes it down and start() brings it back on the same port with its state', async () => {
    orch = await startTestOrchestrator();
    const port = orch.port;
    await register(orch);
    await orch.stop();
    expect(orch.running).toBe(false);
    await expect(post(orch, '/api/v1/workers/sync', idle('w1'))).rejects.toThrow();
    await orch.start();
    expect(orch.port).toBe(port);
    const res = await post(orch, '/api/v1/workers/sync', idle('w1'));
    expect(res.status).toBe(200);
  });

  it('assigns through the front and waits for a job state', async () => {
    orch = await startTestOrchestrator({ authToken: 'tok' });
    const auth = { authorization: 'Bearer tok' };
    expect((await register(orch)).status).toBe(401);
    await post(orch, '/api/v1/workers/register', { worker_id: 'w1', capabilities: caps() }, auth);
    const job = await orch.enqueue(jobBody());
    const sync = await post(orch, '/api/v1/workers/sync', idle('w1'), auth);
    expect(JSON.parse(sync.text).assigned_job.job_id).toBe(job.job_id);
    const done = orch.waitForJob(job.job_id, 'COMPLETED', { timeoutMs: 2000 });
    await post(
      orch,
      `/api/v1/jobs/${job.job_id}/finalize`,
      { worker_id: 'w1', status: 'COMPLETED', manifest_url: '/m.m3u8', metrics: { total_time_ms: 1 } },
      auth,
    );
    expect((await done).manifest_url).toBe('/m.m3u8');
    const fin = await orch.waitForRequest('finalize', { where: (r) => r.status === 200 });
    expect(fin.jobId).toBe(job.job_id);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value and names what it waited for on timeout', async () => {
    let calls = 0;
    expect(await waitFor(() => (++calls >= 3 ? 'yes' : undefined), { intervalMs: 1 })).toBe('yes');
    await expect(
      waitFor(
        () => {
          throw new Error('still 0');
        },
        { timeoutMs: 50, intervalMs: 5, message: 'the counter' },
      ),
    ).rejects.toThrow('timed out after 50 ms waiting for the counter; last error: still 0');
  });
});
