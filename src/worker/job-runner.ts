/**
 * Runs one job to exactly one outcome, and keeps its bookkeeping: the running-job record, the progress reports, the
 * result in the outbox, the counts and metrics.
 *
 * Invariants:
 * - At most one job runs: start() is only called by the triage when current() is undefined, and current() stays set
 *   until the job's bookkeeping is done.
 * - Every job that started ends in exactly one outcome (job-outcome.ts): a result in the outbox (COMPLETED/FAILED),
 *   or none when the job is not ours any more. finish() runs in a finally, so the worker never stays BUSY with a
 *   job that is over.
 * - The running-job record is on disk before the executor starts (no record, no job) and is removed only once the
 *   result is on disk or delivered, so a crash at any point leaves one of the two for recovery.
 * - One signal per job: AbortSignal.any([the worker's stop signal, the job's cancel controller]). Its reason says
 *   why it stopped (ShutdownError, JobNoLongerOursError), and the first reason stands.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import type { Job } from '../protocol/schemas.js';
import { JobNoLongerOursError, errorMessage } from '../errors.js';
import { currentProcessIdentity } from '../util/process-identity.js';
import { raceAbort } from '../util/abortable.js';
import { deviceFailuresOf, type JobExecutor, type JobProgress, type JobSuccess } from '../job/contract.js';
import type { EncoderFamily } from '../capabilities/types.js';
import type { JobRecordStore, RunningJobRecord } from './job-record.js';
import type { Outbox } from './outbox.js';
import type { StateWrites } from './state-writes.js';
import type { CurrentJobView, WorkerStatus } from './state.js';
import { decideOutcome, type ExecutorSettled, type JobEnd } from './job-outcome.js';
import { startProgressReporter } from './progress-reporter.js';
import { JobPauser } from './job-pauser.js';
import { createOwnerLoadReader, type OwnerLoadReader } from './owner-load.js';
import { createTreeSuspender, type TreeSuspender } from '../exec/suspend.js';
import { cpuPriorityValue } from '../exec/priority.js';
import { execaRunner } from '../exec/runner.js';
import { createNvidiaOwnerCheck } from './nvidia-load.js';

export interface RunningJob extends CurrentJobView {
  job: Job;
  log: Logger;
  /** Aborted when the job must stop; `signal.reason` says why. */
  signal: AbortSignal;
  /** Aborts the job because it is not ours any more (the first reason stands). */
  cancel(reason: JobNoLongerOursError): void;
  record: RunningJobRecord;
  ffmpegPids: number[];
  /** Pauses the job's ffmpeg while the owner needs the host; undefined when pausing is off. */
  pauser?: JobPauser;
}

export interface JobRunnerDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  client: Pick<OrchestratorClient, 'reportProgress'>;
  executor: JobExecutor;
  records: JobRecordStore;
  writes: StateWrites;
  outbox: Outbox;
  status: WorkerStatus;
  now: () => number;
  /** Aborted (with a ShutdownError) when the worker stops; every job's signal follows it. */
  stopSignal: AbortSignal;
  /** A job ended and its result was delivered (or left to the background): the loop syncs at once. */
  onEnded: () => void;
  /**
   * The hardware families that failed with a device error during the job (whatever its outcome): the lifecycle
   * decides what to do (count them, re-test those families before the next job).
   */
  onDeviceFailures: (families: EncoderFamily[]) => void;
  /** How a running job steps aside for the owner (job-pauser.ts); the defaults read this host. */
  pausing?: JobPausingDeps;
}

/** The pause's seams: all optional, production takes the defaults. */
export interface JobPausingDeps {
  /**
   * Polled at every tick while ffmpeg runs: a reason to pause now whatever the load (the work-hours `pause` mode
   * at the end of a window), undefined to let it run. Pausing by it works even with pause_on_owner_load false.
   */
  holdReason?: () => string | undefined;
  /** A reader of the other programs' load, one per job (default: owner-load.ts on this host). */
  ownerLoad?: () => OwnerLoadReader;
  /** A reason from the NVIDIA GPU (other processes' use or encoder sessions), checked at each tick. */
  gpuReason?: (ownPids: () => number[]) => Promise<string | undefined>;
  suspender?: TreeSuspender;
  /** Default 1 s. */
  tickMs?: number;
}

export class JobRunner {
  private running?: RunningJob;
  private done: Promise<void> = Promise.resolve();
  /** When the last job ended (the host-load sampler tells our own CPU use from others'). */
  lastEndedAt = 0;

  constructor(private readonly deps: JobRunnerDeps) {}

  current(): RunningJob | undefined {
    return this.running;
  }

  /** Resolves once the running job's bookkeeping is done (at once when none runs). Never rejects. */
  whenDone(): Promise<void> {
    return this.done;
  }

