/**
 * The reference orchestrator: an in-memory Fastify implementation of the worker protocol (src/protocol/schemas.ts)
 * plus a small operator API to enqueue and inspect jobs. It is the peer of the integration tests and the example
 * for people writing a real orchestrator; it is NOT a production orchestrator (no persistence, no scheduling
 * policy beyond "oldest queued job that fits", and, with `split`, cutting long films into part jobs: split-jobs.ts).
 *
 * buildDevOrchestrator() does not listen (tests use app.inject); startDevOrchestrator() does.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { FinalizeRequest, ProgressRequest, RegisterRequest, SyncRequest } from '../protocol/schemas.js';
import { checkSchema } from '../protocol/validate.js';
import { EnqueueJobRequest, JobState, type ErrorBody } from './operator-schemas.js';
import { probeSourceDuration } from './source-duration.js';
import type { SplitOptions } from './split-jobs.js';
import { createDevStore, isRefusal, type DevStore, type EnqueueExtras, type Outcome } from './store.js';
import type { JobRecord } from './operator-schemas.js';

export interface DevOrchestratorOptions {
  /** A pino logger for request logs; false or absent: silent. */
  log?: Logger | false;
  /** When set, every /api/v1 route requires "Authorization: Bearer <authToken>". */
  authToken?: string;
  now?: () => number;
  /** See DevStoreOptions.lostJobSyncs. */
  lostJobSyncs?: number;
  /**
   * The split policy (--split-min-duration): long jobs are cut into part jobs for workers with split-stitch/1.
   * The source duration comes from the enqueue's source_duration_sec, else from ffprobe on nasRoot + source_url.
   */
  split?: DevSplitOptions;
}

export interface DevSplitOptions extends SplitOptions {
  /** The NAS root as this machine sees it (where source_url is resolved for ffprobe). */
  nasRoot?: string;
  /** Default "ffprobe". */
  ffprobePath?: string;
}

export interface DevOrchestrator {
  app: FastifyInstance;
  state: DevStore;
  /** Enqueue as POST /api/v1/jobs does: with the split policy on, reads the source's duration first. */
  enqueue(body: EnqueueJobRequest): Promise<Outcome<JobRecord>>;
}

const JOB_STATES = new Set<string>(JobState.anyOf.map((s) => s.const));

function sendError(reply: FastifyReply, status: number, error: ErrorBody['error'], message: string) {
  return reply.code(status).send({ error, message } satisfies ErrorBody);
}

/** Validates the body against a protocol schema; on failure answers 400 and returns undefined. */
function readBody<T extends TSchema>(
  schema: T,
  what: string,
  req: FastifyRequest,
  reply: FastifyReply,
): Static<T> | undefined {
  const problem =
    typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body)
      ? checkSchema(schema, req.body)
      : 'the body must be a JSON object (Content-Type: application/json)';
  if (problem === null) return req.body as Static<T>;
  void sendError(reply, 400, 'bad_request', `invalid ${what}: ${problem}`);
  return undefined;
}

/** X-Worker-ID and the body's worker_id must agree when both are present. */
function workerIdOf(req: FastifyRequest, bodyId: string, reply: FastifyReply): string | undefined {
  const header = req.headers['x-worker-id'];
  const headerId = Array.isArray(header) ? header[0] : header;
  if (headerId && headerId !== bodyId) {
    void sendError(reply, 400, 'bad_request', `X-Worker-ID header (${headerId}) and worker_id (${bodyId}) differ`);
    return undefined;
  }
  return bodyId;
}

