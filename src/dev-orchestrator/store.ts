/**
 * The dev orchestrator's in-memory state and every rule of the protocol, without HTTP. Forgetting everything on
 * restart is deliberate: it is how workers' lazy re-registration (404 on sync) gets exercised.
 *
 * Each operation returns either a value or a refusal {status, error, message}; server.ts turns refusals into HTTP.
 */
import { randomUUID } from 'node:crypto';
import {
  SPLIT_STITCH_EXTENSION,
  type Capabilities,
  type FinalizeRequest,
  type Job,
  type ProgressRequest,
  type SyncRequest,
} from '../protocol/schemas.js';
import { explainMisfit } from './fit.js';
import type { JobEntry } from './job-entry.js';
import type { EnqueueJobRequest, JobRecord, JobState, WorkerRecord } from './operator-schemas.js';
import { createSplitJobs, type SplitOptions } from './split-jobs.js';

export interface Refusal {
  refused: true;
  status: 400 | 404 | 409 | 410;
  error: 'bad_request' | 'not_registered' | 'not_found' | 'conflict' | 'gone';
  message: string;
}
export type Outcome<T> = T | Refusal;

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && (x as Refusal).refused === true;
}

export interface SyncAnswer {
  ack: true;
  assigned_job?: Job;
  cancel_current_job?: true;
}

export interface DevStoreOptions {
  now?: () => number;
  /**
   * A job the orchestrator believes is running is failed as lost ("worker lost the job") after this many
   * consecutive syncs in which its worker reports another current_job_id (usually "": it restarted or dropped it).
   * 2 rather than 1 so a sync racing the assignment answer cannot lose a job. Default 2.
   */
  lostJobSyncs?: number;
  /** The split policy (extension split-stitch/1); absent: jobs always run whole. */
  split?: SplitOptions;
}

/** What the enqueue learned about the source beside the job (the server probes it). */
export interface EnqueueExtras {
  sourceDurationSec?: number;
  splitNote?: string;
}

const HISTORY_LIMIT = 1000;
const RUNNING: ReadonlySet<JobState> = new Set(['ASSIGNED', 'PROCESSING']);

function refuse(status: Refusal['status'], error: Refusal['error'], message: string): Refusal {
  return { refused: true, status, error, message };
}

