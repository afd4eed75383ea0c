/**
 * The four orchestrator calls over HTTP(S). What an answer means is decided in outcome.ts; this module owns the
 * transport and its limits:
 * - no redirect is ever followed (a 3xx is an error, never an acknowledgement);
 * - every request ends within request_timeout in total, and is also abandoned after request_timeout of silence;
 * - an answer larger than MAX_ANSWER_BYTES is cut off while it streams;
 * - ca_file adds to the certificate authorities Node trusts (trusted-cas.ts), it does not replace them.
 */
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
import { createTransport } from './transport.js';

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
  // The transport (transport.ts) keeps the limits above: no redirect, total and idle deadline, answer size cap,
  // keep-alive sockets, credentials in the URL as Basic authentication. Node's http never reads a proxy from the
  // environment, so one cannot hijack a LAN call.
  const send = createTransport({
    baseUrl: opts.baseUrl,
    headers,
    timeoutMs: opts.timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
    ca,
  });

  async function call<T extends TSchema>(
    kind: CallKind,
    method: 'POST' | 'PATCH',
    url: string,
    body: unknown,
    schema: T,
    jobId?: string,
  ) {
    let res;
    try {
      res = await send(method, url, body);
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
        'POST',
        '/api/v1/workers/register',
        { worker_id: opts.workerId, capabilities },
        RegisterResponse,
      );
    },
    async sync(body) {
      return call('sync', 'POST', '/api/v1/workers/sync', { worker_id: opts.workerId, ...body }, SyncResponse);
    },
    async reportProgress(jobId, body) {
      await call('progress', 'PATCH', jobUrl(jobId), { worker_id: opts.workerId, ...body }, AnyAck, jobId);
    },
    async finalize(jobId, body) {
      await call('finalize', 'POST', `${jobUrl(jobId)}/finalize`, { worker_id: opts.workerId, ...body }, AnyAck, jobId);
    },
  };
}
