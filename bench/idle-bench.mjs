// Idle bench (issue 13, "invisible when idle"): what an idle, registered worker costs its host.
//
// Measures, side by side in one run, for each variant (the worker as built, and the same worker with prom-client's
// event-loop monitor forced back to its default 10 ms resolution, i.e. the worker before issue 13):
//   - idle CPU in % of one core at the default sync interval (10 s), health server up, nobody scraping /metrics;
//   - wake-ups per second of that idle process (voluntary + involuntary context switches of all its threads: each time
//     a thread is woken it later switches out once);
//   - its RSS;
//   - CPU per sync in ms: a second worker of the same build syncing every SYNC_FAST_MS, its CPU over the window less
//     what the idle worker spends in the same time without syncing (timers, GC), divided by its syncs.
// CPU is read from outside (/proc/<pid>/stat utime + stime of all threads, GC and libuv threads included), the sync
// count from the dev orchestrator (GET /api/v1/workers), so measuring adds nothing to the measured process.
// Linux only (reads /proc); returns the figures for bench/run.mjs to record.
//
//   node bench/idle-bench.mjs                        (after npm run build)
//   BENCH_IDLE_WINDOW=60 BENCH_IDLE_SETTLE=20 BENCH_IDLE_SYNC_FAST_MS=100 node bench/idle-bench.mjs
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const DIST = path.resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const CLK_TCK = 100;
/** Measuring window: a few hundred fast syncs and 4-5 default-interval syncs, short enough for the bench. */
const WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW ?? 45);
/**
 * After registration. V8's memory reducer runs two or three full garbage collections once the process has gone quiet
 * after start-up, 45-50 s after start here (~0.1-0.3 s of CPU in all, seen with --trace-gc): a one-off of start-up,
 * which a window opened earlier counts as idle cost (it doubled the idle figure in a 60 s window).
 */
const SETTLE_S = Number(process.env.BENCH_IDLE_SETTLE ?? 60);
const SYNC_FAST_MS = Number(process.env.BENCH_IDLE_SYNC_FAST_MS ?? 100);
/** The default sync_interval (config-schema.ts). */
const SYNC_DEFAULT = '10s';
/** A preload that sets prom-client's event-loop monitor resolution (the "before" variant). */
const PRECISION_PRELOAD = path.join(HERE, 'idle-precision.mjs');

async function procStats(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, all threads
  let switches = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const t = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
    switches += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1] ?? 0);
    switches += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1] ?? 0);
  }
  return {
    rssMb: rssKb / 1024,
    cpuMs: (ticks * 1000) / CLK_TCK,
    sysMs: (Number(stat[12]) * 1000) / CLK_TCK,
    switches,
    at: performance.now(),
  };
}

const ratio = (a, b) => (a / b).toFixed(2);

