/**
 * Issue 13 (invisible when idle): prom-client's event-loop monitor samples the loop every 10 ms unless told otherwise,
 * 100 wake-ups a second of an otherwise idle worker. The resolution the worker asks for is checked here (a guard
 * without timing: bench/idle-bench.mjs measures what it costs); the real collectDefaultMetrics still runs.
 */
import * as promClient from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { EVENT_LOOP_MONITOR_RESOLUTION_MS, createMetrics } from '../../../src/metrics.js';

vi.mock('prom-client', async (importOriginal) => {
  const real = await importOriginal<typeof import('prom-client')>();
  return { ...real, collectDefaultMetrics: vi.fn(real.collectDefaultMetrics) };
});

describe('default metrics', () => {
  it('sample the event loop at most once a second, into the app registry', async () => {
    const metrics = createMetrics();
    expect(EVENT_LOOP_MONITOR_RESOLUTION_MS).toBeGreaterThanOrEqual(1000);
    expect(promClient.collectDefaultMetrics).toHaveBeenCalledWith({
      register: metrics.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_RESOLUTION_MS,
    });
    // The lag gauges are still exported (the monitor is slowed down, not switched off).
    const text = await metrics.registry.metrics();
    expect(text).toContain('nodejs_eventloop_lag_max_seconds');
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
  });
});
