/**
 * What one orchestrator call's outcome means: the answer (status, body) or the failure to get one becomes a value or a
 * typed error, so the lifecycle reasons about meaning (not registered, job gone, try later, give up) and never about
 * status codes. Every message here may reach logs, /status, /readyz and a job's error_msg: URLs in it are redacted.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import {
  JobGoneError,
  NotRegisteredError,
  OrchestratorRedirectError,
  PermanentOrchestratorError,
  ProtocolError,
  TransientOrchestratorError,
} from '../errors.js';
import { assertSchema } from '../protocol/validate.js';
import { redactUrl, redactUrlsIn } from '../util/redact.js';
import { AnswerTooLargeError, RequestTimeoutError, type Answer } from './transport.js';

export type CallKind = 'register' | 'sync' | 'progress' | 'finalize';

/** The largest answer accepted: real answers are a few hundred bytes (a sync with a job, a few KiB). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The call got no usable answer (transport.ts's typed errors, or Node's socket and TLS errors by their code). The
 * original error is deliberately not kept as `cause`: the message says all a person needs, and nothing that could
 * carry the request or its headers reaches a logger that serializes causes.
 */
export function requestError(err: unknown, kind: CallKind, shownUrl: string, timeoutMs: number): Error {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof RequestTimeoutError || e.code === 'ETIMEDOUT')
    return new TransientOrchestratorError(
      `orchestrator unreachable at ${shownUrl} (${kind}): timed out after ${timeoutMs} ms`,
    );
  if (err instanceof AnswerTooLargeError)
    return new ProtocolError(
      `the orchestrator's ${kind} answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; refused (is orchestrator_url the orchestrator's address?)`,
    );
  const why = redactUrlsIn(e.code ?? e.message ?? String(err));
  return new TransientOrchestratorError(`orchestrator unreachable at ${shownUrl} (${kind}): ${why}`);
}

/** The answer's meaning: the validated body for a 2xx, a typed error otherwise. `requestUrl` resolves a relative Location. */
export function classifyAnswer<T extends TSchema>(
  res: Answer,
  kind: CallKind,
  schema: T,
  requestUrl: string,
  jobId?: string,
): Static<T> {
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
  // A 3xx is never an acknowledgement, whatever the page it points at answers.
  if (status >= 300 && status < 400) throw redirectError(status, res.headers?.location, kind, requestUrl);
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

function redirectError(status: number, location: unknown, kind: CallKind, requestUrl: string) {
  let shown: string | undefined;
  if (typeof location === 'string' && location) {
    try {
      // Origin and path only: a login page's query string (return URLs, tickets) is nobody's business in a log.
      const u = new URL(location, requestUrl);
      const query = u.search ? '?…' : '';
      shown = redactUrl(`${u.protocol}//${u.username || u.password ? 'x@' : ''}${u.host}${u.pathname}${query}`);
    } catch {
      shown = redactUrl(location);
    }
    shown = shown.slice(0, 300);
  }
  const target = shown ? ` to ${shown}` : '';
  return new OrchestratorRedirectError(
    `orchestrator answered ${kind} with a redirect (HTTP ${status}${target}), which this worker never follows: ` +
      `set orchestrator_url to the orchestrator's own address (a redirect to a login page usually means a reverse ` +
      `proxy in front of it asks for authentication); retrying`,
    status,
    shown,
  );
}

function summarizeBody(data: unknown): string {
  if (data == null || data === '') return '';
  let text: string;
  if (typeof data === 'string') text = data;
  else if (typeof data === 'object' && data !== null && 'message' in data)
    text = String((data as { message: unknown }).message);
  else text = JSON.stringify(data);
  text = redactUrlsIn(text.replace(/\s+/g, ' ').trim());
  return text ? `: ${text.slice(0, 200)}` : '';
}
