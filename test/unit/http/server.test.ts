import { describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/http/server.js';
import { createMetrics } from '../../../src/metrics.js';
import { createScrubber } from '../../../src/util/redact.js';

describe('health server', () => {
  it('serves healthz, readyz with the reason, status and Prometheus metrics', async () => {
    const metrics = createMetrics();
    let ready = { ready: false, reason: 'ffmpeg not found at /nope (ffmpeg_path)' } as {
      ready: boolean;
      reason?: string;
    };
    const app = buildServer({ registry: metrics.registry, readiness: () => ready, status: () => ({ state: 'IDLE' }) });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const notReady = await app.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not ready', reason: 'ffmpeg not found at /nope (ffmpeg_path)' });
    ready = { ready: true };
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/status')).json()).toEqual({ state: 'IDLE' });

    metrics.jobsTotal.inc({ status: 'completed' });
    metrics.encoderAvailable.set({ encoder: 'libx264' }, 1);
    const res = await app.inject('/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('transcode_worker_jobs_total{status="completed"} 1');
    expect(res.body).toContain('transcode_worker_encoder_available{encoder="libx264"} 1');
    for (const name of [
      'transcode_worker_job_duration_seconds',
      'transcode_worker_busy',
      'transcode_worker_job_progress_ratio',
      'transcode_worker_sync_requests_total',
      'transcode_worker_registrations_total',
      'process_resident_memory_bytes',
    ])
      expect(res.body).toContain(`# TYPE ${name}`);
    await app.close();
  });

  it('keeps metrics of two app instances apart', () => {
    const a = createMetrics();
    const b = createMetrics();
    a.registrations.inc();
    expect(a.registry).not.toBe(b.registry);
  });

  it('masks URL credentials and the given secrets in /status and /readyz, whatever put them there', async () => {
    const metrics = createMetrics();
    const app = buildServer({
      registry: metrics.registry,
      readiness: () => ({ ready: false, reason: 'not registered yet: http://admin:pw-1234@orch/ said tok-5678' }),
      status: () => ({ orchestrator_url: 'http://admin:pw-1234@orch', last_sync: { error: 'tok-5678 refused' } }),
      scrub: createScrubber(['tok-5678']),
    });
    expect((await app.inject('/readyz')).json()).toEqual({
      status: 'not ready',
      reason: 'not registered yet: http://[redacted]@orch/ said [redacted]',
    });
    expect((await app.inject('/status')).json()).toEqual({
      orchestrator_url: 'http://[redacted]@orch',
      last_sync: { error: '[redacted] refused' },
    });
    await app.close();
  });
});
