/**
 * What the transport (src/orchestrator/transport.ts, Node's http in place of axios since issue 13) keeps of axios'
 * behaviour beyond client*.test.ts: URL credentials as Basic authentication instead of the bearer token, a path prefix
 * in the base URL, every compression an orchestrator may answer with, a BOM, text answers, a declared oversize answer
 * refused before its body, and one keep-alive socket for many calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerTooLargeError, createTransport } from '../../../src/orchestrator/transport.js';

let server: http.Server;
let port: number;
const seen: { url: string; headers: http.IncomingHttpHeaders; body: string; socket: unknown }[] = [];
let answer: () => { headers?: http.OutgoingHttpHeaders; body: Buffer | string } = () => ({ body: '{}' });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body, socket: req.socket });
      const a = answer();
      res.writeHead(200, a.headers ?? { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const transport = (base = `http://127.0.0.1:${port}`, headers: Record<string, string> = {}, max = 1024 * 1024) =>
  createTransport({ baseUrl: base, headers, timeoutMs: 2000, maxAnswerBytes: max });

describe('orchestrator transport', () => {
  it('sends URL credentials (percent-decoded) as Basic authentication in place of the bearer token', async () => {
    seen.length = 0;
    const send = transport(`http://us%40er:p%3Ass@127.0.0.1:${port}/prefix/`, { Authorization: 'Bearer tok' });
    await send('POST', '/api/v1/workers/sync', { a: 1 });
    expect(seen[0]!.url).toBe('/prefix/api/v1/workers/sync');
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]!.body)).toEqual({ a: 1 });
  });

  it('decompresses gzip, zlib and raw deflate, and br answers; strips a BOM; gives text that is not JSON as text', async () => {
    const json = '{"ack":true}';
    const cases: [string, Buffer][] = [
      ['gzip', zlib.gzipSync(json)],
      ['deflate', zlib.deflateSync(json)],
      ['deflate', zlib.deflateRawSync(json)],
      ['br', zlib.brotliCompressSync(json)],
    ];
    const send = transport();
    for (const [encoding, body] of cases) {
      answer = () => ({ headers: { 'content-encoding': encoding }, body });
      expect((await send('POST', '/x', {})).data).toEqual({ ack: true });
    }
    answer = () => ({ body: `\ufeff${json}` });
    expect((await send('POST', '/x', {})).data).toEqual({ ack: true });
    answer = () => ({ headers: { 'content-type': 'text/plain' }, body: 'OK' });
    expect((await send('PATCH', '/x', {})).data).toBe('OK');
    answer = () => ({ body: '' });
    expect((await send('POST', '/x', {})).data).toBe('');
  });

  it('refuses an answer over the cap (declared in Content-Length)', async () => {
    answer = () => ({ body: 'x'.repeat(2000) });
    await expect(transport(undefined, {}, 1000)('POST', '/x', {})).rejects.toBeInstanceOf(AnswerTooLargeError);
  });

  it('reuses one keep-alive connection for calls one after another', async () => {
    seen.length = 0;
    answer = () => ({ body: '{}' });
    const send = transport();
    for (let i = 0; i < 3; i++) await send('POST', '/x', {});
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
  });
});