async function until(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function workerSyncs(orchUrl, id) {
  const res = await fetch(`${orchUrl}/api/v1/workers`);
  const { workers } = await res.json();
  return workers.find((w) => w.worker_id === id)?.syncs;
}

function startWorker({ root, orchUrl, id, syncInterval, precision, dist = DIST }) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? root,
    WORKER_ORCHESTRATOR_URL: orchUrl,
    WORKER_ID: id,
    WORKER_NAS_MOUNT_PATH: path.join(root, 'nas'),
    WORKER_TEMP_DIR: path.join(root, id, 'tmp'),
    WORKER_STATE_DIR: path.join(root, id, 'state'),
    WORKER_HTTP_HOST: '127.0.0.1',
    WORKER_HTTP_PORT: '0',
    WORKER_SYNC_INTERVAL: syncInterval,
    // The production default level (info): what is logged per sync at that level is part of the cost.
    WORKER_LOG_LEVEL: 'info',
  };
  const args = [];
  if (precision !== undefined) {
    args.push('--import', pathToFileURL(PRECISION_PRELOAD).href);
    env.BENCH_EVENT_LOOP_PRECISION = String(precision);
    env.BENCH_DIST = dist;
  }
  const child = spawn(process.execPath, [...args, path.join(dist, 'main.js'), 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { id, child, syncInterval };
}

/** One build of the worker: an idle one at the default interval and a fast-syncing one, measured over the same window. */
const VARIANTS = process.env.BENCH_IDLE_PRECISIONS
  ? process.env.BENCH_IDLE_PRECISIONS.split(',').map((p) => ({
      name: `event-loop monitor at ${p} ms`,
      precision: Number(p),
    }))
  : [
      { name: 'as built', precision: undefined },
      { name: 'as built, event-loop monitor at 10 ms', precision: 10 },
      // Another build to compare with (e.g. the commit before issue 13, built into a folder of its own).
      ...(process.env.BENCH_IDLE_BEFORE_DIST
        ? [{ name: 'before (BENCH_IDLE_BEFORE_DIST)', dist: path.resolve(process.env.BENCH_IDLE_BEFORE_DIST) }]
        : []),
    ];

export async function runIdleBench() {
  if (process.platform !== 'linux') {
    console.log('idle bench: Linux only (reads /proc); skipped');
    return undefined;
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'tw-bench-idle-'));
  await mkdir(path.join(root, 'nas'), { recursive: true });
  const { startDevOrchestrator } = await import(pathToFileURL(path.join(DIST, 'dev-orchestrator', 'server.js')).href);
  const orch = await startDevOrchestrator({ host: '127.0.0.1', port: 0, log: false });
  const workers = [];
  try {
    // The first worker pays for the capability probe (test encodes, tens of seconds on a loaded machine); the others
    // start from its probe cache (state_dir/capabilities.json), so they do not all encode at once.
    const registered = (w) =>
      until(async () => (await workerSyncs(orch.url, w.id)) > 0, 180_000, `${w.id} to register and sync`);
    for (const [i, v] of VARIANTS.entries()) {
      for (const kind of ['idle', 'fast']) {
        const id = `${kind}-${i}`;
        if (workers.length > 0) {
          await mkdir(path.join(root, id, 'state'), { recursive: true });
          await copyFile(
            path.join(root, workers[0].id, 'state', 'capabilities.json'),
            path.join(root, id, 'state', 'capabilities.json'),
          );
        }
        const syncInterval = kind === 'idle' ? SYNC_DEFAULT : `${SYNC_FAST_MS}ms`;
        v[kind] = startWorker({ root, orchUrl: orch.url, id, syncInterval, ...v });
        workers.push(v[kind]);
        if (workers.length === 1) await registered(v[kind]);
      }
    }
    for (const w of workers) await registered(w);
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));

    const before = new Map();
    for (const w of workers)
      before.set(w, { ...(await procStats(w.child.pid)), syncs: await workerSyncs(orch.url, w.id) });
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const after = new Map();
    for (const w of workers)
      after.set(w, { ...(await procStats(w.child.pid)), syncs: await workerSyncs(orch.url, w.id) });

    const results = VARIANTS.map((v) => {
      const d = (w) => {
        const a = before.get(w);
        const b = after.get(w);
        const wallMs = b.at - a.at;
        return {
          wallMs,
          cpuMs: b.cpuMs - a.cpuMs,
          sysMs: b.sysMs - a.sysMs,
          switches: b.switches - a.switches,
          syncs: b.syncs - a.syncs,
          rssMb: b.rssMb,
        };
      };
      const idle = d(v.idle);
      const fast = d(v.fast);
      const idleRate = idle.cpuMs / idle.wallMs; // ms of CPU per ms, at the default interval (syncs included)
      // The fast worker's CPU less the idle worker's over the same time (its own ~6 syncs included, a small overcount
      // of the background that makes the per-sync figure a little low), per sync.
      const perSyncMs = (fast.cpuMs - idleRate * fast.wallMs) / fast.syncs;
      return {
        name: v.name,
        precision: v.precision ?? 'as built',
        idleCpuPercent: idleRate * 100,
        idleWakeupsPerSec: (idle.switches / idle.wallMs) * 1000,
        idleRssMb: idle.rssMb,
        idleSyncs: idle.syncs,
        perSyncMs,
        perSyncRawMs: fast.cpuMs / fast.syncs,
        perSyncKernelMs: fast.sysMs / fast.syncs,
        fastSyncs: fast.syncs,
        fastWakeupsPerSync: fast.switches / fast.syncs,
      };
    });
    console.log(
      `\nIdle (bench/idle-bench.mjs): registered workers, health server up, nobody scraping /metrics; ${SETTLE_S} s settle ` +
        `after registration, then ${WINDOW_S} s measured; idle at sync_interval ${SYNC_DEFAULT}, per sync at ${SYNC_FAST_MS} ms`,
    );
    console.table(
      Object.fromEntries(
        results.map((r) => [
          r.name,
          {
            'idle CPU % of a core': r.idleCpuPercent.toFixed(3),
            'wake-ups/s': r.idleWakeupsPerSec.toFixed(1),
            'RSS MB': r.idleRssMb.toFixed(1),
            'CPU ms per sync': r.perSyncMs.toFixed(2),
            'raw ms per sync': r.perSyncRawMs.toFixed(2),
            'of which kernel': r.perSyncKernelMs.toFixed(2),
            'fast syncs': r.fastSyncs,
          },
        ]),
      ),
    );
    const [now, ...others] = results;
    for (const old of others)
      console.log(
        `as built / ${old.name}: idle CPU ${ratio(now.idleCpuPercent, old.idleCpuPercent)}, wake-ups ` +
          `${ratio(now.idleWakeupsPerSec, old.idleWakeupsPerSec)}, CPU per sync ${ratio(now.perSyncMs, old.perSyncMs)}`,
      );
    console.log('targets (issue 13): idle <= 0.3% of a core at the default sync interval, <= 3 ms of CPU per sync');
    return {
      loadAverage: os.loadavg()[0],
      windowSeconds: WINDOW_S,
      settleSeconds: SETTLE_S,
      syncFastMs: SYNC_FAST_MS,
      results,
    };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await orch.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  runIdleBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
