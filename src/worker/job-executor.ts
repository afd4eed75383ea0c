/**
 * The contract between the job lifecycle (src/worker) and the transcoding pipeline (src/transcode + src/storage).
 *
 * The lifecycle owns: when a job starts, progress reporting to the orchestrator, cancellation, finalize delivery,
 * crash records. The executor owns: validating the job, probing the source, ffmpeg, staging, verification and the
 * commit. It resolves with the result on success and throws a typed WorkerError (see src/errors.ts) on failure;
 * its `message` becomes the human error_msg. It MUST remove its staging folder on every outcome and MUST NOT commit
 * anything once `signal` is aborted (it then throws JobCancelledError).
 */
import type { Job, FinalizeMetrics } from '../protocol/schemas.js';
import type { Logger } from '../log.js';

export interface JobProgress {
  /** 0..100, non-decreasing over one job. */
  progress: number;
  currentFps: number;
  etaSec: number;
}

export interface JobContext {
  signal: AbortSignal;
  /** Called as often as the pipeline likes; the lifecycle throttles what it sends. */
  onProgress(p: JobProgress): void;
  /**
   * Told the pid of each ffmpeg the job starts. The lifecycle records it so that, after a crash that took the worker
   * down without its children (SIGKILL, OOM killer), the next start can end that orphan before cleaning its staging.
   */
  onProcess?(pid: number): void;
  /**
   * Told why the job is waiting for state_dir (the commit cannot record its journal: a full or read-only disk), and
   * undefined once it goes on: the lifecycle shows it in /readyz and the state_dir metric.
   */
  onStateDirProblem?(problem: string | undefined): void;
  log: Logger;
}

export interface JobSuccess {
  /** "/" + the master playlist's path relative to the NAS root. */
  manifestUrl: string;
  /** Everything the pipeline measured (transcode/commit times, encoders used, output bytes); total_time_ms is the lifecycle's. */
  metrics: Omit<FinalizeMetrics, 'total_time_ms'>;
}

export type JobExecutor = (job: Job, ctx: JobContext) => Promise<JobSuccess>;
