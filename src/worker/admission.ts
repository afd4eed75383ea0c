/**
 * Whether this worker takes new jobs, apart from its load: the work hours (work-window.ts) and a drain (drain.ts).
 * The loop asks before each sync (a reason makes the sync say BUSY) and the triage before starting an assigned job
 * (a reason rejects it, as a busy worker does); after each sync it tells the drain whether the worker is idle, and
 * calls `onDrainedForExit` once when a drain with exit is done.
 */
import type { Drain } from './drain.js';
import type { WorkWindow } from './work-window.js';

export interface AdmissionDeps {
  window: WorkWindow;
  drain: Drain;
  now: () => number;
  /** No job runs and every result is delivered. */
  isIdle: () => boolean;
  /** A drain with exit is done: the worker should stop now (main.ts runs the clean shutdown, exit 0). */
  onDrainedForExit: () => void;
}

export class Admission {
  private exitCalled = false;

  constructor(private readonly deps: AdmissionDeps) {}

  /** Before each sync: picks up a drain request written since the last one. Never throws. */
  async beforeSync(): Promise<void> {
    await this.deps.drain.poll();
  }

  /** Why no new job may start now, or undefined. The drain's reason first: it is the one a person asked for. */
  noNewJobReason(): string | undefined {
    return this.deps.drain.noNewJobReason() ?? this.deps.window.noNewJobReason(this.deps.now());
  }

  /**
   * After each sync (ok or not) and on SIGUSR2: records the drain's progress; asks for the exit once when it is due.
   * Never throws.
   */
  async afterSync(): Promise<void> {
    const exitNow = await this.deps.drain.report(this.deps.isIdle());
    if (exitNow && !this.exitCalled) {
      this.exitCalled = true;
      this.deps.onDrainedForExit();
    }
  }
}
