/**
 * Limits on what the orchestrator (or whatever answers at its URL) can make the worker do: an answer dripped a byte at
 * a time ends at the total deadline (request_timeout), not at "idle for request_timeout"; an answer larger than about
 * 1 MiB is cut off while it streams (the connection is closed, memory stays low) and refused with a clear error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createOrchestratorClient, MAX_ANSWER_BYTES } from '../../../src/orchestrator/client.js';
import { ProtocolError, TransientOrchestratorError } from '../../../src/errors.js';
import { isRetryable } from '../../../src/orchestrator/retry.js';

let server: http.Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
});

async function serve(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const syncBody = {
  status: 'IDLE' as const,
  hardware_stats: { cpu_percent: 1, ram_percent: 1, is_busy: false },
  current_job_id: '',
};

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('orchestrator client: limits on answers', () => {
  it('ends an answer dripped one byte every 100 ms at the total deadline (request_timeout), not much later', async () => {
    let sending: NodeJS.Timeout | undefined;
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const text = `"ack":true,"pad":"${' '.repeat(200)}"}`;
        let i = 0;
        sending = setInterval(() => {
          if (i >= text.length || res.destroyed) return clearInterval(sending);
          res.write(text[i++]!);
        }, 100);
        res.on('close', () => clearInterval(sending));
      });
    });
    const c = createOrchestratorClient({ baseUrl: url, workerId: 'w1', timeoutMs: 1000 });
    const t0 = Date.now();
    const err = await errorOf(c.sync(syncBody));
    const took = Date.now() - t0;
    clearInterval(sending);
    expect(err).toBeInstanceOf(TransientOrchestratorError);
    expect(err.message).toMatch(/timed out after 1000 ms/);
    expect(took).toBeGreaterThanOrEqual(900);
    // Loose upper bound for a loaded CI machine; before the total deadline this took 23 s.
    expect(took).toBeLessThan(3000);
  });

  for (const withLength of [false, true]) {
    it(`cuts off a 50 MB answer ${withLength ? 'with Content-Length' : 'sent chunked'} at about 1 MiB: clear error, connection closed, memory low`, async () => {
      const total = 50 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let written = 0;
      let closedAt: number | undefined;
      const url = await serve((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, {
            'content-type': 'application/json',
            ...(withLength ? { 'content-length': String(total) } : {}),
          });
          res.on('close', () => (closedAt ??= written));
          const pump = () => {
            while (written < total && !res.destroyed) {
              written += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            if (!res.destroyed) res.end();
          };
          pump();
        });
      });
      const c = createOrchestratorClient({ baseUrl: url, workerId: 'w1', timeoutMs: 20_000 });
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const err = await errorOf(c.sync(syncBody));
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toBe(
        `the orchestrator's sync answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; refused (is orchestrator_url the orchestrator's address?)`,
      );
      // A finalize answered this way is retried, never dropped.
      expect(isRetryable(err)).toBe(true);
      // The worker closed the connection long before the 50 MB were sent (socket buffers hold a few MB at most).
      await expect.poll(() => closedAt, { timeout: 5000 }).toBeDefined();
      expect(closedAt!).toBeLessThan(16 * 1024 * 1024);
      expect(peak - before).toBeLessThan(30 * 1024 * 1024);
    });
  }

  it('counts the decompressed size: a 50 MB answer gzipped to a few KB is refused too', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(bomb);
      });
    });
    const c = createOrchestratorClient({ baseUrl: url, workerId: 'w1', timeoutMs: 20_000 });
    const err = await errorOf(c.sync(syncBody));
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/larger than 1 MiB/);
  });

  it('accepts an answer just under the cap', async () => {
    const pad = ' '.repeat(MAX_ANSWER_BYTES - 100);
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"ack":true${pad}}`);
      });
    });
    const c = createOrchestratorClient({ baseUrl: url, workerId: 'w1', timeoutMs: 5000 });
    await expect(c.sync(syncBody)).resolves.toEqual({ ack: true });
  });
});
