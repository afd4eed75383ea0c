/**
 * The worker's loop: probe until ffmpeg is usable, then round after round register when not registered, re-probe a
 * hardware family that failed at run time, sync (heartbeat + assignment) and hand the answer to the triage, sleep
 * sync_interval (cut short when a job ends or state_dir heals).
 *
 * Invariants:
 * - A plain loop, no re-entry: a sync answered 404 marks the worker unregistered and the next round registers
 *   again at once; a 404 to the sync right after that registration waits a sync_interval, so an orchestrator that
 *   accepts registrations but forgets them is not hammered.
 * - Nothing throws out of it: every failure is logged, counted and retried; only the stop signal ends it.
 * - No job is taken while a hardware family awaits its re-probe or state_dir cannot record a result, outside the
 *   work hours or while draining (admission.ts): the sync says BUSY.
 */
import type { Config } from '../config.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import type { CapabilityProber, EncoderFamily, ProbeReport } from '../capabilities/types.js';
import { SPLIT_STITCH_EXTENSION, type SyncResponse } from '../protocol/schemas.js';
import {
  NotRegisteredError,
  ProtocolError,
  ToolchainError,
  TransientOrchestratorError,
  errorMessage,
} from '../errors.js';
import { retryForever } from '../orchestrator/retry.js';
import { raceAbort } from '../util/abortable.js';
import { redactUrl } from '../util/redact.js';
import type { Admission } from './admission.js';
import type { HostLoadSampler } from './host-load.js';
import { logOrchestratorError } from './orchestrator-log.js';
import { handleSyncAnswer, type TriageDeps } from './triage.js';

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface WorkerLoopDeps extends TriageDeps {
  config: Config;
  client: OrchestratorClient;
  prober: CapabilityProber;
  hostLoad: HostLoadSampler;
  now: () => number;
  sleep: Sleep;
  retry?: { startMs: number; maxMs: number };
  reprobeDelayMs: number;
  /** Hardware families that failed at run time and must be re-tested before the next job. */
  reprobeFamilies: Set<EncoderFamily>;
  /** Work hours and drain: checked around each sync (absent: always take jobs). */
  admission?: Admission;
}

type SyncResult = 'ok' | 'not-registered' | 'error';

export class WorkerLoop {
  private wakeController = new AbortController();

  constructor(private readonly deps: WorkerLoopDeps) {}

  private get stopping(): boolean {
    return this.deps.stopSignal.aborted;
  }

  /** Cuts the current sleep short: the next sync goes out now. */
  wake(): void {
    this.wakeController.abort();
  }

  async run(): Promise<void> {
    const { deps } = this;
    deps.outbox.flushInBackground();
    if (!(await this.probeUntilUsable())) return;
    let registered = false;
    /** This round's registration answers a 404: a second 404 now waits a round rather than registering again. */
    let answering404 = false;
    while (!this.stopping) {
      if (!registered) {
        if (!(await this.registerUntilAccepted())) return;
        registered = true;
      }
      if (deps.reprobeFamilies.size > 0 && !deps.runner.current()) {
        await this.reprobe();
        registered = false; // the registration must say what the re-probe found
        continue;
      }
      await deps.admission?.beforeSync();
      const result = await this.syncOnce();
      // Also after a failed sync: an idle worker draining with exit stops even while the orchestrator is away.
      await deps.admission?.afterSync();
      if (result === 'not-registered' && !this.stopping && !answering404) {
        deps.log.warn('orchestrator does not know this worker (it restarted?); registering again');
        registered = false;
        answering404 = true;
        continue;
      }
      answering404 = false;
      try {
        await deps.sleep(deps.config.sync_interval, AbortSignal.any([deps.stopSignal, this.wakeController.signal]));
      } catch {
        // woken early (a job ended) or stopping: either way, go round
      }
      if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
    }
  }

  private async probeUntilUsable(): Promise<boolean> {
    const { deps } = this;
    while (!this.stopping) {
      deps.status.state = 'STARTING';
      try {
        this.setProbe(await deps.prober.probe());
        return true;
      } catch (err) {
        const reason = errorMessage(err);
        deps.status.state = 'UNAVAILABLE';
        deps.status.notReadyReason = reason;
        if (err instanceof ToolchainError)
          deps.log.error({ err: reason }, 'ffmpeg is not usable; this worker cannot take jobs');
        else deps.log.error({ err: reason }, 'capability probe failed');
        try {
          await deps.sleep(deps.reprobeDelayMs, deps.stopSignal);
        } catch {
          return false;
        }
      }
    }
    return false;
  }

