/**
 * At-least-once delivery of job results. A result is written to state_dir/outbox before the first attempt to send
 * it, retried with backoff while the orchestrator is down or failing, and removed only once the orchestrator accepts
 * it (or says the job is not ours any more). A restart picks up whatever is left, so a result survives a crash, a
 * power cut or an orchestrator outage.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { FinalizeRequest } from '../protocol/schemas.js';
import type { OrchestratorClient } from '../orchestrator/client.js';
import { JobGoneError, PermanentOrchestratorError, errorMessage } from '../errors.js';
import { retryForever } from '../orchestrator/retry.js';
import { readJson, removeFile, writeJsonDurably } from '../util/durable-file.js';
import { safeJobId } from '../storage/paths.js';

export interface OutboxEntry {
  job_id: string;
  payload: Omit<FinalizeRequest, 'worker_id'>;
  created_at: string;
}

export interface OutboxDeps {
  stateDir: string;
  client: OrchestratorClient;
  log: Logger;
  /** Backoff bounds (tests shorten them). */
  retryStartMs?: number;
  retryMaxMs?: number;
  onChange?: (pending: number) => void;
}

export class Outbox {
  private readonly dir: string;
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly stop = new AbortController();

  constructor(private readonly deps: OutboxDeps) {
    this.dir = path.join(deps.stateDir, 'outbox');
  }

  private fileFor(jobId: string): string {
    return path.join(this.dir, `${safeJobId(jobId)}.json`);
  }

  /** Durably records the result. Call before the first delivery attempt. */
  async put(jobId: string, payload: OutboxEntry['payload']): Promise<void> {
    const entry: OutboxEntry = { job_id: jobId, payload, created_at: new Date().toISOString() };
    await writeJsonDurably(this.fileFor(jobId), entry);
    this.deps.onChange?.(await this.count());
  }

  async pending(): Promise<OutboxEntry[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const out: OutboxEntry[] = [];
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
      try {
        const e = await readJson<OutboxEntry>(path.join(this.dir, name));
        if (e?.job_id && e.payload) out.push(e);
      } catch (err) {
        this.deps.log.error({ file: name, err: errorMessage(err) }, 'unreadable outbox entry left in place');
      }
    }
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  async count(): Promise<number> {
    return (await this.pending()).length;
  }

  /**
   * Delivers one entry, retrying until accepted. Resolves true when the orchestrator took it (or it is moot),
   * false when stopped first (the entry stays for the next start). Concurrent calls for one job share one attempt.
   */
  deliver(entry: OutboxEntry, signal?: AbortSignal): Promise<boolean> {
    const existing = this.inflight.get(entry.job_id);
    if (existing) return existing;
    const p = this.deliverOnce(entry, signal).finally(() => this.inflight.delete(entry.job_id));
    this.inflight.set(entry.job_id, p);
    return p;
  }

  private async deliverOnce(entry: OutboxEntry, signal?: AbortSignal): Promise<boolean> {
    const log = this.deps.log.child({ job_id: entry.job_id });
    const stopSignal = signal ? AbortSignal.any([signal, this.stop.signal]) : this.stop.signal;
    try {
      await retryForever(() => this.deps.client.finalize(entry.job_id, entry.payload), {
        signal: stopSignal,
        startDelayMs: this.deps.retryStartMs,
        maxDelayMs: this.deps.retryMaxMs,
        onRetry: (err, attempt) =>
          log.warn({ attempt, err: errorMessage(err) }, 'finalize not delivered yet; will retry'),
      });
      log.info({ status: entry.payload.status }, 'finalize delivered');
    } catch (err) {
      if (stopSignal.aborted) return false;
      if (err instanceof JobGoneError) {
        log.warn({ status: err.status }, 'orchestrator no longer knows this job; dropping its result');
      } else if (err instanceof PermanentOrchestratorError) {
        log.error({ err: errorMessage(err) }, 'orchestrator rejected the result permanently; dropping it');
      } else {
        log.error({ err: errorMessage(err) }, 'finalize failed');
        return false;
      }
    }
    await removeFile(this.fileFor(entry.job_id));
    this.deps.onChange?.(await this.count());
    return true;
  }

  /** Starts delivering everything pending (used at start-up); does not wait. */
  async flushInBackground(): Promise<void> {
    for (const entry of await this.pending()) void this.deliver(entry);
  }

  /** Stops retrying; undelivered entries stay on disk. */
  close(): void {
    this.stop.abort(new Error('outbox closed'));
  }
}
