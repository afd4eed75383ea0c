/**
 * The worker's lifecycle: probe, register, sync forever, run one job at a time, deliver every result.
 *
 * Invariants:
 * - At most one job runs. An assignment that arrives while a job runs is logged and counted, never started.
 * - Every job that started ends in exactly one of: a result in the outbox (COMPLETED/FAILED), or "gone" (the
 *   orchestrator told us it is not ours any more), in which case nothing is finalized.
 * - The running-job record exists from before the executor starts until the result is in the outbox, so a crash at
 *   any point is recovered on the next start.
 * - Nothing here throws out of the loop: every failure is logged, counted and retried. No promise is left without
 *   a rejection handler: the ones started and not awaited (`void`) are ones that cannot reject.
 * - state_dir faults (full, read-only, no permission) never wedge the worker: the bookkeeping of a job that ended
 *   always runs (current is cleared in a finally), results that cannot be written are kept in memory, delivered
 *   and written when the disk is back (StateWrites retries with backoff), and while any write fails the worker
 *   says why in /readyz, syncs BUSY and starts no job.
 * - A job is started only once its running-job record is on disk: if the record cannot be written the job is not
 *   started and not finalized (syncs do not name it, so the orchestrator's lost-job handling takes over).
 * - A job id assigned while an earlier result for the same id is still undelivered is a re-run: the stale result is
 *   dropped (not sent), and the new run's result is the one delivered (docs/safety.md).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import type { CapabilityProber, EncoderFamily, ProbeReport } from '../capabilities/types.js';
import { deviceFailuresOf, type JobExecutor, type JobProgress } from '../job/contract.js';
import { parseAssignedJob } from '../job/parse-job.js';
import type { HostLoadReader } from './host-load.js';
import { toHardwareStats } from './host-load.js';
import type { Job, SyncResponse } from '../protocol/schemas.js';
import {
  JobCancelledError,
  JobGoneError,
  NotRegisteredError,
  PermanentOrchestratorError,
  ProtocolError,
  StateDirInUseError,
  ToolchainError,
  TransientOrchestratorError,
  errorMessage,
} from '../errors.js';
import { retryForever } from '../orchestrator/retry.js';
import { Outbox, type OutboxPayload } from './outbox.js';
import { JobRecordStore, type RunningJobRecord } from './job-record.js';
import { StateWrites } from './state-writes.js';
import { currentProcessIdentity, recordedProcessState, looksLikeWorker } from '../util/process-identity.js';
import { killOrphanFfmpeg } from './orphans.js';
import { jobStagingDir } from '../storage/paths.js';
import { recoverInterruptedCommits } from '../storage/commit-recovery.js';
import { raceAbort, sleep } from '../util/abortable.js';
import { redactUrl } from '../util/redact.js';
import { removeTempLeftovers } from '../util/durable-file.js';

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
  /** Backoff bounds for register/finalize retries (tests shorten them). */
  retry?: { startMs: number; maxMs: number };
  /** How long to wait before probing again when ffmpeg is unusable. */
  reprobeDelayMs?: number;
}

interface RunningJob {
  id: string;
  job: Job;
  startedAt: number;
  abort: AbortController;
  progress: JobProgress;
  /** The orchestrator said the job is not ours (404/409/410 or cancel): finalize nothing. */
  gone: boolean;
  log: Logger;
  ffmpegPids: number[];
}

const SHUTDOWN_MESSAGE = 'worker shutting down';

export class Worker {
  private state: WorkerState = 'STARTING';
  private notReadyReason = 'probing capabilities';
  private probe?: ProbeReport;
  private registeredAt?: number;
  private lastSync?: { at: number; result: string; error?: string };
  private current?: RunningJob;
  private jobDone?: Promise<void>;
  private readonly stopController = new AbortController();
  private wakeController = new AbortController();
  private loopDone?: Promise<void>;
  private stopPromise?: Promise<void>;
  private readonly reprobeFamilies = new Set<EncoderFamily>();
  private readonly outbox: Outbox;
  private readonly records: JobRecordStore;
  private readonly writes: StateWrites;
  /** Why the running job's commit waits for state_dir (its journal cannot be written), while it does. */
  private commitWaitProblem?: string;
  private readonly now: () => number;
  private counts = { completed: 0, failed: 0, cancelled: 0 };
  private lastLoadSampleAt = 0;
  private lastJobEndedAt = 0;

