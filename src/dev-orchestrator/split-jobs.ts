/**
 * The split policy of the dev orchestrator (`--split-min-duration`, extension split-stitch/1) as a state machine
 * over the store's job entries:
 *
 *   parent QUEUED --(>= 2 capable idle workers)--> parts QUEUED, parent PROCESSING
 *   part FAILED --(attempts < max)--> that part alone QUEUED again; (attempts = max) --> parent FAILED
 *   every part COMPLETED --> stitch QUEUED; stitch COMPLETED --> parent COMPLETED with its manifest_url
 *
 * Parts and the stitch are ordinary entries of the store (so PATCH, finalize, lost jobs and cancel work on them
 * unchanged); they are only ever handed to capable workers (fit + capabilities.extensions lists split-stitch/1).
 * Invariant: a parent with `split` is never handed to a worker itself.
 */
import { SPLIT_STITCH_EXTENSION, type Job, type WorkerStatus } from '../protocol/schemas.js';
import type { ChildSummary, JobRecord, WorkerRecord } from './operator-schemas.js';
import type { JobEntry } from './job-entry.js';
import { explainMisfit } from './fit.js';
import { isCapable, parentProgress, partJob, planParts, stitchJob, type PartRange } from './split-plan.js';

export interface SplitOptions {
  /** Sources strictly longer than this many seconds are split. */
  minDurationSec: number;
  /** Times a part (or the stitch) is handed out before the parent fails. Default 3. */
  maxAttempts?: number;
  /** A worker counts as idle when its last sync, at most this long ago, said IDLE. Default 15 s. */
  idleWindowMs?: number;
  /**
   * A long job waits at most this long after its enqueue for a second idle capable worker before it runs whole,
   * so workers that sync a moment apart still share it. Default 15 s (a little over the default sync_interval).
   */
  holdMs?: number;
}

export interface SplitContext {
  jobs: Map<string, JobEntry>;
  workers: Map<string, WorkerRecord>;
  now(): number;
  iso(): string;
  /** The job the store believes the worker runs. */
  runningJobOf(workerId: string): JobEntry | undefined;
}

/** What a free worker may do with a queued entry. */
export type Decision = 'take' | 'skip' | 'split';

