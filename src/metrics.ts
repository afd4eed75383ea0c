import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often prom-client's event-loop monitor (perf_hooks.monitorEventLoopDelay, the nodejs_eventloop_lag_*_seconds
 * gauges) samples the loop. Its default, 10 ms, wakes an idle worker 100 times a second, measured as most of its idle
 * CPU (bench/idle-bench.mjs: 0.72% of a core at 10 ms, 0.25% at 100 ms, 0.15% at 1000 ms on the bench machine).
 * The worker's own work runs in ffmpeg, so what the gauges are for is a loop stalled long enough to delay syncs,
 * progress reports or /healthz (hundreds of ms and more): at one sample a second a stall of a second or more always
 * shows in the max, shorter ones in proportion to their length, and a 15-60 s Prometheus scrape (the histogram is reset
 * at each scrape) still gets 15-60 samples for the mean and percentiles. nodejs_eventloop_lag_seconds, measured at
 * scrape time, does not depend on it.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 1000;

/**
 * One registry per app instance (never prom-client's global one), so two workers in one test process, or a test
 * that builds the app twice, never share or double-register metrics.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_RESOLUTION_MS });
  const m = {
    registry,
    jobsTotal: new Counter({
      name: 'transcode_worker_jobs_total',
      help: 'Jobs finished, by final status (completed, failed, cancelled).',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'transcode_worker_job_duration_seconds',
      help: 'Wall time of a job from assignment to finalize.',
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200],
      registers: [registry],
    }),
    busy: new Gauge({
      name: 'transcode_worker_busy',
      help: '1 while a job runs, else 0.',
      registers: [registry],
    }),
    jobProgress: new Gauge({
      name: 'transcode_worker_job_progress_ratio',
      help: 'Progress of the running job, 0..1.',
      registers: [registry],
    }),
    jobFps: new Gauge({
      name: 'transcode_worker_job_fps',
      help: 'Frames per second of the running job.',
      registers: [registry],
    }),
    syncRequests: new Counter({
      name: 'transcode_worker_sync_requests_total',
      help: 'Sync calls by result (ok, not_registered, transient_error, permanent_error, protocol_error).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    registrations: new Counter({
      name: 'transcode_worker_registrations_total',
      help: 'Successful registrations (a restart of the orchestrator adds one).',
      registers: [registry],
    }),
    assignmentsRejected: new Counter({
      name: 'transcode_worker_assignments_rejected_total',
      help: 'Jobs assigned while this worker was already busy (never started concurrently).',
      registers: [registry],
    }),
    encoderAvailable: new Gauge({
      name: 'transcode_worker_encoder_available',
      help: '1 when the encoder passed its test encode on this host, 0 otherwise.',
      labelNames: ['encoder'] as const,
      registers: [registry],
    }),
    deviceErrors: new Counter({
      name: 'transcode_worker_device_errors_total',
      help: 'Jobs whose GPU failed with a device error (driver gone, device lost), by hardware family; each one triggers a re-probe.',
      labelNames: ['family'] as const,
      registers: [registry],
    }),
    softwareFallbacks: new Counter({
      name: 'transcode_worker_software_fallbacks_total',
      help: 'Jobs completed by the software retry after their hardware encode or decode failed.',
      registers: [registry],
    }),
    finalizeBacklog: new Gauge({
      name: 'transcode_worker_finalize_backlog',
      help: 'Job results written to the outbox and not yet accepted by the orchestrator.',
      registers: [registry],
    }),
    stateDirWritable: new Gauge({
      name: 'transcode_worker_state_dir_writable',
      help: '1 while state_dir takes writes, 0 while a write to it fails (full, read-only, no permission): no job is started then.',
      registers: [registry],
    }),
    stateWriteFailures: new Counter({
      name: 'transcode_worker_state_write_failures_total',
      help: 'Failed attempts to write or remove a file in state_dir (each is retried with backoff).',
      registers: [registry],
    }),
    pausedSeconds: new Counter({
      name: 'transcode_worker_paused_seconds_total',
      help: 'Time the running job spent paused because the host was needed by other programs (or held by the work hours).',
      registers: [registry],
    }),
    resumedJobs: new Counter({
      name: 'transcode_worker_resumed_jobs_total',
      help: 'Jobs that continued an interrupted run of theirs from its last finished segment instead of starting over.',
      registers: [registry],
    }),
    resumedSegments: new Counter({
      name: 'transcode_worker_resumed_segments_total',
      help: 'Segments (per rendition) that resumed jobs reused from their interrupted run rather than encoding again.',
      registers: [registry],
    }),
    resumableFailures: new Counter({
      name: 'transcode_worker_resumable_failures_total',
      help: 'Jobs that failed or were interrupted with finished segments kept on this worker for a resume (resume_keep).',
      registers: [registry],
    }),
  };
  m.stateDirWritable.set(1);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
