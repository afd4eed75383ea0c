// Priority bench (issue 13): how much of its solo speed a CPU-bound program (the owner's game) keeps when it starts
// beside a running job, with the job's ffmpeg at normal priority, at process_priority low (nice 10) and idle (19).
// The "owner" is one busy loop per core counting iterations for BENCH_PRIORITY_SECONDS; the job is a libx264 encode
// of a generated 720p film to the null muxer, using every core, its priority set right after spawn by the worker's
// own setter (dist/exec/priority.js). Rounds rotate the four cases; medians are reported. Linux/macOS/Windows.
// Runs alone (`node bench/priority-bench.mjs`) or from bench/run.mjs (BENCH_ONLY=priority).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_PRIORITY_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_PRIORITY_ROUNDS ?? 3);
const FFMPEG = process.env.BENCH_FFMPEG ?? 'ffmpeg';
const CASES = ['solo', 'normal', 'low', 'idle'];

/** One busy loop per core for SECONDS; resolves with the iterations of all of them together. */
async function owner() {
  const loop = `const end = Date.now() + ${SECONDS * 1000}; let n = 0;
    while (Date.now() < end) for (let i = 0; i < 1e5; i++) n++;
    process.stdout.write(String(n));`;
  const counts = await Promise.all(
    os.cpus().map(
      () =>
        new Promise((resolve, reject) => {
          const c = spawn(process.execPath, ['-e', loop], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`owner loop exit ${code}`))));
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

function startJob(priority, setter) {
  const ff = spawn(
    FFMPEG,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30',
      '-c:v',
      'libx264',
      '-preset',
      'medium',
      '-f',
      'null',
      '-',
    ],
    { stdio: 'ignore' },
  );
  if (priority !== 'normal') setter.apply(ff.pid, priority);
  return ff;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runPriorityBench() {
  const { createPrioritySetter } = await import(pathToFileURL(path.join(ROOT, 'dist', 'exec', 'priority.js')).href);
  const setter = createPrioritySetter();
  const results = Object.fromEntries(CASES.map((c) => [c, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < CASES.length; i++) {
      const kase = CASES[(i + r) % CASES.length];
      const job = kase === 'solo' ? undefined : startJob(kase, setter);
      // The job is running (and has its threads) when the owner starts, as when a game starts beside an encode.
      if (job) await new Promise((res) => setTimeout(res, 1500));
      results[kase].push(await owner());
      if (job) {
        job.kill('SIGKILL');
        await new Promise((res) => job.once('exit', res));
      }
    }
  }
  const solo = median(results.solo);
  const kept = Object.fromEntries(CASES.slice(1).map((c) => [c, median(results[c].map((n) => n / solo))]));
  return { seconds: SECONDS, rounds: ROUNDS, cores: os.cpus().length, loadavg: os.loadavg()[0], kept };
}

export function priorityTable(d) {
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  return [
    '| ffmpeg beside the owner | owner keeps of its solo speed |',
    '| --- | --- |',
    `| normal priority | ${pct(d.kept.normal)} |`,
    `| low (nice 10, default) | ${pct(d.kept.low)} |`,
    `| idle (nice 19) | ${pct(d.kept.idle)} |`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const d = await runPriorityBench();
  console.log(priorityTable(d));
  console.log(
    `(${d.cores} cores, ${d.rounds} rounds of ${d.seconds} s, medians; 1-min load average at the end ${d.loadavg.toFixed(1)})`,
  );
}