const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function createSplitJobs(ctx: SplitContext, opts: SplitOptions | undefined) {
  const maxAttempts = Math.max(1, opts?.maxAttempts ?? 3);
  const idleWindowMs = opts?.idleWindowMs ?? 15_000;
  const holdMs = opts?.holdMs ?? 15_000;
  /** Last sync time of each worker whose last sync said it is free (IDLE, not busy, no current job). */
  const freeAt = new Map<string, number>();
  /** Re-queued parts whose last worker kept their finished segments (resumable), until when it is preferred. */
  const preferred = new Map<string, { workerId: string; until: number }>();

  function noteSync(workerId: string, status: WorkerStatus, free: boolean): void {
    if (free && status === 'IDLE') freeAt.set(workerId, ctx.now());
    else freeAt.delete(workerId);
  }

  function idleCapable(job: Job): number {
    let n = 0;
    for (const w of ctx.workers.values()) {
      const at = freeAt.get(w.worker_id);
      if (at === undefined || ctx.now() - at > idleWindowMs || ctx.runningJobOf(w.worker_id)) continue;
      if (isCapable(job, w.capabilities)) n++;
    }
    return n;
  }

  const anyCapable = (job: Job) => [...ctx.workers.values()].some((w) => isCapable(job, w.capabilities));

  function runWhole(j: JobEntry, why: string): 'take' {
    j.whole = true;
    j.split_note = `not split: ${why}`;
    return 'take';
  }

  /** Whether worker w (free now) takes queued entry j, leaves it, or splits it (then takes its first part). */
  function decide(j: JobEntry, w: WorkerRecord): Decision {
    const keeper = preferred.get(j.job_id);
    // A resumable job or part waits a moment for the worker that kept its segments (it continues where it stopped).
    if (keeper && keeper.workerId !== w.worker_id && ctx.now() < keeper.until && ctx.workers.has(keeper.workerId))
      return 'skip';
    const decision = decideFor(j, w);
    if (decision !== 'skip') preferred.delete(j.job_id);
    return decision;
  }

  function decideFor(j: JobEntry, w: WorkerRecord): Decision {
    if (j.role) return isCapable(j.job, w.capabilities) ? 'take' : 'skip';
    if (explainMisfit(j.job, w.capabilities) !== null) return 'skip';
    if (!opts || j.whole || j.source_duration_sec === undefined || j.source_duration_sec <= opts.minDurationSec)
      return 'take';
    const idle = idleCapable(j.job);
    if (idle >= 2 && isCapable(j.job, w.capabilities)) {
      const plan = planParts(j.job, j.source_duration_sec, idle);
      if ('parts' in plan) {
        split(j, plan.parts);
        return 'split';
      }
      return runWhole(j, plan.reason);
    }
    if (!anyCapable(j.job)) return runWhole(j, `no registered worker that fits it lists ${SPLIT_STITCH_EXTENSION}`);
    if (ctx.now() - j.enqueuedMs < holdMs) {
      j.split_note = `waiting up to ${holdMs / 1000} s for two idle workers with ${SPLIT_STITCH_EXTENSION} (${idle} now)`;
      return 'skip';
    }
    return runWhole(
      j,
      `${idle} idle worker(s) with ${SPLIT_STITCH_EXTENSION} within ${holdMs / 1000} s of the enqueue, 2 needed`,
    );
  }

  function child(parent: JobEntry, job: Job, seqOffset: number, role: JobEntry['role']): JobEntry {
    const entry: JobEntry = {
      job_id: job.job_id,
      status: 'QUEUED',
      job,
      enqueued_at: ctx.iso(),
      enqueuedMs: ctx.now(),
      progress: 0,
      progress_history: [],
      finalize_count: 0,
      missedSyncs: 0,
      seq: parent.seq + seqOffset,
      role,
      parent_job_id: parent.job_id,
      attempts: 0,
    };
    ctx.jobs.set(entry.job_id, entry);
    return entry;
  }

  function split(parent: JobEntry, ranges: PartRange[]): void {
    parent.split = { ranges, parts: [] };
    parent.status = 'PROCESSING';
    parent.started_at = ctx.iso();
    parent.split_note = `split into ${ranges.length} parts (segments ${ranges.map((r) => `${r.start}-${r.end}`).join(', ')})`;
    ranges.forEach((r, index) => {
      const job = partJob(parent.job, index, ranges);
      const role = { kind: 'part' as const, parent_job_id: parent.job_id, index, segments: r.end - r.start };
      parent.split!.parts.push(child(parent, job, (index + 1) / 1000, role).job_id);
    });
  }

  /** The first queued part of a split parent (what the splitting worker takes). */
  function firstPartOf(parent: JobEntry): JobEntry {
    return ctx.jobs.get(parent.split!.parts[0]!)!;
  }

  function requeue(j: JobEntry): void {
    // Resumable (docs/protocol.md, "Resumable jobs"): the worker said so, or it lost the job (it likely restarted,
    // and a restarted worker keeps the interrupted run's segments). Either way the same worker_id continues it.
    if (j.worker_id && (j.lost || j.finalize?.metrics.resume?.resumable === true))
      preferred.set(j.job_id, { workerId: j.worker_id, until: ctx.now() + holdMs });
    j.status = 'QUEUED';
    j.progress = 0;
    for (const k of ['worker_id', 'assigned_at', 'started_at', 'finished_at', 'finalize', 'lost'] as const) delete j[k];
    j.finalize_count = 0;
    j.missedSyncs = 0;
  }

  function endParent(parent: JobEntry, status: 'COMPLETED' | 'FAILED', detail: string): void {
    parent.status = status;
    parent.finished_at = ctx.iso();
    if (status === 'COMPLETED') {
      parent.manifest_url = detail;
      parent.progress = 100;
    } else {
      parent.error_msg = detail;
      cancelChildren(parent);
    }
  }

  /** A part or the stitch just ended (finalize, or failed as lost): re-queue it, or move the parent on. */
  function onChildEnded(j: JobEntry): void {
    const parent = j.role ? ctx.jobs.get(j.role.parent_job_id) : undefined;
    if (!parent?.split || ENDED.has(parent.status)) return;
    const what = j.role!.kind === 'part' ? `part ${j.role!.index} of ${parent.split.parts.length}` : 'the stitch';
    if (j.status === 'FAILED') {
      if ((j.attempts ?? 0) < maxAttempts) {
        j.split_note = `attempt ${j.attempts} failed: ${j.error_msg ?? 'no message'}; queued again`;
        requeue(j);
      } else endParent(parent, 'FAILED', `${what} (${j.job_id}) failed ${j.attempts} times: ${j.error_msg ?? ''}`);
      return;
    }
    if (j.status !== 'COMPLETED') return;
    if (j.role!.kind === 'stitch') {
      endParent(parent, 'COMPLETED', j.manifest_url ?? '');
      return;
    }
    const parts = parent.split.parts.map((id) => ctx.jobs.get(id)!);
    if (parent.split.stitch === undefined && parts.every((p) => p.status === 'COMPLETED')) {
      const job = stitchJob(parent.job, parts.length);
      const role = { kind: 'stitch' as const, parent_job_id: parent.job_id };
      parent.split.stitch = child(parent, job, 0.999, role).job_id;
    }
  }

  /** Cancels the parts and stitch of a parent that are not over (their workers learn it as for any cancel). */
  function cancelChildren(parent: JobEntry): void {
    const ids = [...(parent.split?.parts ?? []), ...(parent.split?.stitch ? [parent.split.stitch] : [])];
    for (const id of ids) {
      const c = ctx.jobs.get(id)!;
      if (ENDED.has(c.status)) continue;
      c.status = 'CANCELLED';
      c.cancelled_at = ctx.iso();
      const w = c.worker_id ? ctx.workers.get(c.worker_id) : undefined;
      if (w && w.running_job_id === id) delete w.running_job_id;
    }
  }

  function summary(c: JobEntry): ChildSummary {
    const s: ChildSummary = { job_id: c.job_id, status: c.status, progress: c.progress, attempts: c.attempts ?? 0 };
    if (c.role?.index !== undefined) s.index = c.role.index;
    if (c.worker_id) s.worker_id = c.worker_id;
    if (typeof c.job.part?.start_segment === 'number') s.start_segment = c.job.part.start_segment;
    if (typeof c.job.part?.end_segment === 'number') s.end_segment = c.job.part.end_segment;
    return s;
  }

  /** Adds parts, stitch and the weighted progress to a split parent's record. */
  function decorate(j: JobEntry, record: JobRecord): void {
    if (!j.split) return;
    const parts = j.split.parts.map((id) => ctx.jobs.get(id)!);
    const stitch = j.split.stitch ? ctx.jobs.get(j.split.stitch) : undefined;
    record.parts = parts.map(summary);
    if (stitch) record.stitch = summary(stitch);
    if (j.status !== 'COMPLETED')
      record.progress = parentProgress(
        parts.map((p) => ({ segments: p.role!.segments ?? 1, progress: p.progress })),
        stitch?.status === 'COMPLETED' ? 100 : (stitch?.progress ?? 0),
      );
  }

  return { noteSync, decide, firstPartOf, onChildEnded, cancelChildren, decorate, requeue };
}

export type SplitJobs = ReturnType<typeof createSplitJobs>;
