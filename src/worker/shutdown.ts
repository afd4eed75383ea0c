/**
 * The worker's graceful stop: take no new job, abort the running one (its signal follows the stop signal, whose
 * reason is a ShutdownError, so it ends FAILED "worker shutting down"), try to deliver that result within
 * shutdown_timeout, then close the outbox and state_dir writes and let the loop end.
 *
 * Invariant: every step runs even if an earlier one throws; a failed step is logged, and stop rejects with the first
 * failure once all steps ran (the app still closes its server, and main exits 1 saying why). Steps that wait are
 * bounded, so a hung orchestrator or disk cannot hold the exit.
 */
import type { Logger } from '../log.js';
import { ShutdownError, errorMessage } from '../errors.js';
import { raceAbort } from '../util/abortable.js';
import type { JobRunner } from './job-runner.js';
import type { Outbox } from './outbox.js';
import type { StateWrites } from './state-writes.js';
import type { WorkerStatus } from './state.js';

export interface ShutdownDeps {
  log: Logger;
  shutdownTimeoutMs: number;
  status: WorkerStatus;
  runner: JobRunner;
  outbox: Outbox;
  writes: StateWrites;
  /** The worker's stop controller: aborting it stops the loop and every job's signal. */
  stopController: AbortController;
  /** The loop's promise (undefined when start() never ran). */
  loopDone: Promise<void> | undefined;
}

export type CleanupStep = readonly [what: string, step: () => unknown];

/** Runs every step in order, whatever the others do; returns what failed. */
export async function runEveryStep(log: Logger, steps: readonly CleanupStep[]): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
      log.error({ step: what, err: errorMessage(err) }, 'shutdown step failed; going on with the others');
    }
  }
  return failures;
}

export async function shutdownWorker(deps: ShutdownDeps): Promise<void> {
  const { log, status, runner, outbox, writes } = deps;
  log.info({ previous_state: status.state }, 'shutting down: no new jobs');
  status.state = 'DRAINING';
  const running = runner.current();
  if (running) running.log.warn('aborting the running job because the worker is shutting down');
  deps.stopController.abort(new ShutdownError());
  const failures = await runEveryStep(log, [
    ['waiting for the running job to end', () => runner.whenDone()],
    [
      'delivering the last result',
      async () => {
        if (!running || !outbox.has(running.id)) return;
        const delivered = await raceAbort(
          outbox.deliver(running.id),
          AbortSignal.timeout(deps.shutdownTimeoutMs),
        ).catch(() => false);
        if (!delivered)
          log.warn({ job_id: running.id }, 'result kept in the outbox; it is delivered at the next start');
      },
    ],
    ['closing the outbox', () => outbox.close()],
    // Let queued writes (the removal of a result just delivered) land; a failing disk only gets a second.
    ['letting state_dir writes land', () => raceAbort(writes.idle(), AbortSignal.timeout(1000)).catch(() => undefined)],
    ['closing state_dir writes', () => writes.close()],
    // The loop may be inside a sync call that hangs until request_timeout; do not let it hold the exit.
    [
      'waiting for the loop to end',
      () => raceAbort(deps.loopDone ?? Promise.resolve(), AbortSignal.timeout(1000)).catch(() => undefined),
    ],
  ]);
  status.state = 'STOPPED';
  log.info('worker stopped');
  if (failures.length > 0) throw failures[0];
}