  constructor(private readonly deps: WorkerDeps) {
    this.now = deps.now ?? Date.now;
    this.writes = new StateWrites({
      stateDir: deps.config.state_dir,
      log: deps.log,
      retryStartMs: deps.retry?.startMs,
      retryMaxMs: deps.retry?.maxMs,
      onHealth: (problem) => {
        deps.metrics.stateDirWritable.set(problem || this.commitWaitProblem ? 0 : 1);
        // A job may be waiting for the worker to say IDLE again: sync now rather than a whole interval later.
        if (!problem) this.wakeController.abort();
      },
      onFailure: () => deps.metrics.stateWriteFailures.inc(),
    });
    this.outbox = new Outbox({
      stateDir: deps.config.state_dir,
      client: deps.client,
      log: deps.log,
      writes: this.writes,
      retryStartMs: deps.retry?.startMs,
      retryMaxMs: deps.retry?.maxMs,
      onChange: (n) => deps.metrics.finalizeBacklog.set(n),
    });
    this.records = new JobRecordStore(deps.config.state_dir, deps.log);
  }

  /** Starts the lifecycle in the background; resolves once crash recovery is done. */
  async start(): Promise<void> {
    // Temp files of writes a crash interrupted: never needed (the rename did not happen), and they take space.
    const stateDir = this.deps.config.state_dir;
    for (const dir of [stateDir, path.join(stateDir, 'outbox'), path.join(stateDir, 'commits')])
      await removeTempLeftovers(dir);
    await this.outbox.load();
    // Before the crashed job's FAILED result: a commit it interrupted leaves the NAS all old or all new first.
    await recoverInterruptedCommits({ stateDir, nasRoot: this.deps.config.nas_mount_path, log: this.deps.log });
    await this.recoverCrashedJob();
    this.loopDone = this.run().catch((err) => {
      // The loop is written not to throw; reaching this is a bug, but the process must stay up for /healthz to say so.
      this.deps.log.fatal({ err: errorMessage(err) }, 'worker loop crashed');
      this.notReadyReason = `internal error: ${errorMessage(err)}`;
    });
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.state === 'IDLE' || this.state === 'BUSY') {
      const problem = this.writes.problem() ?? this.commitWaitProblem;
      return problem ? { ready: false, reason: problem } : { ready: true };
    }
    if (this.state === 'DRAINING' || this.state === 'STOPPED') return { ready: false, reason: SHUTDOWN_MESSAGE };
    return { ready: false, reason: this.notReadyReason };
  }

  status() {
    const c = this.current;
    return {
      worker_id: this.deps.config.worker_id,
      version: this.deps.version,
      state: this.state,
      ready: this.readiness(),
      orchestrator_url: redactUrl(this.deps.config.orchestrator_url),
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
      jobs: { ...this.counts },
      state_dir_problem: this.writes.problem() ?? this.commitWaitProblem ?? null,
      capabilities: this.probe?.capabilities ?? null,
      encoders: this.probe?.encoders.map((e) => ({ name: e.name, ok: e.ok, reason: e.reason })) ?? [],
    };
  }

  /** Graceful shutdown; safe to call twice (returns the same promise). */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    this.outbox.flushInBackground();
    if (!(await this.probeUntilUsable())) return;
    if (!(await this.registerUntilAccepted())) return;
    while (!this.stopping) {
      if (this.reprobeFamilies.size > 0 && !this.current) await this.reprobeAndReregister();
      await this.syncOnce();
      try {
        await sleep(
          this.deps.config.sync_interval,
          AbortSignal.any([this.stopController.signal, this.wakeController.signal]),
        );
      } catch {
        // woken early (a job ended) or stopping: either way, go round
      }
      if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
    }
  }

  private async probeUntilUsable(): Promise<boolean> {
    while (!this.stopping) {
      this.state = 'STARTING';
      try {
        this.setProbe(await this.deps.prober.probe());
        return true;
      } catch (err) {
        const reason = errorMessage(err);
        this.state = 'UNAVAILABLE';
        this.notReadyReason = reason;
        if (err instanceof ToolchainError)
          this.deps.log.error({ err: reason }, 'ffmpeg is not usable; this worker cannot take jobs');
        else this.deps.log.error({ err: reason }, 'capability probe failed');
        try {
          await sleep(this.deps.reprobeDelayMs ?? 30_000, this.stopController.signal);
        } catch {
          return false;
        }
      }
    }
    return false;
  }

  private setProbe(report: ProbeReport): void {
    this.probe = report;
    for (const e of report.encoders) this.deps.metrics.encoderAvailable.set({ encoder: e.name }, e.ok ? 1 : 0);
    this.deps.log.info(
      {
        supported_codecs: report.capabilities.supported_codecs,
        gpu_type: report.capabilities.gpu_type,
        from_cache: report.fromCache,
      },
      'capabilities probed',
    );
  }

  private async registerUntilAccepted(): Promise<boolean> {
    if (!this.current) this.state = 'REGISTERING';
    this.notReadyReason = 'registering with the orchestrator';
    const capabilities = this.probe!.capabilities;
    try {
      await raceAbort(
        retryForever(() => this.deps.client.register(capabilities), {
          signal: this.stopController.signal,
          startDelayMs: this.deps.retry?.startMs,
          maxDelayMs: this.deps.retry?.maxMs,
          shouldRetry: () => true,
          onRetry: (err, attempt) => {
            this.notReadyReason = `not registered yet: ${errorMessage(err)}`;
            this.logOrchestratorError(err, 'registration failed; retrying', { attempt });
          },
        }),
        this.stopController.signal,
      );
    } catch {
      return false; // only a stop ends the retries
    }
    this.registeredAt = this.now();
    this.deps.metrics.registrations.inc();
    this.deps.log.info(
      { orchestrator_url: redactUrl(this.deps.config.orchestrator_url) },
      'registered with the orchestrator',
    );
    if (!this.current) this.state = 'IDLE';
    return true;
  }

  private logOrchestratorError(err: unknown, msg: string, extra: Record<string, unknown> = {}): void {
    if (err instanceof PermanentOrchestratorError && err.isAuth)
      this.deps.log.error({ ...extra, err: errorMessage(err), auth_problem: true }, `${msg} (authentication problem)`);
    else this.deps.log.warn({ ...extra, err: errorMessage(err) }, msg);
  }

  private async sampleHostLoad() {
    const jobDuringWindow = this.current !== undefined || this.lastJobEndedAt >= this.lastLoadSampleAt;
    let load = { cpuPercent: 0, ramPercent: 0 };
    try {
      load = await this.deps.hostLoad();
    } catch (err) {
      this.deps.log.debug({ err: errorMessage(err) }, 'cannot read host load');
    }
    this.lastLoadSampleAt = this.now();
    // Our own ffmpeg loaded the CPU during a window that overlapped a job: that is not "others are using the host".
    const cpuForBusy = jobDuringWindow && !this.current ? 0 : load.cpuPercent;
    const stats = toHardwareStats({ ...load, cpuPercent: cpuForBusy }, this.current !== undefined, {
      cpu: this.deps.config.busy_cpu_percent,
      ram: this.deps.config.busy_ram_percent,
    });
    return { ...stats, cpu_percent: load.cpuPercent };
  }

  private async syncOnce(retried = false): Promise<void> {
    const stats = await this.sampleHostLoad();
    // A hardware family failed at run time and is not re-tested yet: take no job until the registration is true
    // again (a job may have ended while this sync was being prepared, after the loop's re-probe check).
    // Nor while state_dir cannot record a result: a job run now could not be recovered after a crash.
    const busy = stats.is_busy || this.stopping || this.reprobeFamilies.size > 0 || this.writes.problem() !== undefined;
    let res: SyncResponse;
    try {
      res = await this.deps.client.sync({
        status: busy ? 'BUSY' : 'IDLE',
        hardware_stats: { ...stats, is_busy: busy },
        current_job_id: this.current?.id ?? '',
      });
    } catch (err) {
      this.onSyncError(err);
      if (err instanceof NotRegisteredError && !retried && !this.stopping) {
        this.deps.log.warn('orchestrator does not know this worker (it restarted?); registering again');
        if (await this.registerUntilAccepted()) await this.syncOnce(true);
      }
      return;
    }
    this.lastSync = { at: this.now(), result: 'ok' };
    this.deps.metrics.syncRequests.inc({ result: 'ok' });
    this.handleSyncAnswer(res);
  }

  private onSyncError(err: unknown): void {
    const result =
      err instanceof NotRegisteredError
        ? 'not_registered'
        : err instanceof TransientOrchestratorError
          ? 'transient_error'
          : err instanceof ProtocolError
            ? 'protocol_error'
            : 'permanent_error';
    this.lastSync = { at: this.now(), result, error: errorMessage(err) };
    this.deps.metrics.syncRequests.inc({ result });
    if (!(err instanceof NotRegisteredError)) this.logOrchestratorError(err, 'sync failed');
  }

  private handleSyncAnswer(res: SyncResponse): void {
    if (res.cancel_current_job && this.current) {
      this.current.log.warn('the orchestrator cancelled the running job; aborting it');
      this.current.gone = true;
      this.current.abort.abort(new JobCancelledError('job cancelled by the orchestrator'));
    }
    if (res.assigned_job === undefined || res.assigned_job === null) return;
    const parsed = parseAssignedJob(res.assigned_job);
    // An orchestrator written in Go that has nothing to assign may still send its empty Job struct (job_id "",
    // outputs null): that is "no job", not a malformed one to log on every sync.
    if (!parsed.ok && parsed.empty) return;
    const assignedId = parsed.ok ? parsed.job.job_id : parsed.jobId;
    if (this.current || this.stopping) {
      if (assignedId !== undefined && assignedId === this.current?.id) return;
      this.deps.metrics.assignmentsRejected.inc();
      this.deps.log.warn(
        { job_id: assignedId, running_job_id: this.current?.id },
        this.stopping
          ? 'job assigned while shutting down; not starting it'
          : 'job assigned while busy; not starting it',
      );
      return;
    }
    if (!parsed.ok) {
      const { jobId, problem } = parsed;
      if (jobId) {
        this.deps.log.error({ job_id: jobId, problem }, 'assigned job is malformed; failing it');
        this.finalizeUnstartable(jobId, `invalid job: ${problem}`);
      } else {
        this.deps.log.error({ problem }, 'assigned job is malformed and has no job_id; ignoring it');
      }
      return;
    }
    const assigned = parsed.job;
    const stateProblem = this.writes.problem();
    if (stateProblem) {
      this.deps.metrics.assignmentsRejected.inc();
      this.deps.log.warn(
        { job_id: assignedId, reason: stateProblem },
        'job assigned while state_dir cannot be written; not starting it',
      );
      return;
    }
    // The same job id again while its previous result is undelivered: the orchestrator is running it again, so the
    // old result is moot; this run's result replaces it (a stale FAILED must not land after the re-run's result).
    const stale = this.outbox.discard(assigned.job_id);
    if (stale)
      this.deps.log.warn(
        { job_id: assignedId, stale_status: stale.payload.status, stale_created_at: stale.created_at },
        'job assigned again while its previous result was undelivered; dropping that result for the new run',
      );
    this.startJob(assigned);
  }

  /** Fails a job that could not even be started. Synchronous and never throws: put and deliver cannot reject. */
  private finalizeUnstartable(jobId: string, message: string): void {
    const payload: OutboxPayload = { status: 'FAILED', error_msg: message, metrics: { total_time_ms: 0 } };
    this.counts.failed++;
    this.deps.metrics.jobsTotal.inc({ status: 'failed' });
    this.outbox.put(jobId, payload);
    void this.outbox.deliver(jobId);
  }

  private startJob(job: Job): void {
    const log = this.deps.log.child({ job_id: job.job_id });
    const running: RunningJob = {
      id: job.job_id,
      job,
      startedAt: this.now(),
      abort: new AbortController(),
      progress: { progress: 0, currentFps: 0, etaSec: 0 },
      gone: false,
      log,
      ffmpegPids: [],
    };
    this.current = running;
    this.state = 'BUSY';
    this.deps.metrics.busy.set(1);
    this.deps.metrics.jobProgress.set(0);
    log.info({ source: job.input.source_url, outputs: job.outputs.length }, 'job started');
    this.jobDone = this.runJob(running).catch((err) => {
      // runJob handles its own failures; reaching this is a bug, but it must not leave an unhandled rejection.
      log.fatal({ err: errorMessage(err) }, 'job bookkeeping failed');
    });
  }

  private async runJob(running: RunningJob): Promise<void> {
    const { log } = running;
    const me = currentProcessIdentity();
    const record: RunningJobRecord = {
      job_id: running.id,
      started_at: new Date(running.startedAt).toISOString(),
      pid: me.pid,
      pid_start: me.start,
      boot_id: me.boot_id,
      hostname: me.hostname,
    };
    let ended: { payload?: OutboxPayload; outcome: 'completed' | 'failed' | 'cancelled' } | undefined;
    try {
      // No record, no job: a job whose crash could not be recovered must not start. It is not finalized either;
      // the orchestrator sees it is not running here and assigns it again (to us once state_dir is writable).
      const recorded = await this.writes.tryOnce('writing the running-job record', () => this.records.write(record));
      if (!recorded) {
        this.deps.metrics.assignmentsRejected.inc();
        log.error(
          'cannot record the running job in state_dir; not starting it (the orchestrator will assign it again)',
        );
        return;
      }
      ended = await this.execute(running, record);
    } finally {
      // Whatever happened above, the worker must not stay BUSY with a job that is over.
      this.endJob(running, ended);
    }
    if (ended.payload && !this.stopping) {
      const delivery = this.outbox.deliver(running.id);
      // Sync right after the result is accepted: an orchestrator assigns the next job only once it knows this one
      // ended, so syncing before the finalize lands would leave the worker idle for a whole sync_interval.
      // If delivery is slow (orchestrator down), it goes on in the background and the loop carries on.
      await raceAbort(delivery, AbortSignal.timeout(2000)).catch(() => undefined);
    }
    this.wakeController.abort();
  }

  /** Runs the executor and turns its outcome into a result; never throws. */
  private async execute(
    running: RunningJob,
    record: RunningJobRecord,
  ): Promise<{ payload?: OutboxPayload; outcome: 'completed' | 'failed' | 'cancelled' }> {
    const { log } = running;
    const reporter = this.startProgressReporter(running);
    try {
      const result = await this.deps.executor(running.job, {
        signal: running.abort.signal,
        probe: this.probe,
        log,
        onProcess: (pid) => {
          running.ffmpegPids.push(pid);
          const withPids = { ...record, ffmpeg_pids: [...running.ffmpegPids] };
          this.writes.run('running-job', 'recording the ffmpeg pid', 'write', () => this.records.write(withPids));
        },
        onStateDirProblem: (problem) => {
          // The commit waits for state_dir to take its journal: not ready, and the same metric as the outbox's.
          this.commitWaitProblem = problem;
          this.deps.metrics.stateDirWritable.set(problem || this.writes.problem() ? 0 : 1);
          if (problem) this.deps.metrics.stateWriteFailures.inc();
        },
        onProgress: (p) => {
          // Non-decreasing, clamped: a player-style progress bar must never jump back.
          const progress = Math.min(100, Math.max(running.progress.progress, p.progress));
          running.progress = { progress, currentFps: Math.max(0, p.currentFps), etaSec: Math.max(0, p.etaSec) };
          this.deps.metrics.jobProgress.set(progress / 100);
          this.deps.metrics.jobFps.set(running.progress.currentFps);
        },
      });
      this.hardwareFailed(result.deviceFailures ?? []);
      if (running.gone) throw new JobCancelledError('job no longer assigned to this worker');
      const payload: OutboxPayload = {
        status: 'COMPLETED',
        manifest_url: result.manifestUrl,
        metrics: { ...result.metrics, total_time_ms: this.now() - running.startedAt },
      };
      if (result.metrics.software_fallback !== undefined) this.deps.metrics.softwareFallbacks.inc();
      log.info({ manifest_url: result.manifestUrl, total_time_ms: payload.metrics.total_time_ms }, 'job completed');
      return { payload, outcome: 'completed' };
    } catch (err) {
      this.hardwareFailed(deviceFailuresOf(err));
      const total_time_ms = this.now() - running.startedAt;
      if (running.gone) {
        log.warn(
          { reason: errorMessage(err) },
          'job aborted: it is no longer ours; nothing committed, nothing finalized',
        );
        return { outcome: 'cancelled' };
      }
      const aborted = running.abort.signal.aborted;
      const message = aborted ? errorMessage(running.abort.signal.reason) : errorMessage(err);
      log.error({ error_msg: message }, 'job failed');
      return {
        payload: { status: 'FAILED', error_msg: message, metrics: { total_time_ms } },
        outcome: aborted ? 'cancelled' : 'failed',
      };
    } finally {
      await reporter.stop();
    }
  }

  /**
   * Hardware families that failed under the job with a device error (the job's outcome tells them): counted, and
   * re-tested before the next job starts (the loop re-probes while no job runs, so these are in before it looks).
   */
  private hardwareFailed(families: readonly EncoderFamily[]): void {
    for (const family of families) {
      this.deps.metrics.deviceErrors.inc({ family });
      this.reprobeFamilies.add(family);
    }
  }

  /**
   * The bookkeeping of a job that is over (or never started). Synchronous, so it cannot be left half done: the
   * result goes to the outbox (memory at once, disk when it can), and the running-job record is removed once the
   * result is on disk (or delivered), so that a crash in between still has one of the two to recover from.
   */
  private endJob(
    running: RunningJob,
    ended: { payload?: OutboxPayload; outcome: 'completed' | 'failed' | 'cancelled' } | undefined,
  ): void {
    const record = { job_id: running.id, started_at: new Date(running.startedAt).toISOString() };
    const clearRecord = () =>
      this.writes.run('running-job', 'removing the running-job record', 'remove', () => this.records.clear(record));
    if (ended?.payload) {
      // settled never rejects (StateWrites swallows and retries), so this .then needs no catch.
      void this.outbox.put(running.id, ended.payload).settled.then(clearRecord);
    } else clearRecord();
    if (ended) {
      this.counts[ended.outcome]++;
      this.deps.metrics.jobsTotal.inc({ status: ended.outcome });
      this.deps.metrics.jobDuration.observe((this.now() - running.startedAt) / 1000);
    }
    this.deps.metrics.busy.set(0);
    this.deps.metrics.jobProgress.set(0);
    this.deps.metrics.jobFps.set(0);
    this.current = undefined;
    this.commitWaitProblem = undefined;
    this.deps.metrics.stateDirWritable.set(this.writes.problem() ? 0 : 1);
    this.lastJobEndedAt = this.now();
    if (!this.stopping) this.state = 'IDLE';
  }

  /** PATCHes progress every progress_interval while it changes; a job-gone answer aborts the job. */
  private startProgressReporter(running: RunningJob) {
    let lastSent: string | undefined;
    let inFlight: Promise<void> | undefined;
    const send = async () => {
      const p = running.progress;
      const body = {
        status: 'PROCESSING' as const,
        progress: Math.round(p.progress * 100) / 100,
        current_fps: Math.round(p.currentFps * 10) / 10,
        eta_sec: Math.round(p.etaSec),
      };
      const key = JSON.stringify(body);
      if (key === lastSent) return;
      try {
        await this.deps.client.reportProgress(running.id, body);
        lastSent = key;
      } catch (err) {
        if (err instanceof JobGoneError) {
          if (!running.gone) {
            running.log.warn({ status: err.status }, 'orchestrator says the job is no longer ours; aborting it');
            running.gone = true;
            running.abort.abort(new JobCancelledError('job no longer assigned to this worker'));
          }
        } else this.logOrchestratorError(err, 'progress report failed');
      }
    };
    const tick = () => {
      if (inFlight || running.abort.signal.aborted) return;
      inFlight = send().finally(() => (inFlight = undefined));
    };
    tick(); // tell the orchestrator at once that the job is PROCESSING
    const timer = setInterval(tick, this.deps.config.progress_interval);
    return {
      stop: async () => {
        clearInterval(timer);
        await inFlight;
      },
    };
  }

  private async reprobeAndReregister(): Promise<void> {
    const families = [...this.reprobeFamilies];
    this.reprobeFamilies.clear();
    for (const family of families) {
      try {
        this.deps.log.warn({ family }, 'hardware failed during a job; testing it again');
        this.setProbe(await this.deps.prober.reprobeFamily(family));
      } catch (err) {
        this.deps.log.error({ family, err: errorMessage(err) }, 're-probe failed');
      }
    }
    await this.registerUntilAccepted();
  }

  private async recoverCrashedJob(): Promise<void> {
    const record = await this.records.read();
    if (!record) return;
    const log = this.deps.log.child({ job_id: record.job_id });
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
        `state_dir "${this.deps.config.state_dir}" holds the running job ${record.job_id} of another live ` +
          `transcode-worker (pid ${record.pid}): stop it, or give this worker its own state_dir`,
      );
    log.warn({ started_at: record.started_at }, 'found a job that was running when the worker stopped; failing it');
    const staging = jobStagingDir(this.deps.config.temp_dir, record.job_id);
    for (const pid of record.ffmpeg_pids ?? []) {
      const outcome = killOrphanFfmpeg(pid, staging);
      if (outcome === 'killed') log.warn({ pid }, 'ended the ffmpeg the interrupted job left running');
      if (outcome === 'unverifiable')
        log.warn({ pid }, 'the interrupted job may have left ffmpeg running; check this pid');
    }
    await rm(staging, { recursive: true, force: true }).catch((err) =>
      log.error({ err: errorMessage(err) }, 'cannot remove the staging folder of the interrupted job'),
    );
    const clearRecord = () =>
      this.writes.run('running-job', 'removing the running-job record', 'remove', () => this.records.clear(record));
    if (this.outbox.has(record.job_id)) {
      clearRecord();
      return;
    }
    const started = Date.parse(record.started_at);
    const { settled } = this.outbox.put(record.job_id, {
      status: 'FAILED',
      error_msg: 'worker restarted while the job was running',
      metrics: { total_time_ms: Number.isFinite(started) ? Math.max(0, this.now() - started) : 0 },
    });
    // The record goes only once the FAILED result is on disk (settled never rejects).
    void settled.then(clearRecord);
  }

  private async doStop(): Promise<void> {
    const log = this.deps.log;
    const prev = this.state;
    this.state = 'DRAINING';
    log.info({ previous_state: prev }, 'shutting down: no new jobs');
    this.stopController.abort(new Error(SHUTDOWN_MESSAGE));
    const running = this.current;
    if (running) {
      running.log.warn('aborting the running job because the worker is shutting down');
      running.abort.abort(new JobCancelledError(SHUTDOWN_MESSAGE));
      await this.jobDone;
      if (this.outbox.has(running.id)) {
        const delivered = await raceAbort(
          this.outbox.deliver(running.id),
          AbortSignal.timeout(this.deps.config.shutdown_timeout),
        ).catch(() => false);
        if (!delivered)
          log.warn({ job_id: running.id }, 'result kept in the outbox; it is delivered at the next start');
      }
    }
    this.outbox.close();
    // Let queued writes (the removal of a result just delivered) land; a failing disk only gets a second.
    await raceAbort(this.writes.idle(), AbortSignal.timeout(1000)).catch(() => undefined);
    this.writes.close();
    // The loop may be inside a sync call that hangs until request_timeout; do not let it hold the exit.
    await raceAbort(this.loopDone ?? Promise.resolve(), AbortSignal.timeout(1000)).catch(() => undefined);
    this.state = 'STOPPED';
    log.info('worker stopped');
  }
}
