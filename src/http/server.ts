/**
 * The embedded health/metrics server. buildServer() does not listen, so tests drive it with app.inject();
 * the app wires it to a port. Everything it shows comes from the getters passed in: it owns no state.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { redactUrlsIn, scrubDeep } from '../util/redact.js';

export interface Readiness {
  ready: boolean;
  /** Why not ready, in words (e.g. "ffmpeg not found at ffmpeg", "not registered yet: orchestrator unreachable"). */
  reason?: string;
}

export interface ServerDeps {
  registry: Registry;
  readiness: () => Readiness;
  status: () => unknown;
  /**
   * Masks secrets in every string of the /status and /readyz bodies (URL credentials, the auth_token): a safety net
   * behind the redaction where those texts are made. Default: URL credentials only.
   */
  scrub?: (text: string) => string;
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Our own pino logger already records what matters; per-request logs of scrapes every 15 s would drown it.
  const app = Fastify({ logger: false });
  const scrub = deps.scrub ?? redactUrlsIn;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const r = deps.readiness();
    if (r.ready) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready', reason: scrub(r.reason ?? 'starting') });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  app.get('/status', async () => scrubDeep(deps.status(), scrub));

  return app;
}
