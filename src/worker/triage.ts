/**
 * What the worker does with a sync answer: cancel the running job when asked, and for an assigned job decide one
 * of start, reject (busy, stopping, state_dir unwritable, outside the work hours, draining: counted in
 * assignmentsRejected, never started), fail at
 * once (malformed, with a job id to finalize), or ignore (no job). Synchronous and never throws: the loop calls it
 * with every answer.
 */
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Job, SyncResponse } from '../protocol/schemas.js';
import { parseAssignedJob } from '../job/parse-job.js';
import { JobCancelledByOrchestratorError } from '../errors.js';
import type { Outbox, OutboxPayload } from './outbox.js';
import type { StateWrites } from './state-writes.js';
import type { WorkerStatus } from './state.js';
import type { JobRunner } from './job-runner.js';

/** An assigned job as read from a sync answer. */
type Assignment =
  | { kind: 'none' }
  | { kind: 'valid'; job: Job }
  /** `id` is whatever job_id the answer carried (maybe not a string); `problem` says what is wrong. */
  | { kind: 'malformed'; id: unknown; problem: string };

/** The sync answer's `assigned_job`, through the one parse of an assigned job (src/job/parse-job.ts). */
function readAssignment(raw: unknown): Assignment {
  if (raw === undefined || raw === null) return { kind: 'none' };
  const parsed = parseAssignedJob(raw);
  if (parsed.ok) return { kind: 'valid', job: parsed.job };
  // An orchestrator written in Go that has nothing to assign may still send its empty Job struct (job_id "",
  // outputs null): that is "no job", not a malformed one to log on every sync.
  if (parsed.empty) return { kind: 'none' };
  return { kind: 'malformed', id: parsed.jobId ?? (raw as { job_id?: unknown }).job_id, problem: parsed.problem };
}

export interface TriageDeps {
  log: Logger;
  metrics: Metrics;
  outbox: Outbox;
  writes: StateWrites;
  status: WorkerStatus;
  runner: JobRunner;
  stopSignal: AbortSignal;
  /** Work hours and drain (admission.ts): a reason means no new job. */
  admission?: { noNewJobReason(): string | undefined };
}

export function handleSyncAnswer(deps: TriageDeps, res: SyncResponse): void {
  const current = deps.runner.current();
  if (res.cancel_current_job && current) {
    current.log.warn('the orchestrator cancelled the running job; aborting it');
    current.cancel(new JobCancelledByOrchestratorError());
  }
  const assigned = readAssignment(res.assigned_job);
  if (assigned.kind === 'none') return;
  const id = assigned.kind === 'valid' ? assigned.job.job_id : assigned.id;
  const stopping = deps.stopSignal.aborted;
  if (current || stopping) {
    if (id === current?.id) return; // the orchestrator repeating the job we run
    deps.metrics.assignmentsRejected.inc();
    deps.log.warn(
      { job_id: typeof id === 'string' ? id : undefined, running_job_id: current?.id },
      stopping ? 'job assigned while shutting down; not starting it' : 'job assigned while busy; not starting it',
    );
    return;
  }
  const closed = deps.admission?.noNewJobReason();
  if (closed) {
    deps.metrics.assignmentsRejected.inc();
    deps.log.warn(
      { job_id: typeof id === 'string' ? id : undefined, reason: closed },
      'job assigned while taking no new jobs; not starting it',
    );
    return;
  }
  if (assigned.kind === 'malformed') {
    if (typeof id === 'string' && id) {
      deps.log.error({ job_id: id, problem: assigned.problem }, 'assigned job is malformed; failing it');
      finalizeUnstartable(deps, id, `invalid job: ${assigned.problem}`);
    } else {
      deps.log.error({ problem: assigned.problem }, 'assigned job is malformed and has no job_id; ignoring it');
    }
    return;
  }
  const stateProblem = deps.writes.problem();
  if (stateProblem) {
    deps.metrics.assignmentsRejected.inc();
    deps.log.warn(
      { job_id: id, reason: stateProblem },
      'job assigned while state_dir cannot be written; not starting it',
    );
    return;
  }
  // The same job id again while its previous result is undelivered: the orchestrator is running it again, so the
  // old result is moot; this run's result replaces it (a stale FAILED must not land after the re-run's result).
  const stale = deps.outbox.discard(assigned.job.job_id);
  if (stale)
    deps.log.warn(
      { job_id: id, stale_status: stale.payload.status, stale_created_at: stale.created_at },
      'job assigned again while its previous result was undelivered; dropping that result for the new run',
    );
  deps.runner.start(assigned.job);
}

/** Fails a job that could not even be started. Synchronous and never throws: put and deliver cannot reject. */
function finalizeUnstartable(deps: TriageDeps, jobId: string, message: string): void {
  const payload: OutboxPayload = { status: 'FAILED', error_msg: message, metrics: { total_time_ms: 0 } };
  deps.status.counts.failed++;
  deps.metrics.jobsTotal.inc({ status: 'failed' });
  deps.outbox.put(jobId, payload);
  void deps.outbox.deliver(jobId);
}
