/**
 * The worker's error catalogue. Every class carries what a person needs to act on it: the orchestrator shows
 * `message` to humans as error_msg, so messages are sentences about the user's world (files, keys, devices),
 * not about our call stack.
 */

export class WorkerError extends Error {
  /** Stable machine-readable code, also used in logs and metrics labels. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is wrong. Printed as one line at start-up, never with a stack trace. */
export class ConfigError extends WorkerError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** The orchestrator could not be reached or answered in a way that may succeed later (network, timeout, 5xx, 429). */
export class TransientOrchestratorError extends WorkerError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('ORCHESTRATOR_TRANSIENT', message, options);
  }
}

/** The orchestrator refused the request and repeating it will not help (4xx other than the cases below). */
export class PermanentOrchestratorError extends WorkerError {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(status === 401 || status === 403 ? 'ORCHESTRATOR_AUTH' : 'ORCHESTRATOR_PERMANENT', message, options);
  }
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * The orchestrator's URL answered a redirect (3xx). Never followed: a redirect could send the result, and the token,
 * to another host, and the page it leads to (a login form answering 200) is no acknowledgement. It needs a person
 * (orchestrator_url, or the reverse proxy in front of the orchestrator), but it is retried like an auth problem: a
 * result waiting in the outbox is delivered once the redirect is gone, never dropped.
 */
export class OrchestratorRedirectError extends WorkerError {
  constructor(
    message: string,
    readonly status: number,
    /** The Location header, credentials masked; undefined when there was none. */
    readonly location?: string,
  ) {
    super('ORCHESTRATOR_REDIRECT', message);
  }
}

/** The orchestrator answered something that does not match the protocol. */
export class ProtocolError extends WorkerError {
  constructor(message: string) {
    super('PROTOCOL', message);
  }
}

/** Sync answered 404: the orchestrator forgot us (it restarted). Register again. */
export class NotRegisteredError extends WorkerError {
  constructor(message = 'the orchestrator does not know this worker (HTTP 404 on sync)') {
    super('NOT_REGISTERED', message);
  }
}

/** PATCH/finalize answered 404/409/410: the job is no longer ours. Abort it and do not finalize. */
export class JobGoneError extends WorkerError {
  constructor(
    readonly jobId: string,
    readonly status: number,
  ) {
    super('JOB_GONE', `job ${jobId} is no longer assigned to this worker (HTTP ${status})`);
  }
}

/** The job was cancelled: by the orchestrator, by the job being gone, or by shutdown. `reason` is human text. */
export class JobCancelledError extends WorkerError {
  constructor(readonly reason: string) {
    super('JOB_CANCELLED', reason);
  }
}

/*
 * Why a running job's signal was aborted. The worker aborts one signal per job with one of these as its reason, and
 * decides the job's outcome from the reason's class (src/worker/job-outcome.ts), so the reason and the decision can
 * never disagree. Their messages are what the pipeline's JobCancelledError and a FAILED result carry.
 */

/**
 * The job is not ours any more: the orchestrator cancelled it (sync cancel_current_job) or answered its progress
 * with 404/409/410. Nothing is committed and nothing is finalized: the orchestrator already moved on.
 */
export class JobNoLongerOursError extends JobCancelledError {
  constructor(reason = 'job no longer assigned to this worker') {
    super(reason);
  }
}

/** The orchestrator asked (sync cancel_current_job) to cancel the running job. */
export class JobCancelledByOrchestratorError extends JobNoLongerOursError {
  constructor() {
    super('job cancelled by the orchestrator');
  }
}

/** The worker is stopping (SIGTERM/SIGINT): the running job is aborted and finalized FAILED with this message. */
export const SHUTDOWN_MESSAGE = 'worker shutting down';

export class ShutdownError extends JobCancelledError {
  constructor() {
    super(SHUTDOWN_MESSAGE);
  }
}

/** The job itself is invalid (a field value, a path outside the NAS, a missing input). */
export class JobValidationError extends WorkerError {
  constructor(message: string) {
    super('JOB_INVALID', message);
  }
}

/** The source media cannot be used (unreadable, no video stream, truncated). */
export class MediaError extends WorkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MEDIA', message, options);
  }
}

/** ffmpeg failed. `stderrTail` holds its last meaningful lines. */
export class FfmpegError extends WorkerError {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly stderrTail: string,
    options?: { cause?: unknown; deviceError?: boolean },
  ) {
    super('FFMPEG', message, options);
    this.deviceError = options?.deviceError ?? false;
  }
  /** True when the failure looks like the hardware device vanished or ran out of sessions. */
  readonly deviceError: boolean;
}

/** Staging, verification or the commit to the NAS failed. The NAS has been left as it was. */
export class StorageError extends WorkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE', message, options);
  }
}

/** ffmpeg/ffprobe missing or unusable on this host. */
export class ToolchainError extends WorkerError {
  constructor(message: string) {
    super('TOOLCHAIN', message);
  }
}

/**
 * Another worker process uses this state_dir (its lock is held). A start-up error like a bad setting: one line,
 * exit 2, naming the other process so a person can find it.
 */
export class StateDirInUseError extends ConfigError {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
