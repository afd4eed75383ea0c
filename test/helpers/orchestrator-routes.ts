/**
 * Types and request classification of the test orchestrator (test/helpers/orchestrator.ts).
 * The API is shared between engineers: only ever ADD, never change what exists.
 */
import type http from 'node:http';

export type ProtocolRoute = 'register' | 'sync' | 'progress' | 'finalize';
export type OperatorRoute = 'enqueue' | 'list-jobs' | 'get-job' | 'cancel' | 'workers';
export type RouteName = ProtocolRoute | OperatorRoute | 'other';

export interface RecordedRequest {
  /** 1, 2, 3... in arrival order (kept across stop/start/reset). */
  seq: number;
  /** Date.now() when the request arrived. */
  at: number;
  route: RouteName;
  method: string;
  /** Path without the query string. */
  path: string;
  url: string;
  /** The :id of progress, finalize, get-job and cancel requests. */
  jobId?: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body; undefined when empty or not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** HTTP status answered; undefined until answered, and forever for a dropped connection. */
  status?: number;
  /** Parsed JSON answer, when there was one. */
  responseBody?: unknown;
  /** True when an injected fault answered instead of the orchestrator. */
  faulted: boolean;
}

export interface FaultReply {
  /** Default 500. */
  status?: number;
  /** JSON body. Default {error: "injected", message: "injected fault: HTTP <status>"}. */
  body?: unknown;
  /** Raw text sent instead of `body` with Content-Type: application/json (e.g. malformed JSON). */
  raw?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (to exercise request timeouts). */
  delayMs?: number;
  /** Drop the connection without answering (a network error). */
  destroy?: boolean;
}

const JOB_ROUTE = /^\/api\/v1\/jobs\/([^/]+)(\/finalize|\/cancel)?$/;

export function classifyRoute(method: string, path: string): { route: RouteName; jobId?: string } {
  if (method === 'POST' && path === '/api/v1/workers/register') return { route: 'register' };
  if (method === 'POST' && path === '/api/v1/workers/sync') return { route: 'sync' };
  if (method === 'GET' && path === '/api/v1/workers') return { route: 'workers' };
  if (path === '/api/v1/jobs')
    return { route: method === 'POST' ? 'enqueue' : method === 'GET' ? 'list-jobs' : 'other' };
  const m = JOB_ROUTE.exec(path);
  if (!m) return { route: 'other' };
  const jobId = decodeURIComponent(m[1]!);
  if (m[2] === '/finalize' && method === 'POST') return { route: 'finalize', jobId };
  if (m[2] === '/cancel' && method === 'POST') return { route: 'cancel', jobId };
  if (!m[2] && method === 'PATCH') return { route: 'progress', jobId };
  if (!m[2] && method === 'GET') return { route: 'get-job', jobId };
  return { route: 'other', jobId };
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
