/**
 * Steps a running job aside while the owner needs the machine: samples the other programs' load every tick while
 * the job's ffmpeg runs (never while idle), feeds the pause controller, and pauses or resumes the ffmpeg tree
 * (exec/suspend.ts: SIGSTOP/SIGCONT on POSIX, the idle priority class on Windows).
 *
 * Invariants: a process is only signalled between its spawn and its exit (its `exited` promise), so a reused pid
 * is never touched; a paused process is resumed when the pauser stops (the job ended, or was cancelled: a kill
 * must not meet a stopped process that it cannot wake); the runner is told (setPaused) so its stall watchdog
 * does not fire; `state()` is what /status and the progress reports show.
 */
import type { Logger } from '../log.js';
import type { PausableProcess, TreeSuspender } from '../exec/suspend.js';
import { PauseController, type PauseControllerOptions } from './pause-controller.js';
import { overThresholds, type OwnerLoadReader, type OwnerThresholds } from './owner-load.js';

export interface PauseState {
  reason: string;
  /** Epoch ms. */
  since: number;
}

export interface JobPauserDeps extends PauseControllerOptions {
  thresholds: OwnerThresholds;
  /** A fresh reader per job (its first call sets the CPU baseline). */
  readLoad: OwnerLoadReader;
  /** Extra reasons checked at each tick (the NVIDIA GPU), or undefined. May be slow: it is awaited. */
  gpuReason?: () => Promise<string | undefined>;
  suspender: TreeSuspender;
  /** The os.setPriority value a resumed process goes back to (Windows' idle-class pause). */
  normalPriority: number;
  tickMs: number;
  now: () => number;
  log: Logger;
  /** Seconds spent paused, added at every tick and at the end (transcode_worker_paused_seconds_total). */
  onPausedSeconds: (seconds: number) => void;
  /** The state changed (paused with a reason, or running). */
  onChange?: (state: PauseState | undefined) => void;
}

export class JobPauser {
  private readonly controller: PauseController;
  private target?: PausableProcess;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;
  private countedUntil?: number;

  constructor(private readonly deps: JobPauserDeps) {
    this.controller = new PauseController(deps);
  }

  /** A new ffmpeg of the job: sampled from now on, and paused at once if the job is paused. */
  attach(proc: PausableProcess): void {
    if (this.stopped) return;
    this.target = proc;
    if (this.controller.paused()) this.pauseTarget();
    void proc.exited.finally(() => {
      if (this.target !== proc) return;
      this.target = undefined;
      this.stopTimer();
    });
    this.timer ??= setInterval(() => void this.tick(), this.deps.tickMs);
    // First sample at once: it sets the CPU baseline, so the first decision comes one tick later.
    void this.tick();
  }

  state(): PauseState | undefined {
    const reason = this.controller.reason();
    const since = this.controller.since();
    return reason !== undefined && since !== undefined ? { reason, since } : undefined;
  }

  /** The job is over (or being cancelled): no more ticks, and a paused process is resumed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTimer();
    this.countPaused();
    if (this.controller.paused() && this.target) this.resumeTarget();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped || !this.target) return;
    this.ticking = true;
    try {
      const target = this.target;
      const load = this.deps.readLoad(target.pid);
      const over = overThresholds(load, this.deps.thresholds) ?? (await this.gpuReason());
      if (this.stopped || this.target !== target) return;
      this.countPaused();
      const change = this.controller.tick(this.deps.now(), over);
      if (change === 'pause') {
        this.countedUntil = this.deps.now();
        this.pauseTarget();
        this.deps.log.info({ reason: this.controller.reason() }, 'job paused: the owner needs the machine');
      } else if (change === 'resume') {
        this.resumeTarget();
        this.deps.log.info('job resumed');
      }
      if (change) this.deps.onChange?.(this.state());
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'cannot sample the owner load');
    } finally {
      this.ticking = false;
    }
  }

  private async gpuReason(): Promise<string | undefined> {
    if (!this.deps.gpuReason) return undefined;
    try {
      return await this.deps.gpuReason();
    } catch {
      return undefined;
    }
  }

  /** Adds the paused time since the last count to the metric. */
  private countPaused(): void {
    const now = this.deps.now();
    if (this.controller.paused() && this.countedUntil !== undefined)
      this.deps.onPausedSeconds(Math.max(0, now - this.countedUntil) / 1000);
    this.countedUntil = this.controller.paused() ? now : undefined;
  }

  private pauseTarget(): void {
    const t = this.target;
    if (!t) return;
    t.setPaused(true);
    if (!this.deps.suspender.suspend(t.pid)) this.deps.log.debug({ pid: t.pid }, 'ffmpeg exited before its pause');
  }

  private resumeTarget(): void {
    const t = this.target;
    if (!t) return;
    this.deps.suspender.resume(t.pid, this.deps.normalPriority);
    t.setPaused(false);
  }
}