export function createDevStore(opts: DevStoreOptions = {}) {
  const now = opts.now ?? Date.now;
  const lostJobSyncs = Math.max(1, opts.lostJobSyncs ?? 2);
  const jobs = new Map<string, JobEntry>(); // insertion order = queue order
  const workers = new Map<string, WorkerRecord>();
  const iso = () => new Date(now()).toISOString();
  let seq = 0;
  const split = createSplitJobs({ jobs, workers, now, iso, runningJobOf: (id) => runningJobOf(id) }, opts.split);

  function viewJob(j: JobEntry): JobRecord {
    const { missedSyncs: _m, seq: _s, enqueuedMs: _e, role: _r, split: _p, whole: _w, ...rest } = j;
    const record: JobRecord = structuredClone(rest);
    if (record.status === 'QUEUED') {
      const reason = explainWaiting(j);
      if (reason) record.waiting_reason = reason;
    }
    split.decorate(j, record);
    return record;
  }

  function explainWaiting(j: JobEntry): string | undefined {
    if (workers.size === 0) return 'no worker is registered';
    const reasons: string[] = [];
    for (const w of workers.values()) {
      let why = explainMisfit(j.job, w.capabilities);
      if (!why && j.role && !(w.capabilities.extensions ?? []).includes(SPLIT_STITCH_EXTENSION))
        why = `no ${SPLIT_STITCH_EXTENSION} in its capabilities.extensions`;
      if (!why) return undefined; // some worker fits: it only has to become idle
      reasons.push(`${w.worker_id}: ${why}`);
    }
    return `no registered worker fits (${reasons.join('; ')})`;
  }

  function runningJobOf(workerId: string): JobEntry | undefined {
    for (const j of jobs.values()) if (j.worker_id === workerId && RUNNING.has(j.status)) return j;
    return undefined;
  }

  function markLost(j: JobEntry): void {
    j.status = 'FAILED';
    j.lost = true;
    j.error_msg = `worker lost the job: ${j.worker_id} stopped reporting it as its current job`;
    j.finished_at = iso();
    split.onChildEnded(j);
  }

  /** Hands a queued entry to a worker (in a sync answer). */
  function assign(j: JobEntry, w: WorkerRecord): Job {
    j.status = 'ASSIGNED';
    j.worker_id = w.worker_id;
    j.assigned_at = iso();
    j.missedSyncs = 0;
    if (j.role) j.attempts = (j.attempts ?? 0) + 1;
    return structuredClone(j.job);
  }

  /** The queued entry a free worker gets, if any: the oldest it may take (a long job may be split for it first). */
  function nextFor(w: WorkerRecord): JobEntry | undefined {
    const queued = [...jobs.values()].filter((j) => j.status === 'QUEUED').sort((a, b) => a.seq - b.seq);
    for (const j of queued) {
      const decision = split.decide(j, w);
      if (decision === 'take') return j;
      if (decision === 'split') return split.firstPartOf(j);
    }
    return undefined;
  }

  function register(workerId: string, capabilities: Capabilities): { ack: true } {
    const prev = workers.get(workerId);
    const at = iso();
    workers.set(workerId, {
      worker_id: workerId,
      capabilities: structuredClone(capabilities),
      registered_at: at,
      registrations: (prev?.registrations ?? 0) + 1,
      last_seen: at,
      syncs: prev?.syncs ?? 0,
      status: prev?.status,
      hardware_stats: prev?.hardware_stats,
      current_job_id: prev?.current_job_id ?? '',
    });
    return { ack: true };
  }

  function sync(req: SyncRequest): Outcome<SyncAnswer> {
    const w = workers.get(req.worker_id);
    if (!w)
      return refuse(404, 'not_registered', `worker ${req.worker_id} is not registered here: register, then sync again`);
    w.last_seen = iso();
    w.syncs += 1;
    w.status = req.status;
    w.hardware_stats = { ...req.hardware_stats };
    w.current_job_id = req.current_job_id;

    const answer: SyncAnswer = { ack: true };
    const reported = req.current_job_id ? jobs.get(req.current_job_id) : undefined;
    if (reported && reported.status === 'CANCELLED' && reported.worker_id === w.worker_id)
      answer.cancel_current_job = true;

    const running = runningJobOf(w.worker_id);
    if (running) {
      if (running.job_id === req.current_job_id) running.missedSyncs = 0;
      else if (++running.missedSyncs >= lostJobSyncs) markLost(running);
    }

    const free = req.status === 'IDLE' && !req.hardware_stats.is_busy && req.current_job_id === '';
    split.noteSync(w.worker_id, req.status, free);
    if (free && !runningJobOf(w.worker_id)) {
      const next = nextFor(w);
      if (next) answer.assigned_job = assign(next, w);
    }
    w.running_job_id = runningJobOf(w.worker_id)?.job_id;
    if (w.running_job_id === undefined) delete w.running_job_id;
    return answer;
  }

  /** Common checks of PATCH and finalize: the job exists, is this worker's, and was not cancelled. */
  function ownedJob(jobId: string, workerId: string): Outcome<JobEntry> {
    const j = jobs.get(jobId);
    if (!j) return refuse(404, 'not_found', `job ${jobId} is unknown to this orchestrator`);
    if (j.worker_id !== workerId)
      return refuse(
        409,
        'conflict',
        j.worker_id
          ? `job ${jobId} is assigned to worker ${j.worker_id}, not ${workerId}`
          : `job ${jobId} is not assigned to any worker`,
      );
    if (j.status === 'CANCELLED') return refuse(410, 'gone', `job ${jobId} was cancelled: stop it and do not finalize`);
    return j;
  }

  function progress(jobId: string, req: ProgressRequest): Outcome<{ ack: true }> {
    const j = ownedJob(jobId, req.worker_id);
    if (isRefusal(j)) return j;
    if (!RUNNING.has(j.status))
      return refuse(409, 'conflict', `job ${jobId} is already ${j.status}${j.lost ? ' (lost)' : ''}: stop it`);
    const at = iso();
    if (j.status === 'ASSIGNED') {
      j.status = 'PROCESSING';
      j.started_at = at;
    }
    j.missedSyncs = 0;
    j.progress = req.progress;
    j.current_fps = req.current_fps;
    j.eta_sec = req.eta_sec;
    j.progress_history.push({ at, progress: req.progress, current_fps: req.current_fps, eta_sec: req.eta_sec });
    if (j.progress_history.length > HISTORY_LIMIT)
      j.progress_history.splice(0, j.progress_history.length - HISTORY_LIMIT);
    return { ack: true };
  }

  function finalize(jobId: string, req: FinalizeRequest): Outcome<{ ack: true; duplicate: boolean }> {
    const j = ownedJob(jobId, req.worker_id);
    if (isRefusal(j)) return j;
    if (j.finalize) {
      // At-least-once delivery: the same result again is success, and changes nothing but the counter.
      if (j.finalize.status !== req.status)
        return refuse(409, 'conflict', `job ${jobId} was already finalized as ${j.finalize.status}, not ${req.status}`);
      j.finalize_count += 1;
      return { ack: true, duplicate: true };
    }
    // A job the orchestrator guessed lost (no finalize yet) takes the worker's word: its result is the truth.
    j.status = req.status;
    j.finalize = structuredClone(req);
    j.finalize_count = 1;
    j.finished_at = iso();
    delete j.lost;
    if (req.status === 'COMPLETED') {
      j.progress = 100;
      j.manifest_url = req.manifest_url;
      delete j.error_msg;
    } else j.error_msg = req.error_msg ?? 'the worker reported a failure without a message';
    const w = workers.get(req.worker_id);
    if (w && w.running_job_id === jobId) delete w.running_job_id;
    split.onChildEnded(j);
    return { ack: true, duplicate: false };
  }

  function enqueue(input: EnqueueJobRequest, extras: EnqueueExtras = {}): Outcome<JobRecord> {
    const jobId = input.job_id ?? `job-${randomUUID().slice(0, 8)}`;
    if (jobs.has(jobId)) return refuse(409, 'conflict', `job ${jobId} already exists`);
    // source_duration_sec is for this orchestrator, not for the worker.
    const { source_duration_sec: givenDuration, ...fields } = structuredClone(input);
    const job = { ...fields, job_id: jobId } as Job;
    const entry: JobEntry = {
      job_id: jobId,
      status: 'QUEUED',
      job,
      enqueued_at: iso(),
      enqueuedMs: now(),
      seq: ++seq,
      progress: 0,
      progress_history: [],
      finalize_count: 0,
      missedSyncs: 0,
    };
    const duration = givenDuration ?? extras.sourceDurationSec;
    if (duration !== undefined) entry.source_duration_sec = duration;
    if (extras.splitNote) entry.split_note = extras.splitNote;
    if (opts.split && duration !== undefined && duration <= opts.split.minDurationSec)
      entry.split_note = `not split: the source (${duration} s) is not longer than ${opts.split.minDurationSec} s`;
    jobs.set(jobId, entry);
    return viewJob(entry);
  }

  function cancel(jobId: string): Outcome<JobRecord> {
    const j = jobs.get(jobId);
    if (!j) return refuse(404, 'not_found', `job ${jobId} is unknown to this orchestrator`);
    if (j.status === 'COMPLETED' || j.status === 'FAILED')
      return refuse(409, 'conflict', `job ${jobId} already ended as ${j.status}`);
    if (j.role)
      return refuse(409, 'conflict', `job ${jobId} is a ${j.role.kind} of ${j.role.parent_job_id}: cancel that job`);
    if (j.status !== 'CANCELLED') {
      j.status = 'CANCELLED';
      j.cancelled_at = iso();
      const w = j.worker_id ? workers.get(j.worker_id) : undefined;
      if (w && w.running_job_id === jobId) delete w.running_job_id;
      split.cancelChildren(j);
    }
    return viewJob(j);
  }

  /**
   * Operator: a FAILED or CANCELLED job queued again under its own id. One that failed resumable (metrics.resume,
   * docs/protocol.md "Resumable jobs") or was lost goes first to the worker that kept its finished segments, and
   * runs whole (it continues where it stopped rather than being split).
   */
  function retry(jobId: string): Outcome<JobRecord> {
    const j = jobs.get(jobId);
    if (!j) return refuse(404, 'not_found', `job ${jobId} is unknown to this orchestrator`);
    if (j.role)
      return refuse(
        409,
        'conflict',
        `job ${jobId} is a ${j.role.kind} of ${j.role.parent_job_id}: its parent retries it`,
      );
    if (j.split) return refuse(409, 'conflict', `job ${jobId} was split into parts: enqueue it again under a new id`);
    if (j.status !== 'FAILED' && j.status !== 'CANCELLED')
      return refuse(409, 'conflict', `job ${jobId} is ${j.status}: only a FAILED or CANCELLED job is retried`);
    if (j.worker_id && (j.lost || j.finalize?.metrics.resume?.resumable === true)) j.whole = true;
    split.requeue(j);
    delete j.error_msg;
    delete j.cancelled_at;
    delete j.manifest_url;
    return viewJob(j);
  }

  function getJob(jobId: string): JobRecord | undefined {
    const j = jobs.get(jobId);
    return j ? viewJob(j) : undefined;
  }

  function listJobs(status?: JobState): JobRecord[] {
    return [...jobs.values()].filter((j) => !status || j.status === status).map(viewJob);
  }

  function listWorkers(): WorkerRecord[] {
    return [...workers.values()].map((w) => structuredClone(w));
  }

  return { register, sync, progress, finalize, enqueue, cancel, retry, getJob, listJobs, listWorkers };
}

export type DevStore = ReturnType<typeof createDevStore>;
