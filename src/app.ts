/**
 * The one place where the worker is wired together. Everything is passed in, so tests (and the demo) can swap the
 * command runner, the clock or the host-load reader; production takes the defaults.
 */
import { configSecrets, type Config } from './config.js';
import { createScrubber } from './util/redact.js';
import type { Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildServer } from './http/server.js';
import { createOrchestratorClient, type OrchestratorClient } from './orchestrator/client.js';
import { Worker } from './worker/worker.js';
import { createHostLoadReader, type HostLoadReader } from './worker/host-load.js';
import { execaRunner, withPriority, type CommandRunner } from './exec/runner.js';
import { createPrioritySetter } from './exec/priority.js';
import { createCapabilityProber } from './capabilities/probe.js';
import type { CapabilityProber } from './capabilities/types.js';
import type { JobExecutor } from './job/contract.js';
import type { PipelineDeps } from './job/pipeline.js';
import { errorMessage } from './errors.js';
import { VERSION } from './version.js';

export interface AppOverrides {
  runner?: CommandRunner;
  client?: OrchestratorClient;
  prober?: CapabilityProber;
  executor?: JobExecutor;
  hostLoad?: HostLoadReader;
  metrics?: Metrics;
  retry?: { startMs: number; maxMs: number };
}

export interface App {
  worker: Worker;
  metrics: Metrics;
  /** Health server address once listening. */
  url?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createApp(config: Config, log: Logger, overrides: AppOverrides = {}): App {
  const metrics = overrides.metrics ?? createMetrics();
  const runner = overrides.runner ?? execaRunner;
  const client =
    overrides.client ??
    createOrchestratorClient({
      baseUrl: config.orchestrator_url,
      workerId: config.worker_id,
      authToken: config.auth_token || undefined,
      timeoutMs: config.request_timeout,
      caFile: config.ca_file || undefined,
    });
  const prober =
    overrides.prober ??
    createCapabilityProber({ config, runner, log: log.child({ component: 'probe' }), workerVersion: VERSION });

  // The worker hands each job its probe report and reads the hardware that failed from the outcome, so the
  // executor needs nothing of the worker.
  // A job's children (ffprobe, the sidecar conversions) run at process_priority like its ffmpeg; the probe does not.
  const jobRunner = withPriority(runner, config.process_priority, createPrioritySetter({ log }));
  const executor = overrides.executor ?? createLazyJobExecutor({ config, runner: jobRunner, log });
  const w = new Worker({
    config,
    log,
    metrics,
    client,
    prober,
    executor,
    hostLoad: overrides.hostLoad ?? createHostLoadReader(),
    version: VERSION,
    retry: overrides.retry ?? { startMs: Math.min(500, config.retry_max_delay), maxMs: config.retry_max_delay },
  });
  const server = buildServer({
    registry: metrics.registry,
    readiness: () => w.readiness(),
    status: () => w.status(),
    scrub: createScrubber(configSecrets(config)),
  });

  const app: App = {
    worker: w,
    metrics,
    async start() {
      // Health first: an orchestrator outage or a slow probe must not make the container look dead.
      try {
        app.url = await server.listen({ host: config.http.host, port: config.http.port });
      } catch (err) {
        throw new Error(
          `cannot listen on ${config.http.host}:${config.http.port} (http.host/http.port): ${errorMessage(err)}`,
        );
      }
      log.info({ url: app.url, worker_id: config.worker_id, version: VERSION }, 'health and metrics server listening');
      await w.start();
    },
    async stop() {
      // The health server closes even when the worker's shutdown fails: the process must be able to exit.
      try {
        await w.stop();
      } finally {
        await server.close();
      }
    },
  };
  return app;
}

/**
 * The pipeline (ffprobe parsing, planning, ffmpeg arguments, staging, verification, commit, hls-parser) is loaded on
 * the first job, not at start: a worker that sits idle for days never pays its memory ("idle, it must be
 * invisible"). Loading it takes milliseconds next to a transcode, and the orchestrator's assignment is not delayed.
 */
function createLazyJobExecutor(deps: PipelineDeps): JobExecutor {
  let loaded: Promise<JobExecutor> | undefined;
  return async (job, ctx) => {
    loaded ??= import('./job/pipeline.js').then((m) => m.createJobExecutor(deps));
    let run: JobExecutor;
    try {
      run = await loaded;
    } catch (err) {
      loaded = undefined; // a broken install stays broken, but a transient read error must not stick forever
      throw err;
    }
    return run(job, ctx);
  };
}
