/**
 * A redirect is never followed and never taken as an acknowledgement, on any of the four calls: a finalize answered
 * 302 to a login page that answers 200 is not "delivered", and a 307 to another host sends that host nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrchestratorClient, type OrchestratorClient } from '../../../src/orchestrator/client.js';
import { OrchestratorRedirectError } from '../../../src/errors.js';
import { isRetryable } from '../../../src/orchestrator/retry.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback server that records every request and answers with `answer`. */
async function recordingServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let orch: Awaited<ReturnType<typeof recordingServer>>;
let other: Awaited<ReturnType<typeof recordingServer>>;
let redirect: { status: number; location: string } = { status: 302, location: '/login' };

beforeAll(async () => {
  // The "other host": anything it receives is a leak. It answers like a happy orchestrator would.
  other = await recordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ack":true,"assigned_job":null}');
  });
  orch = await recordingServer((req, res) => {
    if (req.url === '/login') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><form>log in</form></html>');
      return;
    }
    res.writeHead(redirect.status, { location: redirect.location, 'content-type': 'text/html' });
    res.end('<a href="/login">moved</a>');
  });
});
afterAll(async () => {
  await orch.close();
  await other.close();
});
beforeEach(() => {
  orch.seen.length = 0;
  other.seen.length = 0;
});

const caps = { supported_codecs: ['libx264'], has_gpu: false, gpu_type: 'none' as const, max_resolution: '1080p' };
const calls: [string, (c: OrchestratorClient) => Promise<unknown>][] = [
  ['register', (c) => c.register(caps)],
  [
    'sync',
    (c) =>
      c.sync({
        status: 'IDLE',
        hardware_stats: { cpu_percent: 1, ram_percent: 1, is_busy: false },
        current_job_id: '',
      }),
  ],
  ['progress', (c) => c.reportProgress('j1', { status: 'PROCESSING', progress: 5, current_fps: 1, eta_sec: 1 })],
  [
    'finalize',
    (c) => c.finalize('j1', { status: 'COMPLETED', manifest_url: '/out/index.m3u8', metrics: { total_time_ms: 1 } }),
  ],
];

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, but the call was taken as acknowledged');
}

describe('orchestrator client: redirects', () => {
  for (const [kind, call] of calls) {
    it(`${kind}: a 302 to a login page that answers 200 is an error naming the redirect, and is not followed`, async () => {
      redirect = { status: 302, location: '/login' };
      const c = createOrchestratorClient({ baseUrl: orch.url, workerId: 'w1', timeoutMs: 2000, authToken: 'tok-1' });
      const err = await errorOf(call(c));
      expect(err).toBeInstanceOf(OrchestratorRedirectError);
      expect(err.message).toContain(`HTTP 302`);
      expect(err.message).toContain(`${orch.url}/login`);
      expect(err.message).toMatch(/reverse proxy/);
      // Retried (a finalize stays in the outbox), never dropped.
      expect(isRetryable(err)).toBe(true);
      expect(orch.seen.map((s) => s.url)).not.toContain('/login');
      expect(orch.seen).toHaveLength(1);
    });

    it(`${kind}: a 307 to another host sends that host nothing (no body, no token) and is an error`, async () => {
      redirect = { status: 307, location: `${other.url.replace('//', '//admin:hunter22@')}/api/v1/steal` };
      const c = createOrchestratorClient({ baseUrl: orch.url, workerId: 'w1', timeoutMs: 2000, authToken: 'tok-1' });
      const err = await errorOf(call(c));
      expect(err).toBeInstanceOf(OrchestratorRedirectError);
      expect(err.message).toContain('HTTP 307');
      // The Location is shown so a person can see where it pointed, with its credentials masked.
      expect(err.message).toContain(`${other.url.replace('//', '//[redacted]@')}/api/v1/steal`);
      expect(err.message).not.toContain('hunter22');
      expect(other.seen).toEqual([]);
    });
  }

  it('treats 301, 303 and 308 the same way', async () => {
    const c = createOrchestratorClient({ baseUrl: orch.url, workerId: 'w1', timeoutMs: 2000 });
    for (const status of [301, 303, 308]) {
      redirect = { status, location: `${other.url}/elsewhere` };
      const err = await errorOf(calls[3]![1](c));
      expect(err).toBeInstanceOf(OrchestratorRedirectError);
      expect(err.message).toContain(`HTTP ${status}`);
    }
    expect(other.seen).toEqual([]);
  });
});