  private setProbe(report: ProbeReport): void {
    const { deps } = this;
    deps.status.probe = report;
    for (const e of report.encoders) deps.metrics.encoderAvailable.set({ encoder: e.name }, e.ok ? 1 : 0);
    deps.log.info(
      {
        supported_codecs: report.capabilities.supported_codecs,
        gpu_type: report.capabilities.gpu_type,
        from_cache: report.fromCache,
      },
      'capabilities probed',
    );
  }

  /** Registers, retrying until accepted; false only when the worker stops first. */
  private async registerUntilAccepted(): Promise<boolean> {
    const { deps } = this;
    if (!deps.runner.current()) deps.status.state = 'REGISTERING';
    deps.status.notReadyReason = 'registering with the orchestrator';
    // What the host can do, plus the protocol extensions this worker speaks (docs/protocol.md).
    const capabilities = { ...deps.status.probe!.capabilities, extensions: [SPLIT_STITCH_EXTENSION] };
    try {
      await raceAbort(
        retryForever(() => deps.client.register(capabilities), {
          signal: deps.stopSignal,
          startDelayMs: deps.retry?.startMs,
          maxDelayMs: deps.retry?.maxMs,
          shouldRetry: () => true,
          onRetry: (err, attempt) => {
            deps.status.notReadyReason = `not registered yet: ${errorMessage(err)}`;
            logOrchestratorError(deps.log, err, 'registration failed; retrying', { attempt });
          },
        }),
        deps.stopSignal,
      );
    } catch {
      return false; // only a stop ends the retries
    }
    deps.status.registeredAt = deps.now();
    deps.metrics.registrations.inc();
    deps.log.info({ orchestrator_url: redactUrl(deps.config.orchestrator_url) }, 'registered with the orchestrator');
    if (!deps.runner.current()) deps.status.state = 'IDLE';
    return true;
  }

  private async reprobe(): Promise<void> {
    const { deps } = this;
    const families = [...deps.reprobeFamilies];
    deps.reprobeFamilies.clear();
    for (const family of families) {
      try {
        deps.log.warn({ family }, 'hardware failed during a job; testing it again');
        this.setProbe(await deps.prober.reprobeFamily(family));
      } catch (err) {
        deps.log.error({ family, err: errorMessage(err) }, 're-probe failed');
      }
    }
  }

  private async syncOnce(): Promise<SyncResult> {
    const { deps } = this;
    const current = deps.runner.current();
    const stats = await deps.hostLoad.sample({ running: current !== undefined, lastEndedAt: deps.runner.lastEndedAt });
    // A hardware family failed at run time and is not re-tested yet: take no job until the registration is true
    // again (a job may have ended while this sync was being prepared, after the loop's re-probe check).
    // Nor while state_dir cannot record a result: a job run now could not be recovered after a crash. Nor outside
    // the work hours or while draining.
    const busy =
      stats.is_busy ||
      this.stopping ||
      deps.reprobeFamilies.size > 0 ||
      deps.writes.problem() !== undefined ||
      deps.admission?.noNewJobReason() !== undefined;
    let res: SyncResponse;
    try {
      res = await deps.client.sync({
        status: busy ? 'BUSY' : 'IDLE',
        hardware_stats: { ...stats, is_busy: busy },
        current_job_id: deps.runner.current()?.id ?? '',
      });
    } catch (err) {
      return this.onSyncError(err);
    }
    deps.status.lastSync = { at: deps.now(), result: 'ok' };
    deps.metrics.syncRequests.inc({ result: 'ok' });
    handleSyncAnswer(deps, res);
    return 'ok';
  }

  private onSyncError(err: unknown): SyncResult {
    const { deps } = this;
    const result =
      err instanceof NotRegisteredError
        ? 'not_registered'
        : err instanceof TransientOrchestratorError
          ? 'transient_error'
          : err instanceof ProtocolError
            ? 'protocol_error'
            : 'permanent_error';
    deps.status.lastSync = { at: deps.now(), result, error: errorMessage(err) };
    deps.metrics.syncRequests.inc({ result });
    if (err instanceof NotRegisteredError) return 'not-registered';
    logOrchestratorError(deps.log, err, 'sync failed');
    return 'error';
  }
}
