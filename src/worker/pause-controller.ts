/**
 * When a running job steps aside: the decision alone, with no clock, timer or process of its own, so it is tested
 * tick by tick (test/unit/worker/pause-controller.test.ts).
 *
 * Two independent reasons to pause, OR-ed:
 * - the owner's load: over the thresholds for `pauseAfterMs` → paused; under them for `resumeAfterMs` → resumed
 *   (hysteresis: a short spike never pauses, a short lull never resumes);
 * - a hold asked by something else (the work-hours "pause" mode at the end of a window): `holdReason()` is polled
 *   at every tick; while it returns a reason the job is paused at once, and once it returns undefined the job
 *   resumes at that tick, unless the owner's load keeps it paused.
 *
 * Invariant: `paused()` is true exactly while `reason()` is defined; `since()` is when the current pause began.
 */

export interface PauseControllerOptions {
  pauseAfterMs: number;
  resumeAfterMs: number;
  /** false: the owner's load never pauses (pause_on_owner_load: false); a hold still does. */
  onOwnerLoad: boolean;
  /** Polled at every tick: a reason to pause now, whatever the load (e.g. "outside work hours"). */
  holdReason?: () => string | undefined;
}

export class PauseController {
  private overSince?: number;
  private underSince?: number;
  private loadReason?: string;
  private current?: { reason: string; since: number };

  constructor(private readonly opts: PauseControllerOptions) {}

  /**
   * One sample: `overReason` says why the owner's load is over the thresholds now (undefined: under them).
   * Returns what changed: 'pause', 'resume', or undefined (including a paused job whose reason changed).
   */
  tick(now: number, overReason: string | undefined): 'pause' | 'resume' | undefined {
    const over = this.opts.onOwnerLoad ? overReason : undefined;
    if (over !== undefined) {
      this.underSince = undefined;
      this.overSince ??= now;
      if (this.loadReason !== undefined || now - this.overSince >= this.opts.pauseAfterMs) this.loadReason = over;
    } else {
      this.overSince = undefined;
      this.underSince ??= now;
      if (this.loadReason !== undefined && now - this.underSince >= this.opts.resumeAfterMs)
        this.loadReason = undefined;
    }
    const reason = this.opts.holdReason?.() ?? this.loadReason;
    const was = this.current;
    if (reason === undefined) {
      this.current = undefined;
      return was ? 'resume' : undefined;
    }
    this.current = { reason, since: was?.since ?? now };
    return was ? undefined : 'pause';
  }

  paused(): boolean {
    return this.current !== undefined;
  }

  reason(): string | undefined {
    return this.current?.reason;
  }

  since(): number | undefined {
    return this.current?.since;
  }
}