function answer<T>(reply: FastifyReply, outcome: Outcome<T>) {
  if (isRefusal(outcome)) return sendError(reply, outcome.status, outcome.error, outcome.message);
  return reply.code(200).send(outcome);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function buildDevOrchestrator(opts: DevOrchestratorOptions = {}): DevOrchestrator {
  // Fastify 5 takes a ready-made pino logger as loggerInstance (logger: accepts only options).
  const app: FastifyInstance = Fastify({
    loggerInstance: (opts.log || undefined) as FastifyBaseLogger | undefined,
    bodyLimit: 1024 * 1024,
    // Fastify's two lines per request drown the story; onResponse below logs one line, syncs only at debug.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const state = createDevStore({ now: opts.now, lostJobSyncs: opts.lostJobSyncs, split: opts.split });

  /** The source duration for the split policy; a source that cannot be probed runs whole (the note says why). */
  async function enqueue(body: EnqueueJobRequest): Promise<Outcome<JobRecord>> {
    const extras: EnqueueExtras = {};
    const split = opts.split;
    if (split && body.source_duration_sec === undefined) {
      if (!split.nasRoot) extras.splitNote = 'not split: no NAS root to read the source duration from (--nas-root)';
      else
        try {
          extras.sourceDurationSec = await probeSourceDuration(body.input.source_url, {
            nasRoot: split.nasRoot,
            ffprobePath: split.ffprobePath ?? 'ffprobe',
          });
        } catch (err) {
          extras.splitNote = `not split: ${(err as Error).message}`;
          if (opts.log) opts.log.warn({ job_id: body.job_id }, extras.splitNote);
        }
    }
    return state.enqueue(body, extras);
  }

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      return sendError(reply, 400, 'bad_request', `request body is not valid JSON: ${err.message}`);
    return sendError(reply, status, status === 500 ? 'internal' : 'bad_request', err.message);
  });
  if (opts.log) {
    const log = opts.log;
    app.addHook('onResponse', async (req, reply) => {
      const line = `${req.method} ${req.url} -> ${reply.statusCode}`;
      const fields = { worker_id: req.headers['x-worker-id'], ms: Math.round(reply.elapsedTime) };
      if (req.url === '/api/v1/workers/sync' && reply.statusCode === 200) log.debug(fields, line);
      else log.info(fields, line);
    });
  }
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url}`));

  if (opts.authToken) {
    const token = opts.authToken;
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith('/api/v1')) return;
      if (!tokenMatches(req.headers.authorization, token)) {
        void reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 401, 'unauthorized', 'missing or wrong "Authorization: Bearer <token>" header');
      }
    });
  }

  // ---- worker protocol ----
  app.post('/api/v1/workers/register', async (req, reply) => {
    const body = readBody(RegisterRequest, 'register request', req, reply);
    if (!body) return reply;
    const id = workerIdOf(req, body.worker_id, reply);
    if (!id) return reply;
    return answer(reply, state.register(id, body.capabilities));
  });

  app.post('/api/v1/workers/sync', async (req, reply) => {
    const body = readBody(SyncRequest, 'sync request', req, reply);
    if (!body || !workerIdOf(req, body.worker_id, reply)) return reply;
    const outcome = state.sync(body);
    if (opts.log && !isRefusal(outcome) && outcome.assigned_job)
      opts.log.info({ job_id: outcome.assigned_job.job_id, worker_id: body.worker_id }, 'job assigned');
    if (opts.log && !isRefusal(outcome) && outcome.cancel_current_job)
      opts.log.info({ job_id: body.current_job_id, worker_id: body.worker_id }, 'told the worker to cancel its job');
    return answer(reply, outcome);
  });

  app.patch<{ Params: { id: string } }>('/api/v1/jobs/:id', async (req, reply) => {
    const body = readBody(ProgressRequest, 'progress report', req, reply);
    if (!body || !workerIdOf(req, body.worker_id, reply)) return reply;
    return answer(reply, state.progress(req.params.id, body));
  });

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/finalize', async (req, reply) => {
    const body = readBody(FinalizeRequest, 'finalize request', req, reply);
    if (!body || !workerIdOf(req, body.worker_id, reply)) return reply;
    if (body.status === 'COMPLETED' && !body.manifest_url)
      return sendError(reply, 400, 'bad_request', 'invalid finalize request: manifest_url is required when COMPLETED');
    const outcome = state.finalize(req.params.id, body);
    return answer(reply, isRefusal(outcome) ? outcome : { ack: true });
  });

  // ---- operator API ----
  app.post('/api/v1/jobs', async (req, reply) => {
    const body = readBody(EnqueueJobRequest, 'job', req, reply);
    if (!body) return reply;
    return answer(reply, await enqueue(body));
  });

  app.get<{ Querystring: { status?: string } }>('/api/v1/jobs', async (req, reply) => {
    const status = req.query.status?.toUpperCase();
    if (status && !JOB_STATES.has(status))
      return sendError(
        reply,
        400,
        'bad_request',
        `unknown status ${status}: expected one of ${[...JOB_STATES].join(', ')}`,
      );
    return { jobs: state.listJobs(status as JobState | undefined) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/jobs/:id', async (req, reply) => {
    const job = state.getJob(req.params.id);
    if (!job) return sendError(reply, 404, 'not_found', `job ${req.params.id} is unknown to this orchestrator`);
    return job;
  });

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/cancel', async (req, reply) =>
    answer(reply, state.cancel(req.params.id)),
  );
  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/retry', async (req, reply) =>
    answer(reply, state.retry(req.params.id)),
  );

  app.get('/api/v1/workers', async () => ({ workers: state.listWorkers() }));

  return { app, state, enqueue };
}

export interface RunningDevOrchestrator extends DevOrchestrator {
  /** http://host:port with the real port (useful with port 0). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDevOrchestrator(
  opts: DevOrchestratorOptions & { host?: string; port?: number },
): Promise<RunningDevOrchestrator> {
  const built = buildDevOrchestrator(opts);
  const host = opts.host ?? '127.0.0.1';
  await built.app.listen({ host, port: opts.port ?? 0 });
  const addr = built.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    ...built,
    url: `http://${shownHost}:${port}`,
    port,
    close: () => (closing ??= built.app.close()),
  };
}
