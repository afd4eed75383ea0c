// Preload for bench/idle-bench.mjs (node --import): sets prom-client's event-loop monitor resolution to
// BENCH_EVENT_LOOP_PRECISION ms whatever src/metrics.ts asks for, so one run measures the worker with prom-client's
// default (10 ms, the worker before issue 13) beside the worker as built. The worker imports prom-client (CommonJS)
// from ESM; Node builds that import's bindings from module.exports when it is first imported, so the export patched
// here, before the worker loads, is the one the worker calls.
import path from 'node:path';
import { createRequire } from 'node:module';

const dist = process.env.BENCH_DIST ?? path.resolve(import.meta.dirname, '..', 'dist');
const promClient = createRequire(path.join(dist, 'metrics.js'))('prom-client');
const original = promClient.collectDefaultMetrics;
const precision = Number(process.env.BENCH_EVENT_LOOP_PRECISION);
promClient.collectDefaultMetrics = (config) => original({ ...config, eventLoopMonitoringPrecision: precision });
