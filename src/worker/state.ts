/**
 * What the worker is doing, as /readyz and /status show it. The other parts of the worker write these fields (the
 * loop the registration and sync results, the job runner the running job and the counts); this file only keeps them
 * and turns them into the two answers, so what a person sees is decided in one place.
 */
import { SHUTDOWN_MESSAGE } from '../errors.js';
import type { Config } from '../config.js';
import type { ProbeReport } from '../capabilities/types.js';
import { redactUrl } from '../util/redact.js';
import type { JobProgress } from '../job/contract.js';

/**
 * STARTING     probing this host's capabilities (health server already up)
 * UNAVAILABLE  ffmpeg/ffprobe missing or broken: not registered; the probe is retried; /readyz says why
 * REGISTERING  capabilities known; registering, retrying while the orchestrator is unreachable
 * IDLE         registered and syncing; ready for a job
 * BUSY         a job runs; syncs go on as heartbeats
 * DRAINING     shutdown requested: no new job, the running one is aborted and its result delivered if possible
 * STOPPED      nothing runs any more
 */
export type WorkerState = 'STARTING' | 'UNAVAILABLE' | 'REGISTERING' | 'IDLE' | 'BUSY' | 'DRAINING' | 'STOPPED';

/** The running job as /status shows it. */
export interface CurrentJobView {
  id: string;
  startedAt: number;
  progress: JobProgress;
  /** Why and since when (epoch ms) its ffmpeg is paused (worker/job-pauser.ts), while it is. */
  pause?: { reason: string; since: number };
}

export type JobOutcomeKind = 'completed' | 'failed' | 'cancelled';

export interface WorkerStateDeps {
  config: Config;
  version: string;
  /** Why state_dir cannot be written now (StateWrites.problem). */
  stateDirProblem: () => string | undefined;
  currentJob: () => CurrentJobView | undefined;
}

export class WorkerStatus {
  state: WorkerState = 'STARTING';
  /** Why the worker is not ready, while it is STARTING, UNAVAILABLE or REGISTERING. */
  notReadyReason = 'probing capabilities';
  probe?: ProbeReport;
  registeredAt?: number;
  lastSync?: { at: number; result: string; error?: string };
  /** Why the running job's commit waits for state_dir (its journal cannot be written), while it does. */
  commitWaitProblem?: string;
  readonly counts: Record<JobOutcomeKind, number> = { completed: 0, failed: 0, cancelled: 0 };

  constructor(private readonly deps: WorkerStateDeps) {}

  /** state_dir's problem, or the running commit's: either way no new job can be recorded safely. */
  stateProblem(): string | undefined {
    return this.deps.stateDirProblem() ?? this.commitWaitProblem;
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.state === 'IDLE' || this.state === 'BUSY') {
      const problem = this.stateProblem();
      return problem ? { ready: false, reason: problem } : { ready: true };
    }
    if (this.state === 'DRAINING' || this.state === 'STOPPED') return { ready: false, reason: SHUTDOWN_MESSAGE };
    return { ready: false, reason: this.notReadyReason };
  }

  /** The /status document. */
  snapshot() {
    const { config, version } = this.deps;
    const c = this.deps.currentJob();
    return {
      worker_id: config.worker_id,
      version,
      state: this.state,
      ready: this.readiness(),
      orchestrator_url: redactUrl(config.orchestrator_url),
      registered: this.registeredAt !== undefined,
      registered_at: this.registeredAt ? new Date(this.registeredAt).toISOString() : null,
      last_sync: this.lastSync
        ? { at: new Date(this.lastSync.at).toISOString(), result: this.lastSync.result, error: this.lastSync.error }
        : null,
      current_job: c
        ? {
            job_id: c.id,
            started_at: new Date(c.startedAt).toISOString(),
            progress: c.progress.progress,
            current_fps: c.progress.currentFps,
            eta_sec: c.progress.etaSec,
          }
        : null,
      // Stepped aside for the owner of the host: why, and since when.
      paused: c?.pause ? { reason: c.pause.reason, since: new Date(c.pause.since).toISOString() } : null,
      jobs: { ...this.counts },
      state_dir_problem: this.stateProblem() ?? null,
      capabilities: this.probe?.capabilities ?? null,
      encoders: this.probe?.encoders.map((e) => ({ name: e.name, ok: e.ok, reason: e.reason })) ?? [],
      tone_mappers: this.probe?.toneMappers?.map((t) => ({ name: t.name, ok: t.ok, reason: t.reason })) ?? [],
    };
  }
}
