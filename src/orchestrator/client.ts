/**
 * The four orchestrator calls over HTTP(S). What an answer means is decided in outcome.ts; this module owns the
 * transport and its limits:
 * - no redirect is ever followed (a 3xx is an error, never an acknowledgement);
 * - every request ends within request_timeout in total, and is also abandoned after request_timeout of silence;
 * - an answer larger than MAX_ANSWER_BYTES is cut off while it streams;
 * - ca_file adds to the certificate authorities Node trusts (trusted-cas.ts), it does not replace them.
 */
import axios, { type AxiosInstance } from 'axios';
import https from 'node:https';
import http from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import {
  AnyAck,
  RegisterResponse,
  SyncResponse,
  type Capabilities,
  type FinalizeRequest,
  type ProgressRequest,
  type SyncRequest,
} from '../protocol/schemas.js';
import { redactUrl } from '../util/redact.js';
import { MAX_ANSWER_BYTES, classifyAnswer, requestError, type CallKind } from './outcome.js';
import { trustedCas } from './trusted-cas.js';

export { MAX_ANSWER_BYTES };

export interface OrchestratorClientOptions {
  baseUrl: string;
  workerId: string;
  authToken?: string;
  timeoutMs: number;
  /** PEM bundle of CAs trusted for an https:// orchestrator on top of Node's defaults. */
  caFile?: string;
}

export interface OrchestratorClient {
  register(capabilities: Capabilities): Promise<void>;
  sync(body: Omit<SyncRequest, 'worker_id'>): Promise<SyncResponse>;
  reportProgress(jobId: string, body: Omit<ProgressRequest, 'worker_id'>): Promise<void>;
  finalize(jobId: string, body: Omit<FinalizeRequest, 'worker_id'>): Promise<void>;
}

export function createOrchestratorClient(opts: OrchestratorClientOptions): OrchestratorClient {
  const ca = trustedCas(opts.caFile);
  const baseURL = opts.baseUrl.replace(/\/+$/, '');
  const shownUrl = redactUrl(baseURL);
  const headers: Record<string, string> = { 'X-Worker-ID': opts.workerId, 'User-Agent': 'transcode-worker' };
  if (opts.authToken) headers.Authorization = `Bearer ${opts.authToken}`;
  const http_: AxiosInstance = axios.create({
    baseURL,
    // Idle limit (no byte for this long) and, through `signal` per request, the same bound on the whole request: an
    // answer dripped a byte at a time must not hold a sync, or the shutdown, for minutes.
    timeout: opts.timeoutMs,
    headers,
    // Keep-alive: the sync loop talks to the same host every few seconds; reusing the socket is cheaper for both sides.
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4, ca }),
    // Status handling is ours (outcome.ts), and a proxy from the environment must not hijack a LAN call.
    validateStatus: () => true,
    proxy: false,
    // Never follow a redirect: the 3xx comes back to classifyAnswer() as it is (axios then uses Node's own http/https, not
    // follow-redirects), so a result is never sent to, nor acknowledged by, whatever the Location points at.
    maxRedirects: 0,
    // Answers are a few hundred bytes; axios counts while the answer streams and closes the connection past the cap.
    maxContentLength: MAX_ANSWER_BYTES,
    transitional: { clarifyTimeoutError: true },
  });

  async function call<T extends TSchema>(
    kind: CallKind,
    method: 'post' | 'patch',
    url: string,
    body: unknown,
    schema: T,
    jobId?: string,
  ) {
    let res;
    try {
      res = await http_.request({ method, url, data: body, signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch (err) {
      throw requestError(err, kind, shownUrl, opts.timeoutMs);
    }
    return classifyAnswer(res, kind, schema, `${baseURL}${url}`, jobId);
  }

  const jobUrl = (jobId: string) => `/api/v1/jobs/${encodeURIComponent(jobId)}`;
  return {
    async register(capabilities) {
      await call(
        'register',
        'post',
        '/api/v1/workers/register',
        { worker_id: opts.workerId, capabilities },
        RegisterResponse,
      );
    },
    async sync(body) {
      return call('sync', 'post', '/api/v1/workers/sync', { worker_id: opts.workerId, ...body }, SyncResponse);
    },
    async reportProgress(jobId, body) {
      await call('progress', 'patch', jobUrl(jobId), { worker_id: opts.workerId, ...body }, AnyAck, jobId);
    },
    async finalize(jobId, body) {
      await call('finalize', 'post', `${jobUrl(jobId)}/finalize`, { worker_id: opts.workerId, ...body }, AnyAck, jobId);
    },
  };
}
