/**
 * A scriptable test orchestrator for black-box tests: the dev orchestrator's semantics (src/dev-orchestrator) behind
 * a recording, fault-injecting HTTP front on 127.0.0.1.
 *
 * - Every request is recorded in arrival order (method, path, headers, raw and parsed body, time, the answer).
 * - Faults: fail(route, times, status) or failWith(route, times, reply) answer the next N requests of a route
 *   without reaching the orchestrator (so its state does not change); hook(route, fn) decides per request.
 *   A reply may be a status + JSON body, raw text (malformed JSON), a delay, or a dropped connection.
 * - stop()/start() take the orchestrator down and bring it back on the SAME port with its state kept;
 *   reset() forgets all state (an orchestrator restart: the next sync answers 404); restart() does both.
 *
 * The API is shared between engineers: only ever ADD options/functions, never change what an existing one does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildDevOrchestrator, type DevOrchestrator, type DevSplitOptions } from '../../src/dev-orchestrator/server.js';
import type { JobRecord, JobState, WorkerRecord } from '../../src/dev-orchestrator/operator-schemas.js';
import type { Job } from '../../src/protocol/schemas.js';
import {
  classifyRoute,
  parseJson,
  type FaultReply,
  type RecordedRequest,
  type RouteName,
} from './orchestrator-routes.js';
import { waitFor, type WaitOptions } from './wait.js';

export * from './orchestrator-routes.js';

/** Returns a reply to inject a fault, or undefined to let the orchestrator answer. */
export type RouteHook = (
  req: RecordedRequest,
  orch: TestOrchestrator,
) => FaultReply | undefined | void | Promise<FaultReply | undefined | void>;

export interface TestOrchestratorOptions {
  /** Port to listen on; default 0 (a free one, then kept for every start()). */
  port?: number;
  /** Require "Authorization: Bearer <authToken>" on every /api/v1 route (401 otherwise). */
  authToken?: string;
  /** See DevStoreOptions.lostJobSyncs (default 2). */
  lostJobSyncs?: number;
  now?: () => number;
  /** The split policy (--split-min-duration); enqueue with source_duration_sec to skip its ffprobe. */
  split?: DevSplitOptions;
}

interface FaultRule {
  route: RouteName | '*';
  remaining: number;
  reply: FaultReply;
}

export class TestOrchestrator {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** The orchestrator behind the front; replaced by reset(). */
  dev: DevOrchestrator;
  private server: http.Server | undefined;
  private boundPort: number;
  private seq = 0;
  private rules: FaultRule[] = [];
  private hooks: { route: RouteName | '*'; fn: RouteHook }[] = [];
  private downSignal = new AbortController();

