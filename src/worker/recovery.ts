/**
 * What a start does before the loop, to leave nothing an earlier run (or crash) began half done:
 *   1. temp files of state_dir writes a crash interrupted are removed (the rename never happened: never needed);
 *   2. the outbox is loaded (results still to deliver);
 *   3. commits a crash interrupted are repaired, so the NAS is all old or all new before anything is reported;
 *   4. the job that was running when the worker died is failed ("worker restarted while the job was running"),
 *      its orphaned ffmpeg ended, and its staging kept for a resume when it holds finished segments (the FAILED
 *      result says so: job/resume.ts), removed otherwise; unless the record belongs to a live worker, which is
 *      refused (StateDirInUseError) rather than having its job failed under it;
 *   5. interrupted jobs kept for a resume longer than resume_keep, or beyond resume_disk_budget, are dropped.
 */
import path from 'node:path';
import type { Logger } from '../log.js';
import { StateDirInUseError, errorMessage } from '../errors.js';
import { resumableMetrics, resumableNote } from '../job/contract.js';
import { keepCrashedRun } from '../job/resume-keep.js';
import { jobStagingDir } from '../storage/paths.js';
import { pruneResumables } from '../storage/resume-store.js';
import { recoverInterruptedCommits } from '../storage/commit-recovery.js';
import { removeTempLeftovers } from '../util/durable-file.js';
import { looksLikeWorker, recordedProcessState } from '../util/process-identity.js';
import type { JobRecordStore } from './job-record.js';
import type { Outbox } from './outbox.js';
import { killOrphanFfmpeg } from './orphans.js';
import type { StateWrites } from './state-writes.js';

export interface RecoveryDeps {
  stateDir: string;
  tempDir: string;
  nasRoot: string;
  /** resume_keep: how long an interrupted job's finished segments are kept (0: never). */
  resumeKeepMs: number;
  /** resume_disk_budget: the most local staging kept for interrupted jobs. */
  resumeBudgetBytes: number;
  log: Logger;
  outbox: Outbox;
  records: JobRecordStore;
  writes: StateWrites;
  now: () => number;
}

export const RESTARTED_MESSAGE = 'worker restarted while the job was running';

export async function recoverAtStart(deps: RecoveryDeps): Promise<void> {
  const { stateDir } = deps;
  for (const dir of [stateDir, path.join(stateDir, 'outbox'), path.join(stateDir, 'commits')])
    await removeTempLeftovers(dir);
  await deps.outbox.load();
  // Before the crashed job's FAILED result: a commit it interrupted leaves the NAS all old or all new first.
  await recoverInterruptedCommits({ stateDir, nasRoot: deps.nasRoot, log: deps.log });
  await recoverCrashedJob(deps);
  const dropped = await pruneResumables({
    stateDir,
    tempDir: deps.tempDir,
    keepMs: deps.resumeKeepMs,
    budgetBytes: deps.resumeBudgetBytes,
    now: deps.now(),
    log: deps.log,
  });
  if (dropped.length > 0) deps.log.info({ dropped }, 'dropped interrupted jobs kept for a resume');
}

/** Fails the job a dead worker left running (see 4. above); throws StateDirInUseError when its worker still lives. */
export async function recoverCrashedJob(deps: RecoveryDeps): Promise<void> {
  const record = await deps.records.read();
  if (!record) return;
  const log = deps.log.child({ job_id: record.job_id });
  // The state_dir lock (state-lock.ts) keeps a second worker of this version out; this also stops a worker of an
  // older version (no lock) from having its live job failed under it. Our own pid is never "still running": a
  // restarted container's worker gets the same pid (often 1) again.
  const owner = recordedProcessState({
    pid: record.pid,
    start: record.pid_start,
    boot_id: record.boot_id,
    hostname: record.hostname,
  });
  if (owner === 'running' && (record.pid_start !== undefined || looksLikeWorker(record.pid)))
    throw new StateDirInUseError(
      `state_dir "${deps.stateDir}" holds the running job ${record.job_id} of another live ` +
        `transcode-worker (pid ${record.pid}): stop it, or give this worker its own state_dir`,
    );
  log.warn({ started_at: record.started_at }, 'found a job that was running when the worker stopped; failing it');
  const staging = jobStagingDir(deps.tempDir, record.job_id);
  for (const pid of record.ffmpeg_pids ?? []) {
    const outcome = killOrphanFfmpeg(pid, staging);
    if (outcome === 'killed') log.warn({ pid }, 'ended the ffmpeg the interrupted job left running');
    if (outcome === 'unverifiable')
      log.warn({ pid }, 'the interrupted job may have left ffmpeg running; check this pid');
  }
  // Its finished segments stay for a resume (job/resume.ts) when there are any; everything else goes.
  const resumable = await keepCrashedRun(record.job_id, RESTARTED_MESSAGE, {
    stateDir: deps.stateDir,
    tempDir: deps.tempDir,
    keepMs: deps.resumeKeepMs,
    log,
    now: deps.now,
  }).catch((err) => {
    log.error({ err: errorMessage(err) }, 'cannot keep or remove the staging folder of the interrupted job');
    return undefined;
  });
  if (resumable) log.info({ ...resumableMetrics(resumable) }, 'the interrupted job can be resumed on this worker');
  const clearRecord = () =>
    deps.writes.run('running-job', 'removing the running-job record', 'remove', () => deps.records.clear(record));
  if (deps.outbox.has(record.job_id)) {
    // The job ended and its result was written, but the crash came before the record's removal.
    clearRecord();
    return;
  }
  const started = Date.parse(record.started_at);
  const { settled } = deps.outbox.put(record.job_id, {
    status: 'FAILED',
    error_msg: resumable ? `${RESTARTED_MESSAGE} (${resumableNote(resumable)})` : RESTARTED_MESSAGE,
    metrics: {
      total_time_ms: Number.isFinite(started) ? Math.max(0, deps.now() - started) : 0,
      ...(resumable ? { resume: resumableMetrics(resumable) } : {}),
    },
  });
  // The record goes only once the FAILED result is on disk (settled never rejects).
  void settled.then(clearRecord);
}