  /** Starts the job in the background. The caller made sure that no job runs. */
  start(job: Job): void {
    const { deps } = this;
    const log = deps.log.child({ job_id: job.job_id });
    const startedAt = deps.now();
    const me = currentProcessIdentity();
    const cancel = new AbortController();
    const running: RunningJob = {
      id: job.job_id,
      job,
      startedAt,
      progress: { progress: 0, currentFps: 0, etaSec: 0 },
      log,
      signal: AbortSignal.any([deps.stopSignal, cancel.signal]),
      cancel: (reason) => cancel.abort(reason),
      record: {
        job_id: job.job_id,
        started_at: new Date(startedAt).toISOString(),
        pid: me.pid,
        pid_start: me.start,
        boot_id: me.boot_id,
        hostname: me.hostname,
      },
      ffmpegPids: [],
    };
    this.running = running;
    deps.status.state = 'BUSY';
    deps.metrics.busy.set(1);
    deps.metrics.jobProgress.set(0);
    log.info({ source: job.input.source_url, outputs: job.outputs.length }, 'job started');
    this.done = this.run(running).catch((err) => {
      // run() handles its own failures; reaching this is a bug, but it must not leave an unhandled rejection.
      log.fatal({ err: errorMessage(err) }, 'job bookkeeping failed');
    });
  }

  private async run(running: RunningJob): Promise<void> {
    const { deps } = this;
    let end: JobEnd | undefined;
    try {
      // No record, no job: a job whose crash could not be recovered must not start. It is not finalized either;
      // the orchestrator sees it is not running here and assigns it again (to us once state_dir is writable).
      const recorded = await deps.writes.tryOnce('writing the running-job record', () =>
        deps.records.write(running.record),
      );
      if (!recorded) {
        deps.metrics.assignmentsRejected.inc();
        running.log.error(
          'cannot record the running job in state_dir; not starting it (the orchestrator will assign it again)',
        );
        return;
      }
      end = await this.execute(running);
    } finally {
      this.finish(running, end);
    }
    if (end.payload && !deps.stopSignal.aborted) {
      // Sync right after the result is accepted: an orchestrator assigns the next job only once it knows this one
      // ended, so syncing before the finalize lands would leave the worker idle for a whole sync_interval.
      // If delivery is slow (orchestrator down), it goes on in the background and the loop carries on.
      await raceAbort(deps.outbox.deliver(running.id), AbortSignal.timeout(2000)).catch(() => undefined);
    }
    deps.onEnded();
  }

  /** Runs the executor with progress reports and decides the outcome; never throws. */
  private async execute(running: RunningJob): Promise<JobEnd> {
    const { deps } = this;
    const { log } = running;
    const reporter = startProgressReporter({
      client: deps.client,
      jobId: running.id,
      log,
      intervalMs: deps.config.progress_interval,
      signal: running.signal,
      progress: () => running.progress,
      paused: () => running.pause !== undefined,
      onGone: () => running.cancel(new JobNoLongerOursError()),
    });
    const pauser = this.createPauser(running);
    running.pauser = pauser;
    // A cancel or a shutdown ends ffmpeg with SIGKILL (which a stopped process obeys): no more pausing from then on.
    const stopPausing = () => pauser?.stop();
    running.signal.addEventListener('abort', stopPausing, { once: true });
    try {
      let settled: ExecutorSettled;
      try {
        settled = { ok: true, value: await this.runExecutor(running) };
      } catch (error) {
        settled = { ok: false, error };
      }
      const failed = settled.ok ? (settled.value.deviceFailures ?? []) : deviceFailuresOf(settled.error);
      if (failed.length > 0) deps.onDeviceFailures(failed);
      // Decided before the reporter stops: a progress answer that lands after the executor finished changes nothing.
      const end = decideOutcome(running.signal, settled, deps.now() - running.startedAt);
      if (end.outcome === 'completed' && end.payload) {
        if (end.payload.metrics.software_fallback !== undefined) deps.metrics.softwareFallbacks.inc();
        const resumedFrom = end.payload.metrics.resume?.resumed_from_segment;
        if (resumedFrom) {
          deps.metrics.resumedJobs.inc();
          deps.metrics.resumedSegments.inc(resumedFrom);
        }
        log.info(
          { manifest_url: end.payload.manifest_url, total_time_ms: end.payload.metrics.total_time_ms },
          'job completed',
        );
      } else if (!end.payload) {
        log.warn({ reason: end.reason }, 'job aborted: it is no longer ours; nothing committed, nothing finalized');
      } else {
        if (end.payload.metrics.resume?.resumable) deps.metrics.resumableFailures.inc();
        log.error({ error_msg: end.reason }, 'job failed');
      }
      return end;
    } finally {
      running.signal.removeEventListener('abort', stopPausing);
      pauser?.stop();
      running.pause = undefined;
      await reporter.stop();
    }
  }

