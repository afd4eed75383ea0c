/**
 * The worker: probe, register, sync forever, run one job at a time, deliver every result. This file wires the parts
 * together and is what app.ts and the tests hold; each idea lives in its own file:
 *   state.ts            lifecycle states, /readyz and /status
 *   recovery.ts         what a start repairs before the loop (temp leftovers, outbox, commits, a crashed job)
 *   loop.ts             probe, register, sync, re-probe: one plain loop
 *   triage.ts           a sync answer: cancel, start, reject or fail the assigned job
 *   job-runner.ts       one job to exactly one outcome (job-outcome.ts), its record and its result
 *   progress-reporter.ts  the PATCHes while a job runs
 *   shutdown.ts         the graceful stop
 *   admission.ts        work hours (work-window.ts) and drain (drain.ts): when no new job is taken
 *
 * Invariants (each part states the ones it keeps):
 * - At most one job runs. An assignment that arrives while a job runs is logged and counted, never started.
 * - Every job that started ends in exactly one outcome: a result in the outbox (COMPLETED/FAILED), or none when the
 *   orchestrator told us it is not ours any more.
 * - The running-job record exists from before the executor starts until the result is in the outbox (or delivered),
 *   so a crash at any point is recovered on the next start.
 * - Nothing throws out of the loop: every failure is logged, counted and retried. No promise is left without a
 *   rejection handler: the ones started and not awaited (`void`) are ones that cannot reject.
 * - Why a job stops is its signal's reason (ShutdownError, JobNoLongerOursError), on one signal per job composed
 *   from the worker's stop signal and the job's cancel controller.
 * - state_dir faults (full, read-only, no permission) never wedge the worker: the bookkeeping of a job that ended
 *   always runs, results that cannot be written are kept in memory, delivered and written when the disk is back
 *   (StateWrites retries with backoff), and while any write fails the worker says why in /readyz, syncs BUSY and
 *   starts no job.
 * - A job is started only once its running-job record is on disk: if the record cannot be written the job is not
 *   started and not finalized (syncs do not name it, so the orchestrator's lost-job handling takes over).
 * - Outside the work hours and while draining, syncs say BUSY and an assigned job is rejected; a drain with exit
 *   asks main.ts to stop (onDrainedForExit) once no job runs and every result is delivered.
 * - A job id assigned while an earlier result for the same id is still undelivered is a re-run: the stale result is
 *   dropped (not sent), and the new run's result is the one delivered (docs/safety.md).
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import type { CapabilityProber, EncoderFamily } from '../capabilities/types.js';
import { errorMessage } from '../errors.js';
import { sleep as abortableSleep } from '../util/abortable.js';
import type { JobExecutor } from '../job/contract.js';
import { Admission } from './admission.js';
import { Drain } from './drain.js';
import { HostLoadSampler, type HostLoadReader } from './host-load.js';
import { JobRecordStore } from './job-record.js';
import { JobRunner } from './job-runner.js';
import { WorkerLoop, type Sleep } from './loop.js';
import { Outbox } from './outbox.js';
import { recoverAtStart } from './recovery.js';
import { shutdownWorker } from './shutdown.js';
import { StateWrites } from './state-writes.js';
import { WorkerStatus } from './state.js';
import { WorkWindow } from './work-window.js';

export type { WorkerState } from './state.js';

export interface WorkerDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  client: OrchestratorClient;
  prober: CapabilityProber;
  executor: JobExecutor;
  hostLoad: HostLoadReader;
  version: string;
  now?: () => number;
  /** The loop's waits (sync_interval, the re-probe delay); tests pass a clock that does not really wait. */
  sleep?: Sleep;
  /** Backoff bounds for register/finalize retries (tests shorten them). */
  retry?: { startMs: number; maxMs: number };
  /** How long to wait before probing again when ffmpeg is unusable. */
  reprobeDelayMs?: number;
  /** The work hours' time zone; default the process's (TZ). */
  timeZone?: string;
  /** When this process started (ms since the epoch): older drain requests are an earlier run's. */
  processStartedAt?: number;
}

export class Worker {
  private readonly status_: WorkerStatus;
  private readonly stopController = new AbortController();
  private readonly reprobeFamilies = new Set<EncoderFamily>();
  private readonly outbox: Outbox;
  private readonly records: JobRecordStore;
  private readonly writes: StateWrites;
  private readonly runner: JobRunner;
  private readonly loop: WorkerLoop;
  private readonly now: () => number;
  private readonly window: WorkWindow;
  private readonly drain: Drain;
  private readonly admission: Admission;
  private readonly drainExitListeners: (() => void)[] = [];
  private loopDone?: Promise<void>;
  private stopPromise?: Promise<void>;

