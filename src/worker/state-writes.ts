/**
 * Writes to state_dir that must not be lost to a full, read-only or unwritable disk (ENOSPC, EROFS, EACCES, EIO).
 *
 * A write that fails is retried in the background with capped exponential backoff (full jitter, as the
 * orchestrator retries in src/orchestrator/retry.ts) until it succeeds or a later operation on the same key
 * replaces it (a newer result for the same job, the removal of a delivered one). Operations on one key run one at a
 * time, in the order they were asked for, so an older write can never land after a newer one.
 *
 * While any write is failing, problem() says why: the worker reports it in /readyz, syncs BUSY and starts no job.
 * Once a failure has been seen, health comes back only when a WRITE succeeds again (a removal proves nothing on a
 * full disk), so when nothing is left to write, a probe file (64 KiB: room for a record and a result) is written
 * until it works.
 */
import path from 'node:path';
import type { Logger } from '../log.js';
import { errorMessage } from '../errors.js';
import { removeFile, writeJsonDurably } from '../util/durable-file.js';
import { sleep } from '../util/abortable.js';

export type StateOp = () => Promise<void>;

export interface StateWritesDeps {
  stateDir: string;
  log: Logger;
  retryStartMs?: number;
  retryMaxMs?: number;
  /** Called with the current problem (undefined once writable again) whenever it changes. */
  onHealth?: (problem: string | undefined) => void;
  /** Called on every failed attempt. */
  onFailure?: (what: string) => void;
}

interface Pending {
  what: string;
  kind: 'write' | 'remove';
  abort: AbortController;
  done: Promise<void>;
}

const PROBE_KEY = 'write-probe';
const PROBE_PADDING = ' '.repeat(64 * 1024);

export class StateWrites {
  private readonly pending = new Map<string, Pending>();
  private readonly tails = new Map<string, Promise<unknown>>();
  private lastError?: string;
  private closed = false;

  constructor(private readonly deps: StateWritesDeps) {}

  /** Why state_dir cannot be written right now, or undefined when it can. */
  problem(): string | undefined {
    return this.lastError;
  }

  /**
   * Runs `op` for `key` after the previous operation on that key; on failure keeps retrying in the background.
   * Resolves (never rejects) with true when it succeeded at once, false when it is left to the retries. The
   * returned `settled` resolves once the operation succeeded or was replaced (or the writer closed).
   */
  run(
    key: string,
    what: string,
    kind: 'write' | 'remove',
    op: StateOp,
  ): { now: Promise<boolean>; settled: Promise<void> } {
    const prev = this.pending.get(key);
    prev?.abort.abort();
    const abort = new AbortController();
    let resolveNow!: (ok: boolean) => void;
    const now = new Promise<boolean>((r) => (resolveNow = r));
    const done = (this.tails.get(key) ?? Promise.resolve())
      .then(() => this.attempt(key, what, kind, op, abort, resolveNow))
      .catch((err: unknown) => {
        // attempt() handles every failure of op; this is for a bug in it, which must not become a rejection.
        this.deps.log.error({ what, err: errorMessage(err) }, 'state_dir write bookkeeping failed');
        resolveNow(false);
      });
    const entry: Pending = { what, kind, abort, done };
    this.pending.set(key, entry);
    this.tails.set(key, done);
    void done.finally(() => {
      if (this.tails.get(key) === done) this.tails.delete(key);
    });
    return { now, settled: done };
  }

  /**
   * One try, no retries (for the running-job record before a job starts: the job is then not started at all).
   * A failure still marks state_dir unwritable until a probe write succeeds.
   */
  async tryOnce(what: string, op: StateOp): Promise<boolean> {
    try {
      await op();
      return true;
    } catch (err) {
      this.fail(what, err);
      if (!this.pending.size) this.startProbe();
      return false;
    }
  }

  /** Resolves once every queued operation has run (or been given up); for shutdown, with a deadline around it. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  /** Stops every retry (shutdown); what was not written stays unwritten. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.abort.abort();
  }

  private async attempt(
    key: string,
    what: string,
    kind: 'write' | 'remove',
    op: StateOp,
    abort: AbortController,
    resolveNow: (ok: boolean) => void,
  ): Promise<void> {
    let delay = this.deps.retryStartMs ?? 500;
    const max = this.deps.retryMaxMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      if (abort.signal.aborted || this.closed) {
        resolveNow(false);
        break;
      }
      try {
        await op();
        resolveNow(attempt === 0);
        if (attempt > 0) this.deps.log.info({ what }, 'state_dir write succeeded after retrying');
        this.succeeded(key, kind, abort);
        return;
      } catch (err) {
        resolveNow(false);
        this.fail(what, err, attempt);
      }
      try {
        await sleep(Math.random() * delay, abort.signal);
      } catch {
        break; // replaced by a newer operation on this key
      }
      delay = Math.min(max, delay * 2);
    }
    if (this.pending.get(key)?.abort === abort) this.pending.delete(key);
  }

  private succeeded(key: string, kind: 'write' | 'remove', abort: AbortController): void {
    if (this.pending.get(key)?.abort === abort) this.pending.delete(key);
    if (this.lastError === undefined) return;
    if (kind === 'write' && this.pending.size === 0) {
      this.lastError = undefined;
      this.deps.log.warn('state_dir is writable again');
      this.deps.onHealth?.(undefined);
    } else if (this.pending.size === 0) this.startProbe();
  }

  private fail(what: string, err: unknown, attempt = 0): void {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = `state_dir cannot be written (${what}: ${code ? `${code}: ` : ''}${errorMessage(err)})`;
    this.deps.onFailure?.(what);
    if (attempt === 0 || reason !== this.lastError)
      this.deps.log.error({ what, err: errorMessage(err), attempt }, 'cannot write to state_dir; retrying');
    const changed = reason !== this.lastError;
    this.lastError = reason;
    if (changed) this.deps.onHealth?.(reason);
  }

  private startProbe(): void {
    if (this.closed || this.pending.has(PROBE_KEY)) return;
    const file = path.join(this.deps.stateDir, '.write-probe.json');
    this.run(PROBE_KEY, 'checking that state_dir can be written', 'write', async () => {
      // With room to spare: on a full disk, removing our own small files frees a page or two, which is no proof
      // that the next job's record and result will fit.
      await writeJsonDurably(file, { at: new Date().toISOString(), room: PROBE_PADDING });
      await removeFile(file);
    });
  }
}
