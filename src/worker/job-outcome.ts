/**
 * How a job that ran ends: the one decision between COMPLETED, FAILED and "nothing to finalize", made from what the
 * executor returned and WHY the job's signal was aborted (the reason's class, src/errors.ts), never from flags kept
 * beside it.
 *
 *   signal's reason            executor            outcome     result finalized
 *   JobNoLongerOursError       anything            cancelled   none (the orchestrator moved on)
 *   none, or ShutdownError     resolved            completed   COMPLETED (a job done is done, even at shutdown)
 *   ShutdownError              threw               cancelled   FAILED with the reason ("worker shutting down")
 *   none                       threw               failed      FAILED with the executor's error message
 * A FAILED result whose error kept finished segments (job/resume.ts) also says so, in error_msg and metrics.resume.
 */
import { JobNoLongerOursError, errorMessage } from '../errors.js';
import { resumableMetrics, resumableNote, resumableOf, type JobSuccess } from '../job/contract.js';
import type { OutboxPayload } from './outbox.js';
import type { JobOutcomeKind } from './state.js';

export type ExecutorSettled = { ok: true; value: JobSuccess } | { ok: false; error: unknown };

export interface JobEnd {
  outcome: JobOutcomeKind;
  /** The result to finalize; absent when the job is not ours any more. */
  payload?: OutboxPayload;
  /** Human text for the log: the error or the abort reason. */
  reason?: string;
}

export function decideOutcome(signal: AbortSignal, settled: ExecutorSettled, totalTimeMs: number): JobEnd {
  const abortedBy: unknown = signal.aborted ? signal.reason : undefined;
  if (abortedBy instanceof JobNoLongerOursError)
    return { outcome: 'cancelled', reason: settled.ok ? errorMessage(abortedBy) : errorMessage(settled.error) };
  if (settled.ok) {
    const { manifestUrl, metrics } = settled.value;
    return {
      outcome: 'completed',
      payload: { status: 'COMPLETED', manifest_url: manifestUrl, metrics: { ...metrics, total_time_ms: totalTimeMs } },
    };
  }
  // A run that stopped early may have kept its finished segments (job/resume.ts): say so, for a re-queue here.
  const resumable = resumableOf(settled.error);
  const cause = signal.aborted ? errorMessage(abortedBy) : errorMessage(settled.error);
  const message = resumable ? `${cause} (${resumableNote(resumable)})` : cause;
  return {
    outcome: signal.aborted ? 'cancelled' : 'failed',
    payload: {
      status: 'FAILED',
      error_msg: message,
      metrics: { total_time_ms: totalTimeMs, ...(resumable ? { resume: resumableMetrics(resumable) } : {}) },
    },
    reason: message,
  };
}
