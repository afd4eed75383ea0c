/**
 * Tells the orchestrator how the running job goes: a PATCH at once (the job is PROCESSING), then every
 * progress_interval while the rounded figures change, and at every interval while the job is paused (fps 0, no ETA:
 * the orchestrator keeps hearing that the job is alive though nothing moves). One request at a time: a slow orchestrator gets fewer
 * reports, never a pile of them. A 404/409/410 answer means the job is not ours any more: the reporter says so
 * through `onGone`, which aborts the job with that reason (JobNoLongerOursError); other failures are logged and the next tick tries again.
 */
import type { Logger } from '../log.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import { JobGoneError } from '../errors.js';
import { logOrchestratorError } from './orchestrator-log.js';
import type { JobProgress } from '../job/contract.js';

export interface ProgressReporterDeps {
  client: Pick<OrchestratorClient, 'reportProgress'>;
  jobId: string;
  log: Logger;
  intervalMs: number;
  /** The job's signal: once aborted nothing more is sent. */
  signal: AbortSignal;
  /** The latest progress (read at each tick). */
  progress: () => JobProgress;
  /** True while the job is paused on purpose: the same figures are then sent again at every tick. */
  paused?: () => boolean;
  /** The orchestrator answered that the job is not ours (called at most once). */
  onGone: (err: JobGoneError) => void;
}

export interface ProgressReporter {
  /** Stops the ticks and waits for a report in flight. Never rejects. */
  stop(): Promise<void>;
}

export function startProgressReporter(deps: ProgressReporterDeps): ProgressReporter {
  let lastSent: string | undefined;
  let inFlight: Promise<void> | undefined;
  const send = async () => {
    const p = deps.progress();
    const body = {
      status: 'PROCESSING' as const,
      progress: Math.round(p.progress * 100) / 100,
      current_fps: Math.round(p.currentFps * 10) / 10,
      eta_sec: Math.round(p.etaSec),
    };
    const key = JSON.stringify(body);
    if (key === lastSent && !deps.paused?.()) return;
    try {
      await deps.client.reportProgress(deps.jobId, body);
      lastSent = key;
    } catch (err) {
      if (err instanceof JobGoneError) {
        // Once the job is aborted (by this, a sync's cancel or shutdown) its first reason stands.
        if (!deps.signal.aborted) {
          deps.log.warn({ status: err.status }, 'orchestrator says the job is no longer ours; aborting it');
          deps.onGone(err);
        }
      } else logOrchestratorError(deps.log, err, 'progress report failed');
    }
  };
  const tick = () => {
    if (inFlight || deps.signal.aborted) return;
    inFlight = send().finally(() => (inFlight = undefined));
  };
  tick();
  const timer = setInterval(tick, deps.intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
