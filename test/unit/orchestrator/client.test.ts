import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrchestratorClient } from '../../../src/orchestrator/client.js';
import {
  JobGoneError,
  NotRegisteredError,
  PermanentOrchestratorError,
  ProtocolError,
  TransientOrchestratorError,
} from '../../../src/errors.js';
import { retryForever } from '../../../src/orchestrator/retry.js';

/** A loopback server whose next answers are scripted; it records every request. */
let server: http.Server;
let base: string;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let answer: (req: http.IncomingMessage) => { status: number; body?: string; delayMs?: number } = () => ({
  status: 200,
  body: '{}',
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const a = answer(req);
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body ?? '');
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const caps = {
  supported_codecs: ['libx264', 'aac'],
  has_gpu: false,
  gpu_type: 'none' as const,
  max_resolution: '2160p',
};

function client(extra: Partial<Parameters<typeof createOrchestratorClient>[0]> = {}) {
  return createOrchestratorClient({ baseUrl: base, workerId: 'w1', timeoutMs: 500, ...extra });
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('orchestrator client', () => {
  it('sends the protocol payloads with X-Worker-ID and the bearer token', async () => {
    seen.length = 0;
    answer = () => ({ status: 200, body: '{"ack":true}' });
    const c = client({ authToken: 'tok' });
    await c.register(caps);
    await c.sync({
      status: 'IDLE',
      hardware_stats: { cpu_percent: 1, ram_percent: 2, is_busy: false },
      current_job_id: '',
    });
    await c.reportProgress('job/1', { status: 'PROCESSING', progress: 5, current_fps: 30, eta_sec: 9 });
    await c.finalize('job/1', { status: 'COMPLETED', manifest_url: '/a/index.m3u8', metrics: { total_time_ms: 1 } });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /api/v1/workers/register',
      'POST /api/v1/workers/sync',
      'PATCH /api/v1/jobs/job%2F1',
      'POST /api/v1/jobs/job%2F1/finalize',
    ]);
    for (const s of seen) {
      expect(s.headers['x-worker-id']).toBe('w1');
      expect(s.headers.authorization).toBe('Bearer tok');
      expect(JSON.parse(s.body).worker_id).toBe('w1');
    }
    expect(JSON.parse(seen[0]!.body)).toEqual({ worker_id: 'w1', capabilities: caps });
    expect(JSON.parse(seen[3]!.body)).toEqual({
      worker_id: 'w1',
      status: 'COMPLETED',
      manifest_url: '/a/index.m3u8',
      metrics: { total_time_ms: 1 },
    });
  });

  it('sends no Authorization header without a token', async () => {
    seen.length = 0;
    answer = () => ({ status: 200, body: '{}' });
    await client().register(caps);
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it('maps statuses to typed errors', async () => {
    const c = client();
    const sync = () =>
      c.sync({
        status: 'IDLE',
        hardware_stats: { cpu_percent: 1, ram_percent: 2, is_busy: false },
        current_job_id: '',
      });
    answer = () => ({ status: 404 });
    expect(await errorOf(sync())).toBeInstanceOf(NotRegisteredError);
    for (const status of [404, 409, 410]) {
      answer = () => ({ status, body: '{"message":"gone"}' });
      const err = await errorOf(
        c.reportProgress('j', { status: 'PROCESSING', progress: 1, current_fps: 1, eta_sec: 1 }),
      );
      expect(err).toBeInstanceOf(JobGoneError);
      expect(
        await errorOf(c.finalize('j', { status: 'FAILED', error_msg: 'x', metrics: { total_time_ms: 1 } })),
      ).toBeInstanceOf(JobGoneError);
    }
    for (const status of [500, 502, 503, 429]) {
      answer = () => ({ status });
      expect(await errorOf(sync())).toBeInstanceOf(TransientOrchestratorError);
    }
    answer = () => ({ status: 401, body: '{"message":"bad token"}' });
    const auth = (await errorOf(c.register(caps))) as PermanentOrchestratorError;
    expect(auth).toBeInstanceOf(PermanentOrchestratorError);
    expect(auth.isAuth).toBe(true);
    expect(auth.message).toBe(
      'orchestrator refused register with HTTP 401: check auth_token (WORKER_AUTH_TOKEN): bad token',
    );
    answer = () => ({ status: 400, body: '{"message":"bad payload"}' });
    const bad = (await errorOf(c.register(caps))) as PermanentOrchestratorError;
    expect(bad.isAuth).toBe(false);
  });

  it('treats timeouts and refused connections as transient', async () => {
    answer = () => ({ status: 200, body: '{}', delayMs: 2000 });
    const err = (await errorOf(client({ timeoutMs: 100 }).register(caps))) as Error;
    expect(err).toBeInstanceOf(TransientOrchestratorError);
    expect(err.message).toMatch(/timed out after 100 ms/);
    const refused = createOrchestratorClient({ baseUrl: 'http://127.0.0.1:1', workerId: 'w', timeoutMs: 500 });
    const err2 = (await errorOf(refused.register(caps))) as Error;
    expect(err2).toBeInstanceOf(TransientOrchestratorError);
    expect(err2.message).toMatch(/unreachable.*ECONNREFUSED/);
  });

  it('names the orchestrator without its credentials when unreachable, and keeps no request (with its token) as cause', async () => {
    const c = createOrchestratorClient({
      baseUrl: 'http://admin:pw-S3cret@127.0.0.1:1',
      workerId: 'w',
      timeoutMs: 500,
      authToken: 'tok-S3cret',
    });
    const err = (await errorOf(c.register(caps))) as Error;
    expect(err).toBeInstanceOf(TransientOrchestratorError);
    expect(err.message).toBe('orchestrator unreachable at http://[redacted]@127.0.0.1:1 (register): ECONNREFUSED');
    expect(err.cause).toBeUndefined();
  });

  it('rejects malformed answers with a clear message instead of crashing', async () => {
    const c = client();
    const sync = () =>
      c.sync({
        status: 'IDLE',
        hardware_stats: { cpu_percent: 1, ram_percent: 2, is_busy: false },
        current_job_id: '',
      });
    answer = () => ({ status: 200, body: '{"ack":"yes"}' });
    const err = (await errorOf(sync())) as Error;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toBe("the orchestrator's sync answer does not match the protocol: ack must be boolean");
    answer = () => ({ status: 200, body: 'not json at all' });
    expect(await errorOf(sync())).toBeInstanceOf(ProtocolError);
    answer = () => ({ status: 200, body: '' });
    await expect(sync()).resolves.toEqual({});
  });

  it('takes any 2xx as the acknowledgement of register, progress and finalize, whatever the body', async () => {
    const c = client();
    for (const a of [
      { status: 200, body: 'OK' },
      { status: 201, body: '' },
      { status: 204 },
      { status: 202, body: '[1]' },
    ]) {
      answer = () => a;
      await expect(c.register(caps)).resolves.toBeUndefined();
      await expect(
        c.reportProgress('j1', { status: 'PROCESSING', progress: 1, current_fps: 1, eta_sec: 1 }),
      ).resolves.toBeUndefined();
      await expect(
        c.finalize('j1', { status: 'COMPLETED', manifest_url: '/a/index.m3u8', metrics: { total_time_ms: 1 } }),
      ).resolves.toBeUndefined();
    }
  });
});

describe('retryForever', () => {
  it('retries transient failures with backoff and stops on job-gone', async () => {
    let calls = 0;
    const value = await retryForever(
      async () => {
        calls++;
        if (calls < 4) throw new TransientOrchestratorError('down');
        return 'ok';
      },
      { startDelayMs: 1, maxDelayMs: 5 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(4);
    calls = 0;
    const gone = await errorOf(
      retryForever(
        async () => {
          calls++;
          throw new JobGoneError('j', 410);
        },
        { startDelayMs: 1, maxDelayMs: 5 },
      ),
    );
    expect(gone).toBeInstanceOf(JobGoneError);
    expect(calls).toBe(1);
  });
});