  constructor(private readonly deps: WorkerDeps) {
    const { config, log, metrics } = deps;
    this.now = deps.now ?? Date.now;
    this.window = new WorkWindow({ config, log, timeZone: deps.timeZone });
    this.drain = new Drain({
      stateDir: config.state_dir,
      log,
      now: this.now,
      processStartedAt: deps.processStartedAt ?? performance.timeOrigin,
    });
    const stopSignal = this.stopController.signal;
    this.writes = new StateWrites({
      stateDir: config.state_dir,
      log,
      retryStartMs: deps.retry?.startMs,
      retryMaxMs: deps.retry?.maxMs,
      onHealth: (problem) => {
        metrics.stateDirWritable.set(problem || this.status_.commitWaitProblem ? 0 : 1);
        // A job may be waiting for the worker to say IDLE again: sync now rather than a whole interval later.
        if (!problem) this.loop.wake();
      },
      onFailure: () => metrics.stateWriteFailures.inc(),
    });
    this.outbox = new Outbox({
      stateDir: config.state_dir,
      client: deps.client,
      log,
      writes: this.writes,
      retryStartMs: deps.retry?.startMs,
      retryMaxMs: deps.retry?.maxMs,
      onChange: (n) => {
        metrics.finalizeBacklog.set(n);
        // The last result delivered may be what a drain with exit waits for: check at once.
        if (n === 0 && this.drain.exitWhenIdle) this.loop.wake();
      },
    });
    this.records = new JobRecordStore(config.state_dir, log);
    this.status_ = new WorkerStatus({
      config,
      version: deps.version,
      stateDirProblem: () => this.writes.problem(),
      currentJob: () => this.runner.current(),
    });
    this.runner = new JobRunner({
      config,
      log,
      metrics,
      client: deps.client,
      executor: deps.executor,
      records: this.records,
      writes: this.writes,
      outbox: this.outbox,
      status: this.status_,
      now: this.now,
      stopSignal,
      onEnded: () => this.loop.wake(),
      // The work-hours "pause" mode holds a running job's ffmpeg outside the window (only when configured, so
      // that a worker with pausing off runs no pauser at all).
      pausing:
        config.work_hours_running_job === 'pause' && config.work_hours.trim() !== ''
          ? { holdReason: () => this.holdReason() }
          : undefined,
      onDeviceFailures: (families) => {
        // A hardware family failed at run time: re-test it before the next job (the loop does, between jobs).
        for (const family of families) {
          metrics.deviceErrors.inc({ family });
          this.reprobeFamilies.add(family);
        }
      },
    });
    this.admission = new Admission({
      window: this.window,
      drain: this.drain,
      now: this.now,
      isIdle: () => !this.runner.current() && this.outbox.count() === 0,
      onDrainedForExit: () => {
        for (const listener of this.drainExitListeners) listener();
      },
    });
    this.loop = new WorkerLoop({
      config,
      log,
      metrics,
      client: deps.client,
      prober: deps.prober,
      hostLoad: new HostLoadSampler({
        read: deps.hostLoad,
        now: this.now,
        thresholds: { cpu: config.busy_cpu_percent, ram: config.busy_ram_percent },
        log,
      }),
      outbox: this.outbox,
      writes: this.writes,
      status: this.status_,
      runner: this.runner,
      stopSignal,
      now: this.now,
      sleep: deps.sleep ?? abortableSleep,
      retry: deps.retry,
      reprobeDelayMs: deps.reprobeDelayMs ?? 30_000,
      reprobeFamilies: this.reprobeFamilies,
      admission: this.admission,
    });
  }

  /** Repairs what an earlier run left (recovery.ts), then starts the loop in the background. */
  async start(): Promise<void> {
    const { config, log } = this.deps;
    await recoverAtStart({
      stateDir: config.state_dir,
      tempDir: config.temp_dir,
      nasRoot: config.nas_mount_path,
      resumeKeepMs: config.resume_keep,
      resumeBudgetBytes: config.resume_disk_budget,
      log,
      outbox: this.outbox,
      records: this.records,
      writes: this.writes,
      now: this.now,
    });
    await this.drain.dropStale();
    this.loopDone = this.loop.run().catch((err) => {
      // The loop is written not to throw; reaching this is a bug, but the process must stay up for /healthz to say so.
      log.fatal({ err: errorMessage(err) }, 'worker loop crashed');
      this.status_.notReadyReason = `internal error: ${errorMessage(err)}`;
    });
  }

  readiness(): { ready: boolean; reason?: string } {
    return this.status_.readiness();
  }

  /** /status: the state's snapshot, plus the work hours and the drain. */
  status() {
    const now = this.now();
    return {
      ...this.status_.snapshot(),
      /** Why no new job is taken apart from the host's load (outside the work hours, draining), or null. */
      no_new_jobs: this.admission.noNewJobReason() ?? null,
      work_hours: this.window.view(now),
      drain: this.drain.view(),
    };
  }

  /** SIGUSR2 (main.ts): drain (drain.ts), and sync now so that the orchestrator hears BUSY at once. */
  async drainBySignal(): Promise<void> {
    await this.drain.onSignal();
    // Checked here too, not only after the next sync: a worker that cannot reach its orchestrator (still
    // registering) must still be able to stop on `drain --exit` while idle.
    if (this.loopDone) await this.admission.afterSync();
    this.loop.wake();
  }

  /** `listener` runs once a drain with exit is done: the caller stops the process (main.ts: exit 0). */
  onDrainedForExit(listener: () => void): void {
    this.drainExitListeners.push(listener);
  }

  /**
   * For the pause controller, polled while a job runs: why the running job must hold now (outside the work hours
   * with work_hours_running_job = pause), or undefined.
   */
  holdReason(): string | undefined {
    return this.window.holdReason(this.now());
  }

  /** Graceful shutdown (shutdown.ts); safe to call twice (returns the same promise). */
  stop(): Promise<void> {
    this.stopPromise ??= shutdownWorker({
      log: this.deps.log,
      shutdownTimeoutMs: this.deps.config.shutdown_timeout,
      status: this.status_,
      runner: this.runner,
      outbox: this.outbox,
      writes: this.writes,
      stopController: this.stopController,
      loopDone: this.loopDone,
    }).finally(() => this.drain.cleanUp());
    return this.stopPromise;
  }
}
