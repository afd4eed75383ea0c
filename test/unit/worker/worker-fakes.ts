/**
 * What the worker's loop talks to, faked for unit tests that run in milliseconds: a manual clock (the loop's waits
 * only end when the test advances it), a scripted orchestrator client that records every call, an executor that
 * runs until the test settles it (or its signal aborts, as the pipeline does), and a prober. state_dir is a real
 * temporary folder: the records and the outbox are the real ones.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../../src/config.js';
import { JobCancelledError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import type { OrchestratorClient } from '../../../src/orchestrator/client.js';
import type { Job, SyncResponse } from '../../../src/protocol/schemas.js';
import type { CapabilityProber } from '../../../src/capabilities/types.js';
import type { JobContext, JobSuccess } from '../../../src/job/contract.js';
import { Worker } from '../../../src/worker/worker.js';
import { makeProbeReport } from '../../helpers/probe-report.js';
import { waitFor } from '../../helpers/wait.js';

/** The loop's clock: now() is fake time, and sleep() waits until the test calls advance(). */
export class ManualClock {
  t = Date.parse('2026-01-01T00:00:00Z');
  private sleepers: { until: number; resolve: () => void }[] = [];
  now = (): number => this.t;
  sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const sleeper = { until: this.t + ms, resolve };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal.reason);
      };
      sleeper.resolve = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  /** How many waits are pending (1 when the loop sleeps between syncs). */
  get sleeping(): number {
    return this.sleepers.length;
  }
  /** Moves time to the earliest wake-up and ends that wait. */
  advance(): void {
    const next = this.sleepers.sort((a, b) => a.until - b.until).shift();
    if (!next) throw new Error('nothing is sleeping');
    this.t = next.until;
    next.resolve();
  }
}

export interface Call {
  route: 'register' | 'sync' | 'progress' | 'finalize';
  jobId?: string;
  body: unknown;
}

/** Each answer is a value to return or an error to throw; when the script runs out, `otherwise` answers. */
export type Answer<T> = T | Error | (() => T | Promise<T>);

export class FakeClient implements OrchestratorClient {
  calls: Call[] = [];
  syncAnswers: Answer<SyncResponse>[] = [];
  progressAnswers: Answer<void>[] = [];
  finalizeAnswers: Answer<void>[] = [];
  register = async (capabilities: unknown) => {
    this.calls.push({ route: 'register', body: capabilities });
  };
  sync = async (body: unknown): Promise<SyncResponse> => {
    this.calls.push({ route: 'sync', body });
    return answer(this.syncAnswers, {} as SyncResponse);
  };
  reportProgress = async (jobId: string, body: unknown) => {
    this.calls.push({ route: 'progress', jobId, body });
    return answer(this.progressAnswers, undefined);
  };
  finalize = async (jobId: string, body: unknown) => {
    this.calls.push({ route: 'finalize', jobId, body });
    return answer(this.finalizeAnswers, undefined);
  };
  routes(): string[] {
    return this.calls.map((c) => c.route).filter((r) => r !== 'progress');
  }
  finalized(): { jobId?: string; body: unknown }[] {
    return this.calls.filter((c) => c.route === 'finalize');
  }
}

async function answer<T>(script: Answer<T>[], otherwise: T): Promise<T> {
  const next = script.length > 0 ? script.shift()! : otherwise;
  if (next instanceof Error) throw next;
  return typeof next === 'function' ? (next as () => T | Promise<T>)() : next;
}

export interface StartedJob {
  job: Job;
  ctx: JobContext;
  resolve(result: JobSuccess): void;
}

/** An executor that runs until the test resolves it; an abort rejects it as the pipeline does (JobCancelledError). */
export function fakeExecutor() {
  const started: StartedJob[] = [];
  const executor = (job: Job, ctx: JobContext) =>
    new Promise<JobSuccess>((resolve, reject) => {
      started.push({ job, ctx, resolve });
      const onAbort = () => reject(new JobCancelledError((ctx.signal.reason as Error).message));
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  return { executor, started };
}

export const prober: CapabilityProber = {
  probe: async () => makeProbeReport({ encoders: ['libx264', 'aac'] }),
  reprobeFamily: async () => makeProbeReport({ encoders: ['libx264', 'aac'] }),
};

export function job(id: string): Job {
  return {
    job_id: id,
    input: { source_url: 'in/src.mp4' },
    outputs: [{ resolution: '320x180', bitrate: '300k', codec: 'libx264', dest_path: `out/${id}` }],
    hls_settings: { segment_time: 2 },
  } as Job;
}

export interface Harness {
  worker: Worker;
  clock: ManualClock;
  client: FakeClient;
  started: StartedJob[];
  metrics: Metrics;
  config: Config;
  stateDir: string;
  /** The outbox entries on disk, by job id. */
  outboxOnDisk(): Promise<Record<string, { payload: { status: string; error_msg?: string } }>>;
  runningRecord(): Promise<unknown>;
  cleanup(): Promise<void>;
}

export async function startHarness(
  opts: {
    client?: FakeClient;
    start?: boolean;
    /** Extra WORKER_* settings. */
    env?: Record<string, string>;
    /** The work hours' time zone (default the process's). */
    timeZone?: string;
  } = {},
): Promise<Harness> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tw-loop-'));
  const stateDir = path.join(root, 'state');
  const config = loadConfig({
    cwd: root,
    args: [],
    env: {
      WORKER_ORCHESTRATOR_URL: 'http://127.0.0.1:9',
      WORKER_ID: 'unit',
      WORKER_NAS_MOUNT_PATH: path.join(root, 'nas'),
      WORKER_TEMP_DIR: path.join(root, 'tmp'),
      WORKER_STATE_DIR: stateDir,
      WORKER_SYNC_INTERVAL: '5000',
      WORKER_PROGRESS_INTERVAL: '60000',
      WORKER_SHUTDOWN_TIMEOUT: '50',
      WORKER_LOG_LEVEL: 'silent',
      ...opts.env,
    },
  });
  const clock = new ManualClock();
  const client = opts.client ?? new FakeClient();
  const { executor, started } = fakeExecutor();
  const metrics = createMetrics();
  const worker = new Worker({
    config,
    log: createLogger({ level: 'silent' }),
    metrics,
    client,
    prober,
    executor,
    hostLoad: async () => ({ cpuPercent: 1, ramPercent: 1 }),
    version: 'test',
    now: clock.now,
    sleep: clock.sleep,
    retry: { startMs: 1, maxMs: 2 },
    timeZone: opts.timeZone,
  });
  if (opts.start !== false) await worker.start();
  const outboxDir = path.join(stateDir, 'outbox');
  return {
    worker,
    clock,
    client,
    started,
    metrics,
    config,
    stateDir,
    async outboxOnDisk() {
      const names = (await readdir(outboxDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
      const entries = await Promise.all(
        names.map(async (n) => JSON.parse(await readFile(path.join(outboxDir, n), 'utf8'))),
      );
      return Object.fromEntries(entries.map((e) => [e.job_id, e]));
    },
    async runningRecord() {
      return readFile(path.join(stateDir, 'running-job.json'), 'utf8').then(JSON.parse, () => undefined);
    },
    async cleanup() {
      await worker.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Waits (polling every millisecond) until the loop sleeps between syncs: everything before it has happened. */
export async function untilSleeping(h: Harness): Promise<void> {
  await waitFor(() => h.clock.sleeping === 1, { intervalMs: 1, timeoutMs: 2000, message: 'the loop to sleep' });
}

export async function counter(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}
