/**
 * One JSON request to the orchestrator over Node's own http/https, on a keep-alive agent. It replaced axios (issue 13,
 * invisible when idle): per sync axios merged its config, normalised headers and ran its transform and adapter
 * layers, measured at about 1 ms of an idle worker's CPU per call on the bench machine (bench/idle-bench.mjs); the
 * sync loop needs none of that, and the limits below are a few lines each.
 *
 * What it guarantees (client.ts states it for the whole client, the tests show it):
 * - no redirect is ever followed: a 3xx comes back as an answer like any other status;
 * - the request ends within `timeoutMs` in total (one timer), and also after `timeoutMs` of socket silence;
 * - an answer larger than `maxAnswerBytes`, counted after decompression (gzip, deflate, br), is refused: the connection
 *   is closed as soon as the count passes the cap, so memory stays low whatever the peer sends;
 * - credentials in the base URL (user:password@) are sent as HTTP Basic authentication, in place of any bearer token;
 * - the answer's body is JSON when it parses as JSON, else its text ('' when empty), as axios gave it before.
 * Errors are typed (below) or Node's own (`code` ECONNREFUSED, ECONNRESET...); none carries the request or its headers.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

/** The total deadline or the silence limit passed. */
export class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

/** The answer passed the size cap (declared, received or decompressed). */
export class AnswerTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`answer larger than ${maxBytes} bytes`);
    this.name = 'AnswerTooLargeError';
  }
}

export interface TransportOptions {
  /** The orchestrator's base URL, maybe with user:password@ and a path prefix. */
  baseUrl: string;
  /** Sent with every request (X-Worker-ID, User-Agent, Authorization). */
  headers: Record<string, string>;
  timeoutMs: number;
  maxAnswerBytes: number;
  /** Certificate authorities for https (trusted-cas.ts); Node's defaults when undefined. */
  ca?: string[];
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, else the text ('' when empty). */
  data: unknown;
}

export type Transport = (method: 'POST' | 'PATCH', path: string, body: unknown) => Promise<Answer>;

const decodeSafe = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function createTransport(opts: TransportOptions): Transport {
  const base = new URL(opts.baseUrl);
  const secure = base.protocol === 'https:';
  // Keep-alive: the sync loop talks to the same host every few seconds; reusing the socket saves both sides a
  // handshake (TCP, and TLS for https) per sync.
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 4, ca: opts.ca })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const request = secure ? https.request : http.request;
  const headers: Record<string, string> = {
    Accept: 'application/json, text/plain, */*',
    'Accept-Encoding': 'gzip, deflate, br',
    'Content-Type': 'application/json',
    ...opts.headers,
  };
  if (base.username || base.password) {
    const pair = `${decodeSafe(base.username)}:${decodeSafe(base.password)}`;
    headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  const target = {
    protocol: base.protocol,
    // URL keeps an IPv6 literal's brackets; the socket wants the bare address.
    hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: base.port || undefined,
    prefix: base.pathname.replace(/\/+$/, ''),
  };
  const max = opts.maxAnswerBytes;

  return (method, path, body) =>
    new Promise<Answer>((resolve, reject) => {
      const payload = JSON.stringify(body);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        req.destroy();
        reject(err);
      };
      const req = request({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.prefix + path,
        method,
        agent,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) },
      });
      // Total deadline: an answer dripped a byte at a time must not hold a sync, or the shutdown, for minutes.
      const deadline = setTimeout(() => fail(new RequestTimeoutError(opts.timeoutMs)), opts.timeoutMs);
      req.setTimeout(opts.timeoutMs, () => fail(new RequestTimeoutError(opts.timeoutMs)));
      req.on('error', fail);
      req.on('response', (res) => {
        res.on('error', fail);
        const declared = Number(res.headers['content-length']);
        if (declared > max) return fail(new AnswerTooLargeError(max));
        const chunks: Buffer[] = [];
        let size = 0;
        // Compressed bytes count too: a compressed answer over the cap decompresses to more than the cap.
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) return fail(new AnswerTooLargeError(max));
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          let raw: Buffer;
          try {
            raw = decompress(Buffer.concat(chunks), res.headers['content-encoding'], max);
          } catch (err) {
            return fail(isTooLarge(err) ? new AnswerTooLargeError(max) : (err as Error));
          }
          settled = true;
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, data: parseBody(raw) });
        });
      });
      req.end(payload);
    });
}

/** The answer's bytes as sent before Content-Encoding; at most `max` bytes out (zlib stops and throws past it). */
function decompress(body: Buffer, encoding: string | undefined, max: number): Buffer {
  if (body.length === 0) return body;
  const options = { maxOutputLength: max };
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, options);
    case 'deflate':
      // Servers send both zlib-wrapped and raw deflate under this name; a zlib header's low nibble is 8.
      return (body[0]! & 0x0f) === 8 ? zlib.inflateSync(body, options) : zlib.inflateRawSync(body, options);
    case 'br':
      return zlib.brotliDecompressSync(body, options);
    default:
      return body;
  }
}

function isTooLarge(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
}

function parseBody(raw: Buffer): unknown {
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text) return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
