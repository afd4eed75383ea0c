/**
 * The contract between the job lifecycle (src/worker, and the run-job command) and the job's pipeline (src/job).
 *
 * The lifecycle owns: when a job starts, progress reporting to the orchestrator, cancellation, finalize delivery,
 * crash records, and what to do about hardware that failed (count it, re-test it). The executor owns: validating
 * the job, probing the source, ffmpeg, staging, verification and the commit. It resolves with the result on success
 * and throws a typed WorkerError (see src/errors.ts) on failure; its `message` becomes the human error_msg. It MUST
 * remove its staging folder on every outcome and MUST NOT commit anything once `signal` is aborted (it then throws
 * JobCancelledError).
 *
 * The pipeline reports, the lifecycle decides: it is given the capability report it plans with (`probe`), and it
 * tells which hardware families failed under it with a device error, whatever the outcome: in
 * `JobSuccess.deviceFailures` when the job was saved (the software retry), and on the thrown error otherwise
 * (read it with `deviceFailuresOf`). It never calls back into the lifecycle for either.
 */
import type { EncoderFamily, ProbeReport } from '../capabilities/types.js';
import type { Logger } from '../log.js';
import type { FinalizeMetrics, Job } from '../protocol/schemas.js';
import type { FfmpegProgress } from '../transcode/progress.js';
import type { PausableProcess } from '../exec/suspend.js';

/** Progress as the job reports it: the shape ffmpeg's progress is computed in (0..100, non-decreasing over one job). */
export type JobProgress = FfmpegProgress;

export interface JobContext {
  signal: AbortSignal;
  /**
   * The capability probe's report when the job starts: which encoders and hwaccels passed a test encode here.
   * Undefined when there is none (run-job whose probe failed): then libx264/libx265/aac are assumed.
   */
  probe?: ProbeReport;
  /** Called as often as the pipeline likes; the lifecycle throttles what it sends. */
  onProgress(p: JobProgress): void;
  /**
   * Told the pid of each ffmpeg the job starts. The lifecycle records it so that, after a crash that took the worker
   * down without its children (SIGKILL, OOM killer), the next start can end that orphan before cleaning its staging.
   * `proc` (the job's ffmpeg) lets the lifecycle pause it while the owner needs the host (worker/job-pauser.ts).
   */
  onProcess?(pid: number, proc?: PausableProcess): void;
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
  /**
   * Hardware families that failed with a device error during the job (it was then redone in software). The
   * lifecycle counts them and re-tests them before the next job. Absent or empty when none failed.
   */
  deviceFailures?: EncoderFamily[];
}

export type JobExecutor = (job: Job, ctx: JobContext) => Promise<JobSuccess>;

/** A failed job's error carrying the hardware families that failed under it with a device error. */
type WithDeviceFailures = Error & { deviceFailures?: EncoderFamily[] };

/**
 * Marks the error a job fails with with the hardware families that failed under it: the error keeps its class and
 * its message (the error_msg), so callers that tell a cancel from a failure read it as before.
 */
export function withDeviceFailures(err: unknown, families: readonly EncoderFamily[]): Error {
  const error: WithDeviceFailures = err instanceof Error ? err : new Error(String(err));
  error.deviceFailures = [...families];
  return error;
}

/** The hardware families a failed job's error names (see withDeviceFailures); [] when none. */
export function deviceFailuresOf(err: unknown): EncoderFamily[] {
  const families = (err as WithDeviceFailures | undefined)?.deviceFailures;
  return Array.isArray(families) ? families : [];
}

/** What an interrupted run kept on this worker (job/resume.ts), told in the FAILED finalize. */
export interface ResumableInfo {
  segmentsDone: number;
  segmentsTotal: number;
  /** How long the worker keeps it (resume_keep). */
  keepMs: number;
}

type WithResumable = Error & { resumable?: ResumableInfo };

/** The job failed, but its finished segments are kept: the same job assigned here again continues from them. */
export function withResumable(err: unknown, info: ResumableInfo): Error {
  const error: WithResumable = err instanceof Error ? err : new Error(String(err));
  error.resumable = info;
  return error;
}

export function resumableOf(err: unknown): ResumableInfo | undefined {
  return (err as WithResumable | undefined)?.resumable;
}

/** The sentence the FAILED finalize adds, e.g. "resumable: 18 of 30 segments (60%) are kept on this worker ...". */
export function resumableNote(info: ResumableInfo): string {
  const pct = Math.floor((100 * info.segmentsDone) / Math.max(1, info.segmentsTotal));
  const hours = Math.round((info.keepMs / 3_600_000) * 10) / 10;
  return (
    `resumable: ${info.segmentsDone} of ${info.segmentsTotal} segments (${pct}%) are kept on this worker for ` +
    `${hours} h; assign the job to it again to continue from there`
  );
}

/** The finalize metrics of a resumable failure (FinalizeMetrics.resume). */
export function resumableMetrics(info: ResumableInfo) {
  return { resumable: true, segments_done: info.segmentsDone, segments_total: info.segmentsTotal };
}
