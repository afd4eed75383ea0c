/** The one decision of a job's outcome, from the executor's result and the class of its signal's abort reason. */
import { describe, expect, it } from 'vitest';
import {
  JobCancelledByOrchestratorError,
  JobNoLongerOursError,
  MediaError,
  ShutdownError,
} from '../../../src/errors.js';
import { decideOutcome, type ExecutorSettled } from '../../../src/worker/job-outcome.js';

const aborted = (reason: unknown) => AbortSignal.abort(reason);
const live = new AbortController().signal;
const ok: ExecutorSettled = { ok: true, value: { manifestUrl: '/out/master.m3u8', metrics: { transcode_time_ms: 3 } } };
const threw = (error: unknown): ExecutorSettled => ({ ok: false, error });

describe('decideOutcome', () => {
  it('COMPLETED when the executor resolved, with the lifecycle total time', () => {
    expect(decideOutcome(live, ok, 42)).toEqual({
      outcome: 'completed',
      payload: {
        status: 'COMPLETED',
        manifest_url: '/out/master.m3u8',
        metrics: { transcode_time_ms: 3, total_time_ms: 42 },
      },
    });
  });

  it("FAILED with the executor's message when nothing aborted the job", () => {
    expect(decideOutcome(live, threw(new MediaError('no video stream')), 7)).toEqual({
      outcome: 'failed',
      payload: { status: 'FAILED', error_msg: 'no video stream', metrics: { total_time_ms: 7 } },
      reason: 'no video stream',
    });
  });

  it('FAILED "worker shutting down" (counted cancelled) when shutdown aborted it', () => {
    const end = decideOutcome(aborted(new ShutdownError()), threw(new Error('ffmpeg killed')), 9);
    expect(end.outcome).toBe('cancelled');
    expect(end.payload).toEqual({ status: 'FAILED', error_msg: 'worker shutting down', metrics: { total_time_ms: 9 } });
  });

  it('a job that completed as shutdown began stays COMPLETED', () => {
    expect(decideOutcome(aborted(new ShutdownError()), ok, 1).outcome).toBe('completed');
  });

  it('nothing to finalize when the job is no longer ours, even if the executor resolved', () => {
    for (const reason of [new JobNoLongerOursError(), new JobCancelledByOrchestratorError()]) {
      expect(decideOutcome(aborted(reason), ok, 1)).toEqual({ outcome: 'cancelled', reason: reason.message });
      expect(decideOutcome(aborted(reason), threw(new Error('x')), 1).payload).toBeUndefined();
    }
  });
});
