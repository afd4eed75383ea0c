/**
 * At-least-once delivery of job results. A result is written to state_dir/outbox before the first attempt to send
 * it, retried with backoff while the orchestrator is down or failing, and removed only once the orchestrator accepts
 * it (or says the job is not ours any more). A restart picks up whatever is left, so a result survives a crash, a
 * power cut or an orchestrator outage.
 *
 * Invariants:
 * - One entry per job id: the file is outbox/<sha256 of the full job id>.json, so ids that differ in any character
 *   (`tenant/a` and `tenant_a`, or two long ids with a common prefix) never share a file.
 * - A newer result for a job replaces an older undelivered one; every entry has a unique entry_id. A delivery loop
 *   sends whatever entry is newest at each attempt, and after a success removes the entry only if it is still the one
 *   it sent; when a newer one arrived meanwhile, it goes on to deliver that one. So the orchestrator always ends
 *   with the latest result, and a delivery in flight never deletes a newer file.
 * - The in-memory map is the truth for this process (the state_dir lock makes it the only one); the files follow it
 *   through StateWrites, one operation at a time per job, so a failing disk delays the file, never the delivery:
 *   a result that cannot be written yet is still delivered from memory, and written (or its write dropped, once
 *   delivered) when the disk is back.
 * - Entries written by older versions (file named after a truncated, sanitised id) are read at load, validated,
 *   and moved to their hashed name, so an upgrade loses nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { FinalizeMetrics } from '../protocol/schemas.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import { JobGoneError, PermanentOrchestratorError, errorMessage } from '../errors.js';
import { raceAbort } from '../util/abortable.js';
import { retryForever } from '../orchestrator/retry.js';
import { removeFile, writeJsonDurably } from '../util/durable-file.js';
import { readValidatedStateFile } from '../util/state-file.js';
import type { StateWrites } from './state-writes.js';

export const OutboxPayload = Type.Object(
  {
    status: Type.Union([Type.Literal('COMPLETED'), Type.Literal('FAILED')]),
    manifest_url: Type.Optional(Type.String()),
    error_msg: Type.Optional(Type.String()),
    metrics: FinalizeMetrics,
  },
  { additionalProperties: false },
);

export const OutboxEntrySchema = Type.Object({
  job_id: Type.String({ minLength: 1 }),
  /** Unique per result; absent in entries written before version 0.2 (a load gives them one). */
  entry_id: Type.Optional(Type.String({ minLength: 1 })),
  payload: OutboxPayload,
  created_at: Type.String(),
});

export type OutboxPayload = Static<typeof OutboxPayload>;
export type OutboxEntry = Static<typeof OutboxEntrySchema> & { entry_id: string };

export interface OutboxDeps {
  stateDir: string;
  client: OrchestratorClient;
  log: Logger;
  writes: StateWrites;
  /** Backoff bounds (tests shorten them). */
  retryStartMs?: number;
  retryMaxMs?: number;
  onChange?: (pending: number) => void;
}

/** The file name of a job's entry: the full id hashed, so no two ids share one and any id makes a legal name. */
export function outboxFileName(jobId: string): string {
  return `${createHash('sha256').update(jobId, 'utf8').digest('hex')}.json`;
}

const HASHED_NAME = /^[0-9a-f]{64}\.json$/;

export class Outbox {
  private readonly dir: string;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly inflight = new Map<string, { promise: Promise<boolean>; abort: AbortController }>();
  private readonly stop = new AbortController();

  constructor(private readonly deps: OutboxDeps) {
    this.dir = path.join(deps.stateDir, 'outbox');
  }

  private fileFor(jobId: string): string {
    return path.join(this.dir, outboxFileName(jobId));
  }

  private keyFor(jobId: string): string {
    return `outbox:${outboxFileName(jobId)}`;
  }

  /**
   * Reads what earlier runs left (call once, before anything else). Bad files are moved aside; old-named files
   * are moved to their hashed name (the newer entry wins when both exist).
   */
  async load(): Promise<void> {
    let names: string[];
    try {
      // Made now, while state_dir is known to be writable (checked at start): on a disk that turns read-only later,
      // a result write then fails with EROFS, which says what is wrong, rather than the ENOENT of a failed mkdir.
      await fs.mkdir(this.dir, { recursive: true });
      names = await fs.readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
      const file = path.join(this.dir, name);
      let entry;
      try {
        entry = await readValidatedStateFile(file, OutboxEntrySchema, this.deps.log, 'outbox entry');
      } catch (err) {
        this.deps.log.error({ file, err: errorMessage(err) }, 'cannot read an outbox entry; left in place');
        continue;
      }
      if (!entry) continue;
      const loaded: OutboxEntry = { ...entry, entry_id: entry.entry_id ?? `legacy-${name}` };
      const known = this.entries.get(loaded.job_id);
      if (!known || known.created_at <= loaded.created_at) this.entries.set(loaded.job_id, loaded);
      if (!HASHED_NAME.test(name) || name !== outboxFileName(loaded.job_id)) {
        // Migration from the old naming: write under the hashed name first, then drop the old file.
        const latest = this.entries.get(loaded.job_id)!;
        const key = this.keyFor(loaded.job_id);
        const target = this.fileFor(loaded.job_id);
        this.deps.writes.run(key, `migrating outbox entry of job ${loaded.job_id}`, 'write', async () => {
          await writeJsonDurably(target, latest);
          await removeFile(file);
        });
      }
    }
    this.deps.onChange?.(this.entries.size);
  }