  /** The job's pauser, or none when nothing can pause it (pause_on_owner_load off and no hold). */
  private createPauser(running: RunningJob): JobPauser | undefined {
    const { config, metrics, now } = this.deps;
    const p = this.deps.pausing ?? {};
    if (!config.pause_on_owner_load && !p.holdReason) return undefined;
    const pids = () => running.ffmpegPids;
    // The NVIDIA check only where the probe found an NVIDIA GPU: elsewhere nvidia-smi is not even looked for.
    const gpuReason =
      p.gpuReason ??
      (this.deps.status.probe?.capabilities.gpu_type === 'nvidia'
        ? createNvidiaOwnerCheck({ runner: execaRunner, threshold: config.busy_cpu_percent })
        : undefined);
    return new JobPauser({
      pauseAfterMs: config.pause_after,
      resumeAfterMs: config.resume_after,
      onOwnerLoad: config.pause_on_owner_load,
      holdReason: p.holdReason,
      thresholds: { cpu: config.busy_cpu_percent, ram: config.busy_ram_percent },
      readLoad: (p.ownerLoad ?? (() => createOwnerLoadReader()))(),
      gpuReason: gpuReason && config.pause_on_owner_load ? () => gpuReason(pids) : undefined,
      suspender: p.suspender ?? createTreeSuspender(),
      normalPriority: cpuPriorityValue(config.process_priority),
      tickMs: p.tickMs ?? 1000,
      now,
      log: running.log,
      onPausedSeconds: (s) => metrics.pausedSeconds.inc(s),
      onChange: (state) => {
        running.pause = state;
        if (!state) return;
        // No frames while paused: fps 0 and no ETA (0, the protocol's "unknown") in the PATCHes and /status.
        running.progress = { ...running.progress, currentFps: 0, etaSec: 0 };
        metrics.jobFps.set(0);
      },
    });
  }

  /** The one call of the executor: the job and its context (signal, progress, ffmpeg pids, state_dir waits). */
  private runExecutor(running: RunningJob): Promise<JobSuccess> {
    const { deps } = this;
    return deps.executor(running.job, {
      signal: running.signal,
      log: running.log,
      probe: deps.status.probe,
      onProcess: (pid, proc) => {
        if (proc) running.pauser?.attach(proc);
        running.ffmpegPids.push(pid);
        const withPids = { ...running.record, ffmpeg_pids: [...running.ffmpegPids] };
        deps.writes.run('running-job', 'recording the ffmpeg pid', 'write', () => deps.records.write(withPids));
      },
      onStateDirProblem: (problem) => {
        // The commit waits for state_dir to take its journal: not ready, and the same metric as the outbox's.
        deps.status.commitWaitProblem = problem;
        deps.metrics.stateDirWritable.set(problem || deps.writes.problem() ? 0 : 1);
        if (problem) deps.metrics.stateWriteFailures.inc();
      },
      onProgress: (p: JobProgress) => {
        // Non-decreasing, clamped: a player-style progress bar must never jump back.
        const progress = Math.min(100, Math.max(running.progress.progress, p.progress));
        // A paused ffmpeg that still moves (Windows' idle class) is not running at its speed: fps 0, no ETA.
        const paused = running.pause !== undefined;
        running.progress = {
          progress,
          currentFps: paused ? 0 : Math.max(0, p.currentFps),
          etaSec: paused ? 0 : Math.max(0, p.etaSec),
        };
        deps.metrics.jobProgress.set(progress / 100);
        deps.metrics.jobFps.set(running.progress.currentFps);
      },
    });
  }

  /**
   * The bookkeeping of a job that is over (or never started). Synchronous, so it cannot be left half done: the
   * result goes to the outbox (memory at once, disk when it can), and the running-job record is removed once the
   * result is on disk (or delivered), so that a crash in between still has one of the two to recover from.
   */
  private finish(running: RunningJob, end: JobEnd | undefined): void {
    const { deps } = this;
    const clearRecord = () =>
      deps.writes.run('running-job', 'removing the running-job record', 'remove', () =>
        deps.records.clear(running.record),
      );
    if (end?.payload) {
      // settled never rejects (StateWrites swallows and retries), so this .then needs no catch.
      void deps.outbox.put(running.id, end.payload).settled.then(clearRecord);
    } else clearRecord();
    if (end) {
      deps.status.counts[end.outcome]++;
      deps.metrics.jobsTotal.inc({ status: end.outcome });
      deps.metrics.jobDuration.observe((deps.now() - running.startedAt) / 1000);
    }
    deps.metrics.busy.set(0);
    deps.metrics.jobProgress.set(0);
    deps.metrics.jobFps.set(0);
    this.running = undefined;
    deps.status.commitWaitProblem = undefined;
    deps.metrics.stateDirWritable.set(deps.writes.problem() ? 0 : 1);
    this.lastEndedAt = deps.now();
    if (!deps.stopSignal.aborted) deps.status.state = 'IDLE';
  }
}
