/**
 * Drain: "finish what you are doing and take nothing new", asked by `transcode-worker drain` (a request file in
 * state_dir, see drain-files.ts) or by SIGUSR2. With `exit`, the worker stops (exit 0, the clean shutdown path) once
 * it is idle: no job running and every result delivered.
 *
 * Invariants:
 * - A drain lasts until cancelled (`drain --cancel`) or until the worker stops: a request file older than this
 *   process is from an earlier run and is removed at start, so a restarted worker takes jobs (an old `--exit` must
 *   not stop every later start).
 * - Each request is applied once: the worker remembers the last one it applied (or wrote itself).
 * - Nothing here throws: a file that cannot be read or written is logged, and the drain state in memory is what
 *   counts.
 */
import { promises as fs } from 'node:fs';
import type { Logger } from '../log.js';
import { errorMessage } from '../errors.js';
import {
  drainRequestFile,
  drainStatusFile,
  readDrainRequest,
  writeDrainRequest,
  writeDrainStatus,
  type DrainRequest,
  type DrainStatus,
} from './drain-files.js';

export interface DrainView {
  since: string;
  /** Stops once idle. */
  exit: boolean;
  requested_by: string;
}

export interface DrainDeps {
  stateDir: string;
  log: Logger;
  now: () => number;
  /** When this process started (ms): request files older than that are an earlier run's. */
  processStartedAt: number;
}

const requestKey = (r: DrainRequest) => JSON.stringify([r.draining, r.exit, r.requested_at, r.requested_by]);

export class Drain {
  private state?: { since: number; exit: boolean; by: string };
  private appliedKey?: string;
  private lastProblem?: string;
  private lastStatus?: string;

  constructor(private readonly deps: DrainDeps) {}

  get draining(): boolean {
    return this.state !== undefined;
  }

  get exitWhenIdle(): boolean {
    return this.state?.exit ?? false;
  }

  /** At start: files left by an earlier run are removed (see the invariants). */
  async dropStale(): Promise<void> {
    const { stateDir, log } = this.deps;
    const found = await readDrainRequest(stateDir);
    if (found && found.mtimeMs < this.deps.processStartedAt) {
      log.info(
        'value' in found ? { request: found.value } : { problem: found.problem },
        'a drain request from before this start is dropped: a restarted worker takes jobs',
      );
      await fs.rm(drainRequestFile(stateDir), { force: true }).catch(() => undefined);
    }
    await fs.rm(drainStatusFile(stateDir), { force: true }).catch(() => undefined);
  }

  /** Reads the request file and applies a request not applied yet. */
  async poll(): Promise<void> {
    const found = await readDrainRequest(this.deps.stateDir);
    if (!found) return;
    if ('problem' in found) {
      if (found.problem !== this.lastProblem) this.deps.log.warn({ problem: found.problem }, 'drain request ignored');
      this.lastProblem = found.problem;
      return;
    }
    this.lastProblem = undefined;
    // An earlier run's request (a SIGUSR2 may come before dropStale ran): never applied.
    if (found.mtimeMs < this.deps.processStartedAt) return;
    if (requestKey(found.value) === this.appliedKey) return;
    this.apply(found.value);
  }

  /**
   * SIGUSR2: a request the drain command wrote just before signalling comes first; otherwise the signal itself
   * means "drain" (without exit), written to the request file so that `drain --cancel` and /status see it.
   */
  async onSignal(): Promise<void> {
    await this.poll();
    if (this.state) {
      this.deps.log.info({ since: new Date(this.state.since).toISOString() }, 'SIGUSR2: draining');
      return;
    }
    const request: DrainRequest = {
      draining: true,
      exit: false,
      requested_at: new Date(this.deps.now()).toISOString(),
      requested_by: 'SIGUSR2',
    };
    this.apply(request);
    await writeDrainRequest(this.deps.stateDir, request).catch((err: unknown) =>
      this.deps.log.warn(
        { err: errorMessage(err) },
        'cannot record the drain in state_dir; draining anyway (drain --cancel cannot undo it until it can)',
      ),
    );
  }

  private apply(request: DrainRequest): void {
    const { log } = this.deps;
    this.appliedKey = requestKey(request);
    const by = request.requested_by;
    if (!request.draining) {
      if (!this.state) return;
      this.state = undefined;
      this.lastStatus = undefined;
      log.info({ requested_by: by }, 'drain cancelled: taking jobs again');
      void fs.rm(drainStatusFile(this.deps.stateDir), { force: true }).catch(() => undefined);
      return;
    }
    const exitChanged = this.state !== undefined && this.state.exit !== request.exit;
    if (this.state && !exitChanged) return;
    this.state = { since: this.state?.since ?? this.deps.now(), exit: request.exit, by };
    log.info(
      { requested_by: by, exit: request.exit },
      request.exit
        ? 'draining: finishing the running job, taking no new one, then exiting'
        : 'draining: finishing the running job, taking no new one (drain --cancel to take jobs again)',
    );
  }

  /** Why no new job may start, while draining. */
  noNewJobReason(): string | undefined {
    if (!this.state) return undefined;
    return `draining since ${new Date(this.state.since).toISOString()}${this.state.exit ? ', exiting once idle' : ''}`;
  }

  /**
   * Records the drain's state for `drain --wait` (only when it changed). Returns true when the worker should stop
   * now: draining with exit, and idle.
   */
  async report(idle: boolean): Promise<boolean> {
    if (!this.state) return false;
    const status: Omit<DrainStatus, 'updated_at'> = {
      pid: process.pid,
      draining: true,
      exit: this.state.exit,
      since: new Date(this.state.since).toISOString(),
      idle,
    };
    const text = JSON.stringify(status);
    if (text !== this.lastStatus) {
      this.lastStatus = text;
      if (idle) this.deps.log.info({ exit: this.state.exit }, 'drained: no job running, every result delivered');
      await writeDrainStatus(this.deps.stateDir, {
        ...status,
        updated_at: new Date(this.deps.now()).toISOString(),
      }).catch((err: unknown) =>
        this.deps.log.warn({ err: errorMessage(err) }, 'cannot write the drain status to state_dir'),
      );
    }
    return idle && this.state.exit;
  }

  /** At exit: the status goes, and so does a request this run has carried out (it must not apply to the next). */
  async cleanUp(): Promise<void> {
    await fs.rm(drainStatusFile(this.deps.stateDir), { force: true }).catch(() => undefined);
    if (this.state) await fs.rm(drainRequestFile(this.deps.stateDir), { force: true }).catch(() => undefined);
  }

  view(): DrainView | null {
    if (!this.state) return null;
    return { since: new Date(this.state.since).toISOString(), exit: this.state.exit, requested_by: this.state.by };
  }
}
