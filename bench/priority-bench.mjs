// Priority bench (issue 13): how much of its solo speed a CPU-bound program (the owner's game) keeps when it starts
// beside a running job, with the job's ffmpeg at normal priority, at process_priority low (nice 10) and idle (19).
// The "owner" is one busy loop per core counting iterations for BENCH_PRIORITY_SECONDS; the job is a libx264 encode
// of a generated 720p film to the null muxer, using every core, its priority set right after spawn by the worker's
// own setter (dist/exec/priority.js). Rounds rotate the four cases; medians are reported.
// Two figures: the owner's iterations against its solo run (what the issue asks, but on a host that other programs
// load it swings with their load from one run to the next), and, Linux only, its share of the CPU time the owner and
// ffmpeg got together over the same window (owner / (owner + ffmpeg)): both run in one scheduling group, so this
// share is what their priorities decide, whatever else loads the host, and it equals the solo-speed share on a host
// whose only load is the owner and the job.
// Runs alone (`node bench/priority-bench.mjs`) or from bench/run.mjs (BENCH_ONLY=priority).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_PRIORITY_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_PRIORITY_ROUNDS ?? 3);
const FFMPEG = process.env.BENCH_FFMPEG ?? 'ffmpeg';
const CASES = ['solo', 'normal', 'low', 'idle'];

/** CPU ms of a process so far (Linux), 0 elsewhere. */
function cpuMs(pid) {
  if (!pid || process.platform !== 'linux') return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** One busy loop per core for SECONDS; resolves with the iterations and the CPU ms of all of them together. */
async function owner() {
  const loop = `const end = Date.now() + ${SECONDS * 1000}; let n = 0;
    while (Date.now() < end) for (let i = 0; i < 1e5; i++) n++;
    const u = process.cpuUsage();
    process.stdout.write(n + ' ' + (u.user + u.system) / 1000);`;
  const counts = await Promise.all(
    os.cpus().map(
      () =>
        new Promise((resolve, reject) => {
          const c = spawn(process.execPath, ['-e', loop], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('exit', (code) =>
            code === 0 ? resolve(out.split(' ').map(Number)) : reject(new Error(`owner loop exit ${code}`)),
          );
        }),
    ),
  );
  return { n: counts.reduce((a, [n]) => a + n, 0), cpuMs: counts.reduce((a, [, ms]) => a + ms, 0) };
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
  const shares = Object.fromEntries(CASES.map((c) => [c, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < CASES.length; i++) {
      const kase = CASES[(i + r) % CASES.length];
      const job = kase === 'solo' ? undefined : startJob(kase, setter);
      // The job is running (and has its threads) when the owner starts, as when a game starts beside an encode.
      if (job) await new Promise((res) => setTimeout(res, 1500));
      const jobBefore = cpuMs(job?.pid);
      const o = await owner();
      const jobMs = cpuMs(job?.pid) - jobBefore;
      results[kase].push(o.n);
      if (job && process.platform === 'linux') shares[kase].push(o.cpuMs / (o.cpuMs + jobMs));
      if (job) {
        job.kill('SIGKILL');
        await new Promise((res) => job.once('exit', res));
      }
    }
  }
  const solo = median(results.solo);
  const kept = Object.fromEntries(CASES.slice(1).map((c) => [c, median(results[c].map((n) => n / solo))]));
  const share =
    process.platform === 'linux' ? Object.fromEntries(CASES.slice(1).map((c) => [c, median(shares[c])])) : undefined;
  return { seconds: SECONDS, rounds: ROUNDS, cores: os.cpus().length, loadavg: os.loadavg()[0], kept, share };
}

export function priorityTable(d) {
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  const share = (c) => (d.share ? pct(d.share[c]) : 'n/a');
  return [
    '| ffmpeg beside the owner | owner keeps of its solo iterations | owner share of the CPU (owner + ffmpeg) |',
    '| --- | --- | --- |',
    `| normal priority | ${pct(d.kept.normal)} | ${share('normal')} |`,
    `| low (nice 10, default) | ${pct(d.kept.low)} | ${share('low')} |`,
    `| idle (nice 19) | ${pct(d.kept.idle)} | ${share('idle')} |`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const d = await runPriorityBench();
  console.log(priorityTable(d));
  console.log(
    `(${d.cores} cores, ${d.rounds} rounds of ${d.seconds} s, medians; 1-min load average at the end ${d.loadavg.toFixed(1)})`,
  );
}