  /**
   * Records a result (replacing any undelivered older result of the same job). Never rejects: when the disk
   * cannot take it, the entry is kept in memory and written by the retries. `settled` resolves once it is on disk
   * (or delivered, or replaced).
   */
  put(jobId: string, payload: OutboxPayload): { entry: OutboxEntry; settled: Promise<void> } {
    const entry: OutboxEntry = { job_id: jobId, entry_id: randomUUID(), payload, created_at: new Date().toISOString() };
    this.entries.set(jobId, entry);
    this.deps.onChange?.(this.entries.size);
    const file = this.fileFor(jobId);
    const { settled } = this.deps.writes.run(this.keyFor(jobId), `writing the result of job ${jobId}`, 'write', () =>
      writeJsonDurably(file, entry),
    );
    return { entry, settled };
  }

  has(jobId: string): boolean {
    return this.entries.has(jobId);
  }

  get(jobId: string): OutboxEntry | undefined {
    return this.entries.get(jobId);
  }

  /** Undelivered entries, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  count(): number {
    return this.entries.size;
  }

  /**
   * Drops an undelivered result without sending it, and stops its delivery (the worker does this when the
   * orchestrator assigns the same job id again: see triage.ts).
   */
  discard(jobId: string): OutboxEntry | undefined {
    const entry = this.entries.get(jobId);
    if (!entry) return undefined;
    this.inflight.get(jobId)?.abort.abort(new Error('result superseded'));
    this.forget(entry);
    return entry;
  }

  /**
   * Delivers the job's newest entry, retrying until accepted. Resolves true when the orchestrator took it (or it is
   * moot), false when stopped first (the entry stays for the next start). Never rejects. Concurrent calls for one job
   * share one loop.
   */
  deliver(jobId: string, signal?: AbortSignal): Promise<boolean> {
    const existing = this.inflight.get(jobId);
    if (existing) return signal ? raceAbort(existing.promise, signal).catch(() => false) : existing.promise;
    const abort = new AbortController();
    const stopSignal = AbortSignal.any([abort.signal, this.stop.signal, ...(signal ? [signal] : [])]);
    const promise = this.deliverLoop(jobId, stopSignal)
      .catch((err: unknown) => {
        this.deps.log.error({ job_id: jobId, err: errorMessage(err) }, 'finalize delivery failed unexpectedly');
        return false;
      })
      .finally(() => {
        if (this.inflight.get(jobId)?.promise === promise) this.inflight.delete(jobId);
      });
    this.inflight.set(jobId, { promise, abort });
    return promise;
  }

  private async deliverLoop(jobId: string, signal: AbortSignal): Promise<boolean> {
    const log = this.deps.log.child({ job_id: jobId });
    for (;;) {
      const first = this.entries.get(jobId);
      if (!first) return true;
      let sent = first;
      try {
        await retryForever(
          () => {
            // Each attempt sends the newest result: one put while we were waiting on a 503 replaces the stale one.
            sent = this.entries.get(jobId) ?? sent;
            return this.deps.client.finalize(jobId, sent.payload);
          },
          {
            signal,
            startDelayMs: this.deps.retryStartMs,
            maxDelayMs: this.deps.retryMaxMs,
            onRetry: (err, attempt) =>
              log.warn({ attempt, err: errorMessage(err) }, 'finalize not delivered yet; will retry'),
          },
        );
        log.info({ status: sent.payload.status }, 'finalize delivered');
      } catch (err) {
        if (signal.aborted) return false;
        if (err instanceof JobGoneError) {
          log.warn({ status: err.status }, 'orchestrator no longer knows this job; dropping its result');
        } else if (err instanceof PermanentOrchestratorError) {
          log.error({ err: errorMessage(err) }, 'orchestrator rejected the result permanently; dropping it');
        } else {
          log.error({ err: errorMessage(err) }, 'finalize failed');
          return false;
        }
      }
      // Only the entry that was sent is removed; a newer one (put while this one was in flight) is delivered next.
      if (this.entries.get(jobId)?.entry_id === sent.entry_id) {
        this.forget(sent);
        return true;
      }
      log.info('a newer result for this job arrived while the previous one was being delivered; delivering it');
    }
  }

  private forget(entry: OutboxEntry): void {
    if (this.entries.get(entry.job_id)?.entry_id !== entry.entry_id) return;
    this.entries.delete(entry.job_id);
    this.deps.onChange?.(this.entries.size);
    const file = this.fileFor(entry.job_id);
    this.deps.writes.run(this.keyFor(entry.job_id), `removing the result of job ${entry.job_id}`, 'remove', () =>
      removeFile(file),
    );
  }

  /** Starts delivering everything pending (used at start-up); does not wait. */
  flushInBackground(): void {
    for (const entry of this.pending()) void this.deliver(entry.job_id);
  }

  /** Stops retrying; undelivered entries stay on disk. */
  close(): void {
    this.stop.abort(new Error('outbox closed'));
  }
}