  constructor(private readonly opts: TestOrchestratorOptions = {}) {
    this.dev = this.build();
    this.boundPort = opts.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }
  get port(): number {
    return this.boundPort;
  }
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens (again) on 127.0.0.1, on the same port as before once one was picked. */
  async start(): Promise<void> {
    if (this.server) return;
    this.downSignal = new AbortController();
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The orchestrator goes down: the port is closed and every open connection is cut. State is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.downSignal.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Same as stop(); for afterEach. */
  close(): Promise<void> {
    return this.stop();
  }

  /** Forget every worker and job (as a restarted orchestrator does). Recorded requests and faults are kept. */
  reset(): void {
    void this.dev.app.close();
    this.dev = this.build();
  }

  /** stop(), reset(), start(): a real orchestrator restart on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    this.reset();
    await this.start();
  }

  /** Answer the next `times` requests of `route` with `status` (and `body`) instead of the orchestrator. */
  fail(route: RouteName | '*', times: number, status = 500, body?: unknown): void {
    this.failWith(route, times, { status, body });
  }

  /** Answer the next `times` requests of `route` with `reply` (Infinity: until clearFaults()). */
  failWith(route: RouteName | '*', times: number, reply: FaultReply): void {
    this.rules.push({ route, remaining: times, reply });
  }

  /** Decide per request; hooks run before fail() rules, in the order added. Returns a function that removes it. */
  hook(route: RouteName | '*', fn: RouteHook): () => void {
    const entry = { route, fn };
    this.hooks.push(entry);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== entry);
    };
  }

  /** Remove every fail() rule and hook. */
  clearFaults(): void {
    this.rules = [];
    this.hooks = [];
  }

  requestsTo(route: RouteName, where?: (r: RecordedRequest) => boolean): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route && (!where || where(r)));
  }

  /** seq of the latest recorded request (0 when none): pass it as afterSeq to wait for what comes next. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Milliseconds between consecutive requests of `route` (e.g. the sync cadence). */
  gaps(route: RouteName, where?: (r: RecordedRequest) => boolean): number[] {
    const times = this.requestsTo(route, where).map((r) => r.at);
    return times.slice(1).map((t, i) => t - times[i]!);
  }

  lastRequest(route: RouteName): RecordedRequest | undefined {
    return this.requestsTo(route).at(-1);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Polls `predicate(this)` until it returns something truthy (see test/helpers/wait.ts). */
  waitFor<T>(predicate: (orch: TestOrchestrator) => T | Promise<T>, opts?: WaitOptions): Promise<NonNullable<T>> {
    return waitFor(() => predicate(this), opts);
  }

  /** The first request of `route` (after seq `afterSeq`, matching `where`) — waits for it to arrive. */
  waitForRequest(
    route: RouteName,
    opts: WaitOptions & { where?: (r: RecordedRequest) => boolean; afterSeq?: number } = {},
  ): Promise<RecordedRequest> {
    const { where, afterSeq = 0, ...wait } = opts;
    return waitFor(() => this.requests.find((r) => r.route === route && r.seq > afterSeq && (!where || where(r))), {
      message: `a ${route} request`,
      ...wait,
    });
  }

  // ---- operator shortcuts: go straight to the orchestrator, not recorded, no faults ----

  /** Enqueue a job (job_id generated when absent); throws on a 4xx with the orchestrator's message. */
  async enqueue(job: Omit<Job, 'job_id'> & { job_id?: string }): Promise<JobRecord> {
    return (await this.operator('POST', '/api/v1/jobs', job)) as JobRecord;
  }

  async retry(jobId: string): Promise<JobRecord> {
    return (await this.operator('POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/retry`)) as JobRecord;
  }

  async cancel(jobId: string): Promise<JobRecord> {
    return (await this.operator('POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`)) as JobRecord;
  }

  job(jobId: string): JobRecord | undefined {
    return this.dev.state.getJob(jobId);
  }

  jobs(status?: JobState): JobRecord[] {
    return this.dev.state.listJobs(status);
  }

  workers(): WorkerRecord[] {
    return this.dev.state.listWorkers();
  }

  worker(workerId: string): WorkerRecord | undefined {
    return this.workers().find((w) => w.worker_id === workerId);
  }

  /** Waits until the job is in one of `statuses` and returns its record. */
  waitForJob(jobId: string, statuses: JobState | JobState[], opts?: WaitOptions): Promise<JobRecord> {
    const wanted = Array.isArray(statuses) ? statuses : [statuses];
    return waitFor(
      () => {
        const j = this.job(jobId);
        return j && wanted.includes(j.status) ? j : undefined;
      },
      {
        message: () => `job ${jobId} to be ${wanted.join(' or ')} (it is ${this.job(jobId)?.status ?? 'unknown'})`,
        ...opts,
      },
    );
  }

  private build(): DevOrchestrator {
    return buildDevOrchestrator({
      authToken: this.opts.authToken,
      lostJobSyncs: this.opts.lostJobSyncs,
      now: this.opts.now,
      ...(this.opts.split ? { split: this.opts.split } : {}),
    });
  }

  private async operator(method: 'GET' | 'POST', url: string, body?: unknown): Promise<unknown> {
    const res = await this.dev.app.inject({
      method,
      url,
      headers: this.opts.authToken ? { authorization: `Bearer ${this.opts.authToken}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
    const parsed = parseJson(res.body) as { message?: string } | undefined;
    if (res.statusCode >= 400)
      throw new Error(`${method} ${url}: HTTP ${res.statusCode}: ${parsed?.message ?? res.body}`);
    return parsed;
  }

  private async findFault(rec: RecordedRequest): Promise<FaultReply | undefined> {
    for (const h of [...this.hooks]) {
      if (h.route !== '*' && h.route !== rec.route) continue;
      const reply = await h.fn(rec, this);
      if (reply) return reply;
    }
    const rule = this.rules.find((r) => r.remaining > 0 && (r.route === '*' || r.route === rec.route));
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.reply;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const down = this.downSignal.signal;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    const method = req.method ?? 'GET';
    const rec: RecordedRequest = {
      seq: ++this.seq,
      at: Date.now(),
      ...classifyRoute(method, path),
      method,
      path,
      url,
      headers: req.headers,
      rawBody,
      body: parseJson(rawBody),
      faulted: false,
    };
    this.requests.push(rec);
    try {
      const fault = await this.findFault(rec);
      if (fault) {
        rec.faulted = true;
        if (fault.delayMs) await delay(fault.delayMs, down);
        if (down.aborted || res.destroyed) return;
        if (fault.destroy) {
          req.socket.destroy();
          return;
        }
        const status = fault.status ?? 500;
        const text =
          fault.raw ?? JSON.stringify(fault.body ?? { error: 'injected', message: `injected fault: HTTP ${status}` });
        rec.status = status;
        rec.responseBody = parseJson(text);
        res.writeHead(status, { 'content-type': 'application/json', ...fault.headers });
        res.end(text);
        return;
      }
      const headers = { ...req.headers };
      for (const h of ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']) delete headers[h];
      const answer = await this.dev.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(rawBody ? { payload: rawBody } : {}),
      });
      if (down.aborted || res.destroyed) return;
      rec.status = answer.statusCode;
      rec.responseBody = parseJson(answer.body);
      const out: Record<string, string> = {};
      for (const h of ['content-type', 'www-authenticate']) {
        const v = answer.headers[h];
        if (typeof v === 'string') out[h] = v;
      }
      res.writeHead(answer.statusCode, out);
      res.end(answer.rawPayload);
    } catch (err) {
      if (res.destroyed || res.headersSent) return;
      rec.status = 500;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal', message: `test orchestrator: ${String(err)}` }));
    }
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** Builds and starts a test orchestrator on 127.0.0.1 (port 0 unless given). Call close() in afterEach. */
export async function startTestOrchestrator(opts: TestOrchestratorOptions = {}): Promise<TestOrchestrator> {
  const orch = new TestOrchestrator(opts);
  await orch.start();
  return orch;
}
