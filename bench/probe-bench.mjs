#!/usr/bin/env node
/**
 * Capability probe wall time (issue 3: under 2 s end to end on a CPU-only host). Runs the full probe with a cold
 * cache (a fresh state_dir each time) PROBE_BENCH_RUNS times, then once from the cache, with the real ffmpeg and the
 * real host facts, and prints each figure with the load average (other work on the host inflates them).
 *
 *   npm run build && node bench/probe-bench.mjs
 *   BENCH_DIST=src npx tsx bench/probe-bench.mjs    (straight from the sources, no build)
 * Knobs: PROBE_BENCH_RUNS (default 3), PROBE_BENCH_CONCURRENCY (default: the prober's), BENCH_DIST (default dist).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const RUNS = Number(process.env.PROBE_BENCH_RUNS ?? 3);
const CONCURRENCY = process.env.PROBE_BENCH_CONCURRENCY ? Number(process.env.PROBE_BENCH_CONCURRENCY) : undefined;

const { createCapabilityProber } = await import(pathToFileURL(path.join(DIST, 'capabilities', 'probe.js')).href);
const { execaRunner } = await import(pathToFileURL(path.join(DIST, 'exec', 'runner.js')).href);

const log = { info() {}, warn() {}, debug() {} };

function configFor(stateDir) {
  return {
    ffmpeg_path: process.env.WORKER_FFMPEG_PATH ?? 'ffmpeg',
    ffprobe_path: process.env.WORKER_FFPROBE_PATH ?? 'ffprobe',
    hwaccel: 'auto',
    vaapi_device: '',
    max_resolution: 'auto',
    probe_timeout: 15_000,
    state_dir: stateDir,
  };
}

function prober(stateDir) {
  return createCapabilityProber({
    config: configFor(stateDir),
    runner: execaRunner,
    log,
    workerVersion: 'bench',
    ...(CONCURRENCY ? { concurrency: CONCURRENCY } : {}),
  });
}

const rows = [];
let last;
let lastDir;
for (let i = 0; i < RUNS; i++) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-bench-'));
  const load = os.loadavg()[0].toFixed(2);
  const t0 = performance.now();
  last = await prober(dir).probe();
  rows.push({ run: `cold ${i + 1}`, ms: Math.round(performance.now() - t0), load });
  if (lastDir) await rm(lastDir, { recursive: true, force: true });
  lastDir = dir;
}
{
  const load = os.loadavg()[0].toFixed(2);
  const t0 = performance.now();
  const cached = await prober(lastDir).probe();
  rows.push({ run: `cached (fromCache=${cached.fromCache})`, ms: Math.round(performance.now() - t0), load });
}
await rm(lastDir, { recursive: true, force: true });

console.log(
  `capability probe on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ffmpeg ${last.ffmpeg.version}`,
);
console.log('run                       wall ms   load(1m)');
for (const r of rows) console.log(`${r.run.padEnd(26)}${String(r.ms).padStart(7)}   ${r.load}`);
const cold = rows
  .filter((r) => r.run.startsWith('cold'))
  .map((r) => r.ms)
  .sort((a, b) => a - b);
console.log(`median cold: ${cold[Math.floor(cold.length / 2)]} ms (target < 2000 ms)`);
console.log(`declared: ${last.capabilities.supported_codecs.join(', ')}`);
console.log(
  'slowest checks:',
  [...last.encoders]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3)
    .map((e) => `${e.name} ${e.durationMs}ms`)
    .join(', '),
);
