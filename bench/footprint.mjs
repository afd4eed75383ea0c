// Footprint benchmark (issue 2 §8): the idle worker must be invisible on a Raspberry Pi or a gaming PC.
// Measures, in one run, side by side:
//   - RSS and CPU of an idle, registered worker syncing every 10 s with its health server up, against a bare Node
//     process that only imports the same dependencies (the floor we cannot go below), both measured once settled;
//   - the start-up peak RSS of both, for the record;
//   - how soon the next job is picked up after the previous one is finalized.
// Linux only (reads /proc); prints a table and returns the figures for bench/run.mjs to record.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const CLK_TCK = 100;
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
// Start-up grows V8's young generation to its maximum (16 MB semi-spaces); V8's memory reducer gives it back once the
// process is idle, 30-60 s after start here (the worker's RSS then falls from ~95 MB to ~77 MB, the floor's from ~87 to
// ~71). Measuring before that measures start-up, not idle, and lands on either side of the drop from run to run.
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 75);

async function procStats(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuSec: ticks / CLK_TCK };
}

/** Samples a process's RSS every 250 ms from its start until stop() (for the start-up peak). */
function trackPeak(pid) {
  let peak = 0;
  const timer = setInterval(() => {
    procStats(pid).then(
      (s) => (peak = Math.max(peak, s.rssMb)),
      () => undefined,
    );
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

async function measureIdle(pid, seconds) {
  const a = await procStats(pid);
  const t0 = performance.now();
  let peak = a.rssMb;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    peak = Math.max(peak, (await procStats(pid)).rssMb);
  }
  const b = await procStats(pid);
  const wall = (performance.now() - t0) / 1000;
  return { rssMb: b.rssMb, peakRssMb: peak, cpuPercent: ((b.cpuSec - a.cpuSec) / wall) * 100 };
}

async function until(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getJson = async (url, init) => {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
};

export async function runFootprintBench() {
  if (process.platform !== 'linux') {
    console.log('footprint bench: Linux only (reads /proc); skipped');
    return undefined;
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'tw-bench-foot-'));
  const nas = path.join(root, 'nas');
  await mkdir(path.join(nas, 'in'), { recursive: true });
  const { startDevOrchestrator } = await import(path.join(ROOT, 'dist', 'dev-orchestrator', 'server.js'));
  const orch = await startDevOrchestrator({ host: '127.0.0.1', port: 0, log: false });
  const children = [];
  try {
    // The floor: Node importing the runtime dependencies the idle worker loads and doing nothing (axios left out since
    // issue 13: the orchestrator client uses Node's http).
    const floor = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await Promise.all(['fastify','execa','systeminformation','pino','convict','prom-client','@sinclair/typebox','ajv','yaml','exponential-backoff','commander'].map((m)=>import(m)));setInterval(()=>{},1e9)",
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    children.push(floor);
    const floorPeak = trackPeak(floor.pid);

    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? root,
      WORKER_ORCHESTRATOR_URL: orch.url,
      WORKER_ID: 'bench-idle',
      WORKER_NAS_MOUNT_PATH: nas,
      WORKER_TEMP_DIR: path.join(root, 'tmp'),
      WORKER_STATE_DIR: path.join(root, 'state'),
      WORKER_HTTP_HOST: '127.0.0.1',
      WORKER_HTTP_PORT: '0',
      WORKER_SYNC_INTERVAL: '10s',
      WORKER_LOG_LEVEL: 'warn',
    };
    const worker = spawn(process.execPath, [MAIN, 'start'], { env, stdio: 'ignore' });
    children.push(worker);
    const workerPeak = trackPeak(worker.pid);
    await until(async () => (await getJson(`${orch.url}/api/v1/workers`)).workers.length > 0, 60_000, 'registration');
    // Idle is the state the worker spends its days in: let start-up settle (see SETTLE_SECONDS) before measuring.
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const [idle, base] = await Promise.all([
      measureIdle(worker.pid, IDLE_SECONDS),
      measureIdle(floor.pid, IDLE_SECONDS),
    ]);
    const startupPeakRssMb = workerPeak.stop();
    const floorStartupPeakRssMb = floorPeak.stop();

    // Pickup latency: two tiny jobs back to back; the second must be assigned right after the first is finalized.
    const { sampleSourceArgs } = await import(pathToFileURL(path.join(ROOT, 'dist', 'media', 'sample-source.js')).href);
    execFileSync(
      'ffmpeg',
      sampleSourceArgs({
        file: path.join(nas, 'in', 'a.mp4'),
        width: 320,
        height: 180,
        seconds: 2,
        audio: false,
        preset: 'ultrafast',
      }),
    );
    const job = (n) => ({
      input: { source_url: 'in/a.mp4' },
      outputs: [{ resolution: '240p', bitrate: '300k', codec: 'libx264', dest_path: `out/${n}/` }],
      hls_settings: { segment_time: 1 },
    });
    const j1 = await getJson(`${orch.url}/api/v1/jobs`, { method: 'POST', body: JSON.stringify(job(1)) });
    const j2 = await getJson(`${orch.url}/api/v1/jobs`, { method: 'POST', body: JSON.stringify(job(2)) });
    const done = async (id) => {
      const r = await getJson(`${orch.url}/api/v1/jobs/${id}`);
      return ['COMPLETED', 'FAILED'].includes(r.status) ? r : undefined;
    };
    const r1 = await until(() => done(j1.job_id), 120_000, 'job 1');
    const r2 = await until(() => done(j2.job_id), 120_000, 'job 2');
    const pickupMs = Date.parse(r2.assigned_at) - Date.parse(r1.finished_at);

    const result = {
      idleRssMb: idle.rssMb,
      idlePeakRssMb: idle.peakRssMb,
      idleCpuPercent: idle.cpuPercent,
      floorRssMb: base.rssMb,
      floorCpuPercent: base.cpuPercent,
      pickupMs,
      jobs: [r1.status, r2.status],
      idleSeconds: IDLE_SECONDS,
      settleSeconds: SETTLE_SECONDS,
      startupPeakRssMb,
      floorStartupPeakRssMb,
    };
    console.log(
      `\nFootprint (idle worker registered, sync every 10 s, health server up; ${SETTLE_SECONDS} s settle after ` +
        `registration, then ${IDLE_SECONDS} s measured)`,
    );
    console.table({
      'idle worker': {
        'RSS MB': idle.rssMb.toFixed(1),
        'peak RSS MB': idle.peakRssMb.toFixed(1),
        'CPU % of a core': idle.cpuPercent.toFixed(2),
        'start-up peak RSS MB': startupPeakRssMb.toFixed(1),
      },
      'bare node + deps': {
        'RSS MB': base.rssMb.toFixed(1),
        'peak RSS MB': base.peakRssMb.toFixed(1),
        'CPU % of a core': base.cpuPercent.toFixed(2),
        'start-up peak RSS MB': floorStartupPeakRssMb.toFixed(1),
      },
    });
    console.log(`RSS ratio worker/floor: ${(idle.rssMb / base.rssMb).toFixed(2)}  (target: RSS <= 80 MB, CPU <= 1%)`);
    console.log(
      `next job picked up ${pickupMs} ms after the previous finalize (target < 1000 ms); jobs: ${result.jobs.join(', ')}`,
    );
    return result;
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await orch.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runFootprintBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
