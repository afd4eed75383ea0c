/**
 * The four orchestrator calls. HTTP outcomes become typed errors here, so the lifecycle reasons about meaning
 * (not registered, job gone, try later, give up) and never about status codes.
 */
import axios, { type AxiosInstance, type AxiosError } from 'axios';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import {
  ConfigError,
  JobGoneError,
  NotRegisteredError,
  PermanentOrchestratorError,
  ProtocolError,
  TransientOrchestratorError,
} from '../errors.js';
import {
  AnyAck,
  RegisterResponse,
  SyncResponse,
  type Capabilities,
  type FinalizeRequest,
  type ProgressRequest,
  type SyncRequest,
} from '../protocol/schemas.js';
import { assertSchema } from '../protocol/validate.js';

export interface OrchestratorClientOptions {
  baseUrl: string;
  workerId: string;
  authToken?: string;
  timeoutMs: number;
  /** PEM bundle of extra CAs for an https:// orchestrator. */
  caFile?: string;
}

export interface OrchestratorClient {
  register(capabilities: Capabilities): Promise<void>;
  sync(body: Omit<SyncRequest, 'worker_id'>): Promise<SyncResponse>;
  reportProgress(jobId: string, body: Omit<ProgressRequest, 'worker_id'>): Promise<void>;
  finalize(jobId: string, body: Omit<FinalizeRequest, 'worker_id'>): Promise<void>;
}

type CallKind = 'register' | 'sync' | 'progress' | 'finalize';

export function createOrchestratorClient(opts: OrchestratorClientOptions): OrchestratorClient {
  let ca: Buffer | undefined;
  if (opts.caFile) {
    try {
      ca = readFileSync(opts.caFile);
    } catch (err) {
      throw new ConfigError(
        `invalid ca_file = "${opts.caFile}": cannot read it (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const headers: Record<string, string> = { 'X-Worker-ID': opts.workerId, 'User-Agent': 'transcode-worker' };
  if (opts.authToken) headers.Authorization = `Bearer ${opts.authToken}`;
  const http_: AxiosInstance = axios.create({
    baseURL: opts.baseUrl.replace(/\/+$/, ''),
    timeout: opts.timeoutMs,
    headers,
    // Keep-alive: the sync loop talks to the same host every few seconds; reusing the socket is cheaper for both sides.
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4, ca }),
    // Status handling is ours (typed errors below), and a proxy from the environment must not hijack a LAN call.
    validateStatus: () => true,
    proxy: false,
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
      res = await http_.request({ method, url, data: body });
    } catch (err) {
      const e = err as AxiosError;
      const why =
        e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED'
          ? `timed out after ${opts.timeoutMs} ms`
          : (e.code ?? e.message);
      throw new TransientOrchestratorError(`orchestrator unreachable at ${opts.baseUrl} (${kind}): ${why}`, undefined, {
        cause: err,
      });
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      const data = res.data === '' || res.data == null ? {} : res.data;
      if (typeof data !== 'object' || Array.isArray(data)) {
        // Only the sync answer carries anything; for the others the 2xx status is the acknowledgement, and a
        // plain-text "OK" from a minimal orchestrator must not turn a delivered result into a retry loop.
        if (kind !== 'sync') return assertSchema(schema, {}, `the orchestrator's ${kind} answer`);
        throw new ProtocolError(`${kind} answer is not a JSON object`);
      }
      return assertSchema(schema, data, `the orchestrator's ${kind} answer`);
    }
    const detail = summarizeBody(res.data);
    if (status === 404 && kind === 'sync') throw new NotRegisteredError();
    if (jobId && (status === 404 || status === 409 || status === 410)) throw new JobGoneError(jobId, status);
    if (status >= 500 || status === 429 || status === 408)
      throw new TransientOrchestratorError(`orchestrator answered HTTP ${status} to ${kind}${detail}`, status);
    if (status === 401 || status === 403)
      throw new PermanentOrchestratorError(
        `orchestrator refused ${kind} with HTTP ${status}: check auth_token (WORKER_AUTH_TOKEN)${detail}`,
        status,
      );
    throw new PermanentOrchestratorError(`orchestrator rejected ${kind} with HTTP ${status}${detail}`, status);
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

function summarizeBody(data: unknown): string {
  if (data == null || data === '') return '';
  let text: string;
  if (typeof data === 'string') text = data;
  else if (typeof data === 'object' && data !== null && 'message' in data)
    text = String((data as { message: unknown }).message);
  else text = JSON.stringify(data);
  text = text.replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}
