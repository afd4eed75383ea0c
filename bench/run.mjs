#!/usr/bin/env node
/**
 * `npm run bench` (after a build): the four ratios of issue 4 section 9, measured side by side in one run.
 *
 *  1. one pass vs the seed's approach: the worker's single ffmpeg (decode once, split) against one ffmpeg per
 *     rendition with the same encoder settings, on a generated 4K HEVC 10-bit source to a 1080p/720p/480p
 *     libx264 ladder;
 *  2. the worker's end-to-end job time (validate, probe, ffmpeg, verify, commit) against the bare ffmpeg command
 *     it runs;
 *  3. the cost of HDR tone mapping: the same source tagged HDR10 (PQ, only the colour tags differ) through the
 *     same job;
 *  4. commit throughput (hidden sibling + fdatasync + rename) against `cp -r` (and `cp -r` + `sync`, the same
 *     durability) between the same folders (bench/commit-bench.mjs);
 *  5. every language (issue 11, bench/languages-bench.mjs): the ladder with three audio renditions (each source
 *     track encoded once, shared by every rung) against video + one audio, on a generated 1280x720 film with three
 *     audio tracks (5.1 + stereo + stereo) and the same film with its default track only, to a 720p/480p/360p
 *     libx264 ladder; against the argv before issue 11 (the default track muxed into every rung); and the CPU
 *     that encoding each track once saves, timed on the audio half of the commands alone.
 * Then the footprint bench (bench/footprint.mjs: idle RSS/CPU, next-job pickup latency), the priority bench
 * (bench/priority-bench.mjs, issue 13: what a CPU-bound program keeps of its speed beside a job, by priority) and
 * the idle bench (bench/idle-bench.mjs, issue 13: idle CPU at the default sync interval, wake-ups, CPU per sync; set
 * BENCH_IDLE_BEFORE_DIST to a build of another commit to measure it beside this one), and the split bench
 * (bench/split-bench.mjs, issue 12: a 2-minute 1080p film whole on one worker pinned to one core, split over two
 * workers pinned to a core each, resumed after a kill at 60 %, and the seed's one ffmpeg per rendition; Linux only).
 *
 * Sources are generated once into bench/out/ (git-ignored) and reused. Environment knobs:
 *   BENCH_ONLY: comma-separated parts to run, of e2e (rows 2, 2b and the overhead breakdown), seed (row 1),
 *     hdr (row 3), commit (rows 4*), languages (rows 5*), footprint, priority, idle, split (rows 6*); default all. Rows of parts not run are kept
 *     from the previous run (kept as JSON at the end of bench/results.md) and say when they were measured.
 *   BENCH_SECONDS (source length, default 5: shorter than the issue's ~10 s so the whole bench stays near 5
 *     minutes on 2 cores), BENCH_ROUNDS (job/bare pairs, default 6: even, so each side runs first equally often), BENCH_PRESET (libx264 preset, default
 *     veryfast), BENCH_COMMIT_ROUNDS (default 7), BENCH_COMMIT_SECONDS (content length of the commit tree,
 *     default 300), BENCH_COMMIT_SEGMENT (its segment length, default 6 s as jobs), BENCH_DIST (default dist/),
 *     BENCH_LANG_SECONDS (length of the languages film, default 24), BENCH_LANG_ROUNDS (rounds of its two pairs of
 *     full runs, default 8: even, as BENCH_ROUNDS), BENCH_LANG_AUDIO_ROUNDS (rounds of its four audio-only runs,
 *     default 8: a multiple of 4, so each takes each place in the rotating order equally often),
 *     BENCH_SPLIT_SECONDS (length of the split bench's 1080p film, default 120: the issue's 2 minutes).
 * Prints a table and writes bench/results.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCommitBench } from './commit-bench.mjs';
import { LADDER as LANG_LADDER, runLanguagesBench } from './languages-bench.mjs';
import { priorityTable, runPriorityBench } from './priority-bench.mjs';
import { runSplitBench, splitDetails, splitTable } from './split-bench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const dist = path.resolve(root, process.env.BENCH_DIST ?? 'dist');
const out = path.join(here, 'out');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const COMMIT_ROUNDS = Number(process.env.BENCH_COMMIT_ROUNDS ?? 7);
const COMMIT_SECONDS = Number(process.env.BENCH_COMMIT_SECONDS ?? 300);
const COMMIT_SEGMENT = Number(process.env.BENCH_COMMIT_SEGMENT ?? 6);
const LANG_SECONDS = Number(process.env.BENCH_LANG_SECONDS ?? 24);
const LANG_ROUNDS = Number(process.env.BENCH_LANG_ROUNDS ?? 8);
const LANG_AUDIO_ROUNDS = Number(process.env.BENCH_LANG_AUDIO_ROUNDS ?? 8);
const PARTS = ['e2e', 'seed', 'hdr', 'commit', 'languages', 'footprint', 'priority', 'idle', 'split'];
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? PARTS.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean),
);
for (const p of ONLY) {
  if (!PARTS.includes(p)) {
    console.error(`bench: unknown part "${p}" in BENCH_ONLY (parts: ${PARTS.join(', ')})`);
    process.exit(2);
  }
}
const want = (part) => ONLY.has(part);
const PRESET = process.env.BENCH_PRESET ?? 'veryfast';
const FFMPEG = process.env.BENCH_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.BENCH_FFPROBE ?? 'ffprobe';

const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
if (!existsSync(path.join(dist, 'job', 'pipeline.js'))) {
  console.error(`bench: ${dist}/job/pipeline.js not found; run "npm run build" first`);
  process.exit(2);
}
const { loadConfig } = await load('config.js');
const { createLogger } = await load('log.js');
const { execaRunner } = await load('exec/runner.js');
const { createJobExecutor } = await load('job/pipeline.js');
const { buildPlanOptions } = await load('job/plan-choice.js');
const { validateJob } = await load('job/validate.js');
const { probeSourceInfo } = await load('transcode/ffprobe.js');
const { assertSourceComplete } = await load('transcode/ffprobe-completeness.js');
const { planTranscode } = await load('transcode/plan.js');
const { buildFfmpegArgs, buildFilterGraph } = await load('transcode/args/index.js');
const { commitOutputs } = await load('storage/commit.js');
const { buildCommitSpec } = await load('storage/commit-spec.js');
const { verifyStaging } = await load('storage/verify.js');
const { openSegmentJournal } = await load('storage/segment-journal.js');
const { writeJoinedPlaylists } = await load('storage/playlist-join.js');
const { journaledRenditions } = await load('job/resume.js');
const { jobStagingDir } = await load('storage/paths.js');
const { runFootprintBench } = await import(pathToFileURL(path.join(here, 'footprint.mjs')).href);
const { runIdleBench } = await import(pathToFileURL(path.join(here, 'idle-bench.mjs')).href);

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${cmd} exited ${code}: ${err}`)),
    );
  });
}

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

/**
 * CPU time (user + system) of every child process this bench has waited for, in ms: /proc/self/stat fields
 * cutime + cstime (clock ticks of 10 ms). Far less sensitive than wall time to other load on a shared machine.
 * Linux only; undefined elsewhere.
 */
function childCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return undefined;
  }
}

/** Wall time, child-CPU time and this Node process's own CPU time (progress parsing, verification, commit) of `fn`. */
async function measure(fn) {
  const cpu0 = childCpuMs();
  const self0 = process.cpuUsage();
  const started = performance.now();
  await fn();
  const wall = performance.now() - started;
  const self = process.cpuUsage(self0);
  const cpu1 = childCpuMs();
  return {
    wall,
    cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
    selfCpu: (self.user + self.system) / 1000,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Median of each field over repeated runs (less swayed by a busy moment than the mean, less lucky than the best). */
const med = (xs) => ({
  wall: median(xs.map((x) => x.wall)),
  cpu: xs.some((x) => x.cpu === undefined) ? undefined : median(xs.map((x) => x.cpu)),
  selfCpu: median(xs.map((x) => x.selfCpu ?? 0)),
});
const add = (a, b) => ({
  wall: a.wall + b.wall,
  cpu: a.cpu === undefined || b.cpu === undefined ? undefined : a.cpu + b.cpu,
});
const sec = (ms) => (ms / 1000).toFixed(1);

// ---------------------------------------------------------------- sources
const nas = path.join(out, 'nas');
await mkdir(path.join(nas, 'movies'), { recursive: true });
const sdrSrc = path.join(nas, 'movies', `uhd-hevc10-${SECONDS}s.mkv`);
const hdrSrc = path.join(nas, 'movies', `uhd-hevc10-hdr10-${SECONDS}s.mkv`);
const needSources = want('e2e') || want('seed') || want('hdr');
if (needSources && !existsSync(sdrSrc)) {
  log(`generating a ${SECONDS} s 3840x2160 10-bit HEVC source (once; cached in bench/out)`);
  await run(FFMPEG, [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=3840x2160:rate=25:duration=${SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-c:v',
    'libx265',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p10le',
    '-x265-params',
    'log-level=error',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    sdrSrc,
  ]);
}
if (needSources && !existsSync(hdrSrc)) {
  // Same pixels, only the colour description changes (HEVC VUI rewritten in place): PQ transfer, BT.2020.
  await run(FFMPEG, [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-i',
    sdrSrc,
    '-map',
    '0',
    '-c',
    'copy',
    '-bsf:v',
    'hevc_metadata=colour_primaries=9:transfer_characteristics=16:matrix_coefficients=9',
    '-color_primaries',
    'bt2020',
    '-color_trc',
    'smpte2084',
    '-colorspace',
    'bt2020nc',
    hdrSrc,
  ]);
}

// ---------------------------------------------------------------- worker setup
const tempDir = path.join(out, 'tmp');
await mkdir(tempDir, { recursive: true });
const config = loadConfig({
  cwd: out,
  args: [],
  env: {
    WORKER_NAS_MOUNT_PATH: nas,
    WORKER_TEMP_DIR: tempDir,
    WORKER_STATE_DIR: path.join(out, 'state'),
    WORKER_FFMPEG_PATH: FFMPEG,
    WORKER_FFPROBE_PATH: FFPROBE,
    WORKER_X264_PRESET: PRESET,
    WORKER_LOG_LEVEL: 'silent',
    WORKER_HWACCEL: 'none',
  },
});
const logger = createLogger({ level: 'silent' });
const executor = createJobExecutor({ config, runner: execaRunner, log: logger });

const jobFor = (src, dest) => ({
  job_id: `bench-${dest}`,
  input: { source_url: path.relative(nas, src).split(path.sep).join('/') },
  outputs: [
    { resolution: '1080p', bitrate: '5M', codec: 'libx264', dest_path: `processed/${dest}/1080p` },
    { resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: `processed/${dest}/720p` },
    { resolution: '480p', bitrate: '1M', codec: 'libx264', dest_path: `processed/${dest}/480p` },
  ],
  hls_settings: { segment_time: 2 },
});

async function planFor(job, stagingDir) {
  const validated = await validateJob(job, { nasRoot: nas });
  const probeDeps = { ffprobePath: FFPROBE, runner: execaRunner };
  const probed = await probeSourceInfo(validated.inputPath, probeDeps);
  await assertSourceComplete(probed, probeDeps);
  return planTranscode(validated, probed.info, buildPlanOptions(config, undefined, stagingDir));
}

/** A silent logger that keeps the argv the pipeline logs at debug level (to check the bare run uses the same). */
const jobArgs = new Map();
const argvLogger = {
  level: 'debug',
  debug: (obj, msg) => {
    if (msg === 'ffmpeg arguments' && obj?.args) jobArgs.set(argvLogger.jobId, obj.args);
  },
  info: () => {},
  warn: () => {},
  error: () => {},
  trace: () => {},
  fatal: () => {},
  child: () => argvLogger,
};

const overheads = [];
async function runJob(job) {
  const started = performance.now();
  argvLogger.jobId = job.job_id;
  const res = await executor(job, { signal: new AbortController().signal, onProgress: () => {}, log: argvLogger });
  // Everything the job does besides ffmpeg itself: validation, ffprobe, staging, verification, commit.
  overheads.push({
    job: job.job_id,
    ms: performance.now() - started - res.metrics.transcode_time_ms,
    ffmpegMs: res.metrics.transcode_time_ms,
    commitMs: res.metrics.commit_time_ms,
  });
}

const show = (m) => `${sec(m.wall)} s wall${m.cpu === undefined ? '' : `, ${sec(m.cpu)} s CPU`}`;

// ---------------------------------------------------------------- 1 + 2: one pass, seed approach, end to end
const sdrJob = jobFor(sdrSrc, 'sdr');
const bareDir = path.join(out, 'bare');
const plan = needSources ? await planFor(sdrJob, bareDir) : undefined;
const runBare = async () => {
  await rm(bareDir, { recursive: true, force: true });
  await mkdir(bareDir, { recursive: true });
  return measure(() => run(FFMPEG, buildFfmpegArgs(plan)));
};

// Job and bare command alternate (A B A B ...), ROUNDS times each: on a shared machine single runs swing by tens
// of percent, and alternating spreads slow moments over both sides. The ratio is the median of the per-round
// ratios (each job beside the bare run next to it, under the same load); the medians of each side are shown too.
// The bare run is the identical argv (checked below), -progress pipe:1 included; only its stdout goes to
// /dev/null instead of the worker's progress parser.
const jobRuns = [];
const bareRuns = [];
const e2e = {};
if (want('e2e')) {
  for (let round = 0; round < ROUNDS; round++) {
    // Half the rounds start with the bare run, so neither side always runs first.
    const steps = [
      ['worker end-to-end job (SDR 10-bit source)', async () => jobRuns.push(await measure(() => runJob(sdrJob)))],
      ['bare single ffmpeg command (the same argv)', async () => bareRuns.push(await runBare())],
    ];
    if (round % 2) steps.reverse();
    for (const [what, step] of steps) {
      log(`round ${round + 1}/${ROUNDS}: ${what}`);
      await step();
    }
    log(`  job ${show(jobRuns.at(-1))}; bare ${show(bareRuns.at(-1))}`);
  }
  const jobStaging = jobStagingDir(tempDir, sdrJob.job_id);
  const seen = (jobArgs.get(sdrJob.job_id) ?? []).map((a) => a.split(jobStaging).join(bareDir));
  const same = JSON.stringify(seen) === JSON.stringify(buildFfmpegArgs(plan));
  log(`bare argv identical to the job's (staging folder aside): ${same}`);
  if (!same) throw new Error(`bench: the bare run's argv differs from the job's:\n${seen.join(' ')}`);
  Object.assign(e2e, {
    job: med(jobRuns),
    bare: med(bareRuns),
    pairedWall: median(jobRuns.map((j, i) => j.wall / bareRuns[i].wall)),
    pairedCpu: jobRuns.some((j) => j.cpu === undefined)
      ? undefined
      : median(jobRuns.map((j, i) => j.cpu / bareRuns[i].cpu)),
  });
}

// Where the job's time outside ffmpeg goes: each step on its own, on the bare run's output (median of 3).
const pieces = { probe: [], complete: [], journal: [], verify: [], commit: [] };
if (want('e2e')) {
  log('job overhead pieces: validate + ffprobe of the source, completeness check, verification, commit');
  const piecesNas = path.join(out, 'pieces-nas');
  const piecesStage = path.join(out, 'pieces-staging');
  for (let i = 0; i < 3; i++) {
    // verifyStaging rewrites the master playlist in place, so each round verifies a fresh copy of the bare output.
    await rm(piecesStage, { recursive: true, force: true });
    await run('cp', ['-r', bareDir, piecesStage]);
    let probed;
    pieces.probe.push(
      await measure(async () => {
        const validated = await validateJob(sdrJob, { nasRoot: nas });
        probed = await probeSourceInfo(validated.inputPath, { ffprobePath: FFPROBE, runner: execaRunner });
      }),
    );
    pieces.complete.push(
      await measure(() => assertSourceComplete(probed, { ffprobePath: FFPROBE, runner: execaRunner })),
    );
    const stagedPlan = { ...plan, stagingDir: piecesStage };
    // ffmpeg writes EVENT playlists; the job records each finished segment (fsync + journal line) and writes the
    // ladder's VOD playlists from the journal (issue 12): here all of it at once, as after the last scan.
    pieces.journal.push(
      await measure(async () => {
        const renditions = journaledRenditions(stagedPlan);
        const journal = await openSegmentJournal({
          file: path.join(out, `pieces-segments-${i}.jsonl`),
          stagingDir: piecesStage,
          renditions,
          playlistName: stagedPlan.playlistName,
        });
        await journal.scan();
        await journal.close();
        await writeJoinedPlaylists({
          stagingDir: piecesStage,
          playlistName: stagedPlan.playlistName,
          segmentType: stagedPlan.segmentType,
          renditions: renditions.map((dir, i) => ({ dir, independentSegments: i < stagedPlan.renditions.length })),
          segmentsOf: (dir) => journal.segments(dir),
        });
      }),
    );
    let verified;
    pieces.verify.push(
      await measure(async () => {
        verified = await verifyStaging(stagedPlan, { runner: execaRunner, ffprobePath: FFPROBE });
      }),
    );
    await rm(piecesNas, { recursive: true, force: true });
    await rm(piecesNas + '-state', { recursive: true, force: true });
    await mkdir(piecesNas, { recursive: true });
    pieces.commit.push(
      await measure(() =>
        commitOutputs(buildCommitSpec(stagedPlan, verified), {
          nasRoot: piecesNas,
          stateDir: piecesNas + '-state',
          concurrency: config.commit_concurrency,
        }),
      ),
    );
  }
  await rm(piecesStage, { recursive: true, force: true });
  await rm(piecesNas, { recursive: true, force: true });
  await rm(piecesNas + '-state', { recursive: true, force: true });
  for (let i = 0; i < 3; i++) await rm(path.join(out, `pieces-segments-${i}.jsonl`), { force: true });
}
const piece = Object.fromEntries(Object.entries(pieces).map(([k, v]) => [k, v.length ? med(v) : undefined]));

let seed;
let seedBare;
if (want('seed')) {
  log('seed approach: one ffmpeg per rendition, same encoder settings');
  seed = { wall: 0, cpu: 0 };
  for (const r of plan.renditions) {
    const dir = path.join(out, 'seed', r.name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const single = { ...plan, stagingDir: dir, masterDir: r.destPath, renditions: [{ ...r, variantDir: '.' }] };
    const m = await measure(() => run(FFMPEG, buildFfmpegArgs(single)));
    log(`  ${r.name}: ${show(m)}`);
    seed = add(seed, m);
  }
  if (bareRuns.length === 0) {
    log('one pass (the bare worker argv) for the seed comparison');
    seedBare = await runBare();
  } else seedBare = e2e.bare;
}

// ---------------------------------------------------------------- 3: tone mapping
let hdr;
let hdrBase;
if (want('hdr')) {
  log('worker end-to-end job (the same source tagged HDR10: tone mapping on)');
  hdr = await measure(() => runJob(jobFor(hdrSrc, 'hdr')));
  log(`  ${show(hdr)}`);
  if (jobRuns.length === 0) {
    log('worker end-to-end job (SDR), the reference for tone mapping');
    hdrBase = await measure(() => runJob(sdrJob));
  } else hdrBase = e2e.job;
}

// ---------------------------------------------------------------- 5: every language (audio renditions)
/** codec_type of each stream of a media file, in order (JSON: csv would list a TS stream once per program too). */
const probeStreams = async (file) =>
  JSON.parse(
    execFileSync(FFPROBE, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'json', file], {
      encoding: 'utf8',
    }),
  ).streams.map((s) => s.codec_type);
let langs;
if (want('languages')) {
  log(`every language: ${LANG_SECONDS} s 720p film, three audio renditions vs one, vs the argv before issue 11`);
  langs = await runLanguagesBench({
    run,
    measure,
    runJob,
    planFor,
    buildFfmpegArgs,
    buildFilterGraph,
    probeStreams,
    jobArgs,
    jobStagingDir,
    tempDir,
    ffmpeg: FFMPEG,
    nas,
    out,
    seconds: LANG_SECONDS,
    rounds: LANG_ROUNDS,
    audioRounds: LANG_AUDIO_ROUNDS,
    log,
    show,
  });
}

// ---------------------------------------------------------------- 4: commit vs cp -r
let commit;
if (want('commit')) {
  log(`commit throughput vs cp -r (${COMMIT_SECONDS} s of ladder output)`);
  commit = await runCommitBench({
    commitOutputs,
    out,
    rounds: COMMIT_ROUNDS,
    concurrency: config.commit_concurrency,
    seconds: COMMIT_SECONDS,
    segmentSec: COMMIT_SEGMENT,
    log,
  });
}

// ---------------------------------------------------------------- footprint (bench/footprint.mjs)
let footprint;
if (want('footprint')) {
  log('footprint: idle worker RSS/CPU against bare node + deps, next-job pickup latency');
  try {
    footprint = await runFootprintBench();
  } catch (err) {
    log(`footprint bench failed: ${err.message}`);
  }
}

// ---------------------------------------------------------------- priority (bench/priority-bench.mjs)
let priority;
if (want('priority')) {
  log('priority: a CPU-bound program beside a running job, ffmpeg at normal / low / idle priority');
  priority = await runPriorityBench();
}

// ---------------------------------------------------------------- idle (bench/idle-bench.mjs, issue 13)
let idle;
if (want('idle')) {
  log('idle: idle CPU at the default sync interval, wake-ups, RSS, CPU per sync');
  try {
    idle = await runIdleBench();
  } catch (err) {
    log(`idle bench failed: ${err.message}`);
  }
}

// ---------------------------------------------------------------- split and resume (bench/split-bench.mjs, issue 12)
let split;
if (want('split')) {
  log('split: whole job on one pinned worker, split over two, resume after a kill at 60 %, seed approach');
  try {
    split = await runSplitBench({ dist, out });
  } catch (err) {
    log(`split bench failed: ${err.message}`);
  }
}

// ---------------------------------------------------------------- report
const now = new Date().toISOString();
const cpus = os.cpus();
const machine = `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`;
let ffmpegVersion = '';
try {
  ffmpegVersion = execFileSync(FFMPEG, ['-version'], { encoding: 'utf8' }).split('\n')[0];
} catch {
  ffmpegVersion = 'unknown';
}
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) + 'x' : 'n/a');
const pct = (a, b) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
const pctOf = (r) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
const cpuNote = (a, b, f) => (a.cpu === undefined || b.cpu === undefined ? 'n/a' : f(a.cpu, b.cpu));
const ms = (x) => `${Math.round(x)} ms`;

// Previous figures, for the parts not run this time: results.md carries them as JSON in a trailing comment.
const resultsFile = path.join(here, 'results.md');
const DATA_START = '<!-- bench-data (read by bench/run.mjs for partial runs)';
let previous = {};
try {
  const text = readFileSync(resultsFile, 'utf8');
  const at = text.indexOf(DATA_START);
  if (at >= 0) previous = JSON.parse(text.slice(at + DATA_START.length, text.lastIndexOf('-->')));
} catch {
  previous = {};
}
const sections = { ...(previous.sections ?? {}) };
const stamp = { at: now, machine };
const put = (part, data) => (sections[part] = { ...stamp, ...data });

if (want('e2e')) {
  const { job, bare } = e2e;
  const sdrOver = overheads.filter((o) => o.job === sdrJob.job_id);
  const over = { ms: median(sdrOver.map((o) => o.ms)), ffmpegMs: median(sdrOver.map((o) => o.ffmpegMs)) };
  put('e2e', {
    rows: [
      [
        '2. end-to-end job vs bare ffmpeg',
        `${sec(job.wall)} s (its ffmpeg ${sec(over.ffmpegMs)} s) vs ${sec(bare.wall)} s`,
        `${pctOf(e2e.pairedWall)} (medians ${pct(job.wall, bare.wall)})`,
        e2e.pairedCpu === undefined ? 'n/a' : `${pctOf(e2e.pairedCpu)} (medians ${cpuNote(job, bare, pct)})`,
        '<= +5%',
      ],
      [
        '2b. job time outside ffmpeg (SDR job)',
        `${ms(over.ms)} beside ${sec(over.ffmpegMs)} s of ffmpeg`,
        pct(over.ms + over.ffmpegMs, over.ffmpegMs),
        '',
        '<= +5%',
      ],
    ],
    pieces: [
      ['validate + ffprobe of the source (before ffmpeg)', piece.probe],
      ['completeness check of the source (ffprobe, runs beside ffmpeg)', piece.complete],
      ['segment journal (fsync + record every segment) and VOD playlists from it', piece.journal],
      ['verification (playlists, segment sizes, SPS of each first segment)', piece.verify],
      ['commit of the job output to the NAS folder', piece.commit],
    ]
      .map(([what, m]) => [what, ms(m.wall), m.cpu === undefined ? 'n/a' : ms(m.cpu), ms(m.selfCpu)])
      .concat([
        [
          'Node CPU during a whole job vs the bare run (progress parsing, ...)',
          '',
          '',
          `${ms(job.selfCpu)} vs ${ms(bare.selfCpu)}`,
        ],
      ]),
    runs: jobRuns.map((j, i) => `${sec(j.wall)}/${sec(bareRuns[i].wall)}`).join(', '),
    rounds: ROUNDS,
  });
}
if (want('seed')) {
  put('seed', {
    rows: [
      [
        '1. seed (3 runs) vs worker one pass',
        `${sec(seed.wall)} s vs ${sec(seedBare.wall)} s`,
        ratio(seed.wall, seedBare.wall),
        cpuNote(seed, seedBare, ratio),
        '>= 1.5x faster',
      ],
    ],
  });
}
if (want('hdr')) {
  put('hdr', {
    rows: [
      [
        '3. HDR tone mapping (job, HDR10 vs SDR)',
        `${sec(hdr.wall)} s vs ${sec(hdrBase.wall)} s`,
        pct(hdr.wall, hdrBase.wall),
        cpuNote(hdr, hdrBase, pct),
        'report',
      ],
    ],
  });
}
if (want('commit')) {
  const c = commit.ms;
  const mb = commit.bytes / 2 ** 20;
  const mbps = (t) => `${(mb / (t / 1000)).toFixed(0)} MB/s`;
  const share = (t) => `${((c.cp / t) * 100).toFixed(0)}%`;
  // As for the job: the median of the per-round ratios (each commit against the cp -r of the same round).
  const paired = (k) => median(commit.all[k].map((t, i) => commit.all.cp[i] / t));
  const rows = [
    [
      '4. commit vs cp -r (throughput), same filesystem',
      `${mbps(c.commit)} vs ${mbps(c.cp)}`,
      `${(paired('commit') * 100).toFixed(0)}% (medians ${share(c.commit)})`,
      '',
      '>= 90%',
    ],
    [
      '4a. commit vs cp -r, copy path (other filesystem)',
      `${mbps(c.commitCopy)} vs ${mbps(c.cp)}`,
      `${(paired('commitCopy') * 100).toFixed(0)}% (medians ${share(c.commitCopy)})`,
      '',
      'report',
    ],
    [
      '4b. commit copy path vs cp -r + sync (same durability)',
      `${mbps(c.commitCopy)} vs ${mbps(c.cpSync)}`,
      `${((c.cpSync / c.commitCopy) * 100).toFixed(0)}%`,
      '',
      'report',
    ],
    ...(c.disk === undefined
      ? []
      : [
          [
            '4c. the disk writing as many bytes (dd O_DIRECT)',
            `${mbps(c.disk)} vs ${mbps(c.cp)}`,
            share(c.disk),
            '',
            'report',
          ],
        ]),
    [
      '4d. commit copy path: time spent flushing (fdatasync)',
      `${ms(commit.commitCopyFlushMs)} of ${ms(c.commitCopy)}`,
      `${((commit.commitCopyFlushMs / c.commitCopy) * 100).toFixed(0)}%`,
      '',
      'report',
    ],
  ];
  const variantRows = [
    ['cp -r (page cache only, not durable)', c.cp],
    ['cp -r + sync -f', c.cpSync],
    ['commitOutputs, same filesystem: hard-link all, fdatasync all, rename', c.commit],
    ['commitOutputs, copy path: copy all, fdatasync all, rename (kept)', c.commitCopy],
    ['copy + fdatasync file by file, 16 at once', c.perFileFlush],
    ['copy with O_EXCL (no write-back on close), then fdatasync all', c.exclThenFlush],
    ...(c.syncfs === undefined ? [] : [['copy all, then one syncfs (sync -f)', c.syncfs]]),
    ...(c.disk === undefined ? [] : [['(not a copy) dd of as many bytes, O_DIRECT', c.disk]]),
  ].map(([what, t]) => [what, ms(t), mbps(t), share(t)]);
  put('commit', {
    rows,
    variants: variantRows,
    tree: `${commit.segments} x 3 segments of ${COMMIT_SEGMENT} s (${COMMIT_SECONDS} s of the bench ladder) + 3 media playlists + master (${commit.files} files, ${mb.toFixed(0)} MB)`,
    rounds: COMMIT_ROUNDS,
  });
}
if (want('languages')) {
  const m = langs.medians;
  const perMin = (x) => (x / LANG_SECONDS) * 60;
  const cpuMin = (x) => (x.cpu === undefined ? 'n/a' : ms(perMin(x.cpu)));
  const row = (what, x) => [
    what,
    `${sec(x.wall)} s`,
    `${sec(x.fastest)} s`,
    x.cpu === undefined ? 'n/a' : ms(x.cpu),
    cpuMin(x),
  ];
  const saved = langs.savedCpuMs;
  put('languages', {
    rows: [
      [
        '5. 3 audio renditions vs 1 (worker jobs)',
        `${sec(m.three.wall)} s vs ${sec(m.one.wall)} s`,
        `${pctOf(langs.pairedWall.jobs)} (medians ${pct(m.three.wall, m.one.wall)})`,
        `${pctOf(langs.pairedCpu.jobs)} (medians ${cpuNote(m.three, m.one, pct)})`,
        '<= +10%',
      ],
      [
        '5a. 3 audio renditions vs the argv before (bare)',
        `${sec(m.newThree.wall)} s vs ${sec(m.today.wall)} s`,
        `${pctOf(langs.pairedWall.bare)} (medians ${pct(m.newThree.wall, m.today.wall)})`,
        `${pctOf(langs.pairedCpu.bare)} (medians ${cpuNote(m.newThree, m.today, pct)})`,
        '<= +10%',
      ],
      [
        '5b. CPU saved: each audio track encoded once',
        `${ms(perMin(saved))} per minute of film`,
        '',
        `${ratio(m.audio_today3.cpu, m.audio_today1.cpu)} (audio: 3 encodes ${ms(m.audio_today3.cpu)} vs 1 ${ms(m.audio_today1.cpu)})`,
        'report',
      ],
    ],
    table: [
      row('worker job, three-track film: 3 rungs + 3 audio renditions', m.three),
      row('worker job, one-track film: 3 rungs + 1 audio rendition', m.one),
      row("bare ffmpeg, the three-track job's argv", m.newThree),
      row('bare ffmpeg, the argv before issue 11 (default track muxed per rung)', m.today),
      row('audio half, before: default track encoded once per rung (3 AAC)', m.audio_today3),
      row('audio half, before, one rung only (1 AAC)', m.audio_today1),
      row('audio half, now: 3 tracks, each encoded once (3 AAC)', m.audio_new3),
      row('audio half, now: the default track once (1 AAC)', m.audio_new1),
    ],
    savedPerEncodeMs: saved / 2,
    // Raw medians (ms of child CPU) for the estimate below the table.
    cpu: {
      one: m.one.cpu,
      today: m.today.cpu,
      audioToday3: m.audio_today3.cpu,
      audioNew3: m.audio_new3.cpu,
      audioNew1: m.audio_new1.cpu,
      oneFastestWall: m.one.fastest,
    },
    savedPerMinuteMs: perMin(saved),
    runs: langs.runs.three.map((t, i) => `${sec(t.wall)}/${sec(langs.runs.one[i].wall)}`).join(', '),
    seconds: LANG_SECONDS,
    rounds: LANG_ROUNDS,
    audioRounds: LANG_AUDIO_ROUNDS,
    ladder: LANG_LADDER.map(([r, b]) => `${r} ${b}`).join(', '),
    load:
      `1-minute load average after each full run: median ${langs.load.median.toFixed(1)}, max ` +
      `${langs.load.max.toFixed(1)} (${os.cpus().length} cores)${langs.nice ? `; the bench ran at nice ${langs.nice}` : ''}`,
  });
}
if (want('footprint') && footprint) put('footprint', { data: footprint });
if (want('priority') && priority) put('priority', { data: priority });
if (want('idle') && idle) put('idle', { data: idle });
if (want('split') && split) {
  const x = (a, b) => (a / b).toFixed(2) + 'x';
  put('split', {
    data: split,
    rows: [
      [
        '6. split over 2 workers (1 core each) vs whole on 1',
        `${sec(split.split.ms)} s vs ${sec(split.whole.ms)} s`,
        `${(split.speedup ?? split.whole.ms / split.split.ms).toFixed(2)}x sooner${split.rounds ? ` (median of ${split.rounds.length})` : ''}`,
        `${(split.cpuRatio ?? split.split.cpuMs / split.whole.cpuMs).toFixed(2)}x the CPU`,
        '>= 1.7x sooner',
      ],
      [
        '6a. resume after a kill at 60% vs whole run',
        `${sec(split.resume.ms)} s vs ${sec(split.whole.ms)} s`,
        `${((split.resumeShare ?? split.resume.ms / split.whole.ms) * 100).toFixed(0)}%${split.rounds ? ` (median of ${split.rounds.length})` : ''}`,
        `${((split.resumeCpuShare ?? split.resume.cpuMs / split.whole.cpuMs) * 100).toFixed(0)}%`,
        '<= 45%',
      ],
      [
        '6b. seed (1 ffmpeg per rendition, 1 core) vs whole job',
        `${sec(split.seed.ms)} s vs ${sec(split.whole.ms)} s`,
        x(split.seed.ms, split.whole.ms),
        x(split.seed.cpuMs, split.whole.cpuMs),
        'report',
      ],
    ],
  });
}

function mdTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}
const when = (s) => (s ? s.at.slice(0, 16).replace('T', ' ') : '');
const mainRows = ['seed', 'e2e', 'hdr', 'commit', 'languages', 'split'].flatMap((part) =>
  (sections[part]?.rows ?? []).map((r) => [...r, when(sections[part])]),
);
mainRows.sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }));
const table = mdTable(['measure', 'figures', 'wall ratio', 'CPU ratio', 'target', 'measured (UTC)'], mainRows);
const piecesTable = sections.e2e
  ? mdTable(['job step outside ffmpeg (median of 3)', 'wall', 'child CPU', 'Node CPU'], sections.e2e.pieces)
  : 'Not measured yet (BENCH_ONLY=e2e).';
const lang = sections.languages;
const langTable = lang
  ? mdTable(['every language: run (median)', 'wall', 'fastest wall', 'child CPU', 'CPU per minute of film'], lang.table)
  : 'Not measured yet (BENCH_ONLY=languages).';
const langIntro = lang
  ? `Every language (rows 5*, bench/languages-bench.mjs, issue 11): a generated ${lang.seconds} s 1280x720 25 fps H.264 film
with three audio tracks (English 5.1 AC-3 default, French stereo AAC, English commentary stereo AAC; tone plus
noise each), and the same file with its default track only (copied, identical bits). Ladder ${lang.ladder},
libx264 preset ${PRESET}, 2 s segments, MPEG-TS, stereo AAC 128k. ${lang.rounds} rounds of two pairs (the two jobs,
then the two bare commands), each pair back to back with the first alternating; ratios are medians of the
per-round ratios, with the ratio of the medians in brackets. Job three/one wall per round (s): ${lang.runs}.
Audio halves: ${lang.audioRounds} rounds of the four in rotating order. ${lang.load}.`
  : 'Every language (rows 5*): not measured yet (BENCH_ONLY=languages).';
// The audio halves are short, steady runs: what they add to a whole run is a firmer estimate of the CPU ratios
// than whole runs of ~15 s CPU whose run-to-run spread on a busy machine is as large as the difference sought.
const langEstimate = lang?.cpu
  ? `Estimate from the audio halves: the two extra tracks cost ${ms(lang.cpu.audioNew3 - lang.cpu.audioNew1)} of CPU ` +
    `(audio now, 3 tracks minus 1), ${pct(lang.cpu.one + lang.cpu.audioNew3 - lang.cpu.audioNew1, lang.cpu.one)} ` +
    `on the one-track job's ${sec(lang.cpu.one)} s (row 5's CPU ratio); three renditions against the old layout's ` +
    `three encodes of one track: ${ms(lang.cpu.audioNew3 - lang.cpu.audioToday3)}, ` +
    `${pct(lang.cpu.today + lang.cpu.audioNew3 - lang.cpu.audioToday3, lang.cpu.today)} on its ` +
    `${sec(lang.cpu.today)} s (row 5a). In wall time the extra tracks add at most their CPU (if all of it ran on ` +
    `the critical path, none beside x264's threads): ${pct(lang.cpu.oneFastestWall + lang.cpu.audioNew3 - lang.cpu.audioNew1, lang.cpu.oneFastestWall)} ` +
    `of the fastest one-track job (${sec(lang.cpu.oneFastestWall)} s) on these 2 cores (not measured on more ` +
    `cores, where x264 would finish sooner and the same audio work would weigh more if it is on the critical path).`
  : '';
const commitTable = sections.commit
  ? mdTable(['durable copy strategy (median)', 'time', 'throughput', 'vs cp -r'], sections.commit.variants)
  : 'Not measured yet (BENCH_ONLY=commit).';
const fp = sections.footprint?.data;
const footprintTable = fp
  ? mdTable(
      ['footprint', 'worker', 'bare node + deps', 'ratio', 'target'],
      [
        [
          'idle RSS',
          `${fp.idleRssMb.toFixed(1)} MB (peak ${fp.idlePeakRssMb.toFixed(1)})`,
          `${fp.floorRssMb.toFixed(1)} MB`,
          ratio(fp.idleRssMb, fp.floorRssMb),
          '<= 80 MB',
        ],
        ['idle CPU', `${fp.idleCpuPercent.toFixed(2)}% of a core`, `${fp.floorCpuPercent.toFixed(2)}%`, '', '<= 1%'],
        ['next job picked up after a finalize', `${fp.pickupMs} ms (jobs ${fp.jobs.join(', ')})`, '', '', '< 1000 ms'],
      ],
    )
  : 'Footprint bench not run yet, or it failed (see the bench log).';
const idleData = sections.idle?.data;
const idleTable = idleData
  ? mdTable(
      ['idle worker (issue 13)', 'idle CPU, % of a core', 'wake-ups/s', 'RSS', 'CPU per sync', 'of which kernel'],
      idleData.results.map((r) => [
        r.name,
        r.idleCpuPercent.toFixed(3) + '%',
        r.idleWakeupsPerSec.toFixed(1),
        `${r.idleRssMb.toFixed(1)} MB`,
        `${r.perSyncMs.toFixed(2)} ms`,
        `${r.perSyncKernelMs.toFixed(2)} ms`,
      ]),
    )
  : 'Idle bench not run yet, or it failed (see the bench log).';
const idleRatios = idleData
  ? idleData.results
      .slice(1)
      .map(
        (r) =>
          `as built / ${r.name}: idle CPU ${ratio(idleData.results[0].idleCpuPercent, r.idleCpuPercent)}, ` +
          `wake-ups ${ratio(idleData.results[0].idleWakeupsPerSec, r.idleWakeupsPerSec)}, ` +
          `CPU per sync ${ratio(idleData.results[0].perSyncMs, r.perSyncMs)}.`,
      )
      .join(' ')
  : '';
console.log(table);
console.log();
console.log(piecesTable);
console.log();
console.log(commitTable);
console.log();
console.log(langTable);
console.log();
console.log(footprintTable);
const pr = sections.priority?.data;
const prioTable = pr ? priorityTable(pr) : 'Not measured yet (BENCH_ONLY=priority).';
console.log();
console.log(prioTable);
console.log();
console.log(idleTable);
const sp = sections.split?.data;
const splitSection = sp
  ? `${splitTable(sp)}\n\n${splitDetails(sp)}`
  : 'Split bench not run yet, or it failed (BENCH_ONLY=split; see the bench log).';
console.log();
console.log(splitSection);

const machines = [...new Set(Object.values(sections).map((s) => s.machine))];
const md = `# Benchmark results

Last run: ${now} — \`npm run bench\` (bench/run.mjs, then bench/footprint.mjs), parts: ${[...ONLY].join(', ')}
(each row says when it was measured; \`BENCH_ONLY=part,...\` re-measures some parts and keeps the others).

Machine: ${machines.join('; ')}
ffmpeg: ${ffmpegVersion}

Source: generated ${SECONDS} s 3840x2160 25 fps 10-bit HEVC (x265 ultrafast) with AAC audio; the HDR run uses the same
stream with its colour description rewritten to HDR10 (PQ, BT.2020), so only tone mapping differs.
Ladder: 1080p 5M, 720p 2500k, 480p 1M, libx264 preset ${PRESET}, 2 s segments, MPEG-TS.
Job and bare command: ${sections.e2e?.rounds ?? ROUNDS} rounds, each a job and a bare run back to back (the order alternates); the
ratio is the median of the per-round ratios (the job against the bare run beside it, under the same load), with
the ratio of the two medians in brackets. The bare run is the job's own argv (checked identical, \`-progress pipe:1\`
and thread settings included). CPU = user + system time of all child processes (ffmpeg, ffprobe); Node CPU = the
bench process itself (the worker code runs in it).${sections.e2e?.runs ? ` Job/bare wall per round (s): ${sections.e2e.runs}.` : ''}
Commit: ${sections.commit?.tree ?? '(not measured)'}, concurrency ${config.commit_concurrency}, median of
${sections.commit?.rounds ?? COMMIT_ROUNDS} rounds of every variant in rotating order; every run writes the same files to the same empty folder,
with the source warm in the page cache and nothing dirty beforehand.

${table}

Where the job's time outside ffmpeg goes:

${piecesTable}

Commit: durable copy strategies on this disk, same tree, same rounds (see the notes):

${commitTable}

${langIntro}

${langTable}

${langEstimate}

Footprint (bench/footprint.mjs, ${fp?.idleSeconds ?? '?'} s idle, sync every 10 s, health server up):

${footprintTable}

Priority (bench/priority-bench.mjs${pr ? `, ${when(sections.priority)}: one busy loop per core for ${pr.seconds} s, ${pr.rounds} rounds, medians; load average ${pr.loadavg.toFixed(1)} on ${pr.cores} cores` : ''}):
a CPU-bound program started beside a running libx264 job keeps this share of its solo speed:

${prioTable}

Idle (bench/idle-bench.mjs, issue 13 "invisible when idle"; targets: at most 0.3% of one core at the default sync
interval, at most 3 ms of CPU per sync), measured ${when(sections.idle)} UTC${idleData?.loadAverage ? `, 1-minute load average ${idleData.loadAverage.toFixed(1)} on the 2 cores (other sessions' work)` : ''}:
registered workers against the dev orchestrator, health server up, nobody scraping /metrics, log level info,
${idleData?.settleSeconds ?? '?'} s settle after registration then ${idleData?.windowSeconds ?? '?'} s measured, all variants side by side. Idle CPU and
wake-ups (context switches of all threads) of a worker at sync_interval 10 s; CPU per sync from a second worker of
the same build syncing every ${idleData?.syncFastMs ?? '?'} ms, less the idle worker's CPU over the same time, per sync. CPU from
/proc (all threads, GC included), so the measuring adds nothing to the measured process. "event-loop monitor at
10 ms" is this build with prom-client's default resolution put back by a preload (bench/idle-precision.mjs);
"before" is the commit before issue 13 (BENCH_IDLE_BEFORE_DIST).

${idleTable}

${idleRatios}

Split and resume (bench/split-bench.mjs, issue 12${sp ? `, ${when(sections.split)} UTC` : ''}): a generated ${sp?.seconds ?? '?'} s 1920x1080 25 fps H.264
film (x264 ultrafast, stereo AAC) to ${sp?.ladder ?? '?'} (preset ${sp?.preset ?? '?'}, ${sp?.segmentTime ?? '?'} s segments, MPEG-TS) through
the built worker (\`dist/main.js start\`, child processes) and the dev orchestrator, every worker and ffmpeg pinned
with \`taskset -c N\` (its ffmpeg inherits the affinity: checked while it runs). Wall time from the enqueue to
COMPLETED (b: the parent's, parts and stitch included; c: from the retry, after the worker and its ffmpeg were
SIGKILLed at 57 % and the worker started again). CPU: the workers and their children from the enqueue on. a, b and
c run ${sp?.rounds?.length ?? 1} time(s), the order rotating per round; each ratio is the median of the per-round
ratios (b and c against the a of the same round), the wall and CPU shown are the median run's; d runs once. The
machine is shared: the load average beside each row is that of its median run.

${splitSection}

Notes:
- Row 2 (job vs bare ffmpeg) rose from +3.3% (2026-12-06 06:53) to about +16%, and row 2b from 278 ms to about
  600 ms, with no change of the bench: the pieces table shows where. Its SDR source is a 10-bit HEVC file without
  colour tags, which since 09:08 that day (HDR detection on ffprobe 9.0, src/transcode/ffprobe-first-frame.ts)
  costs a second ffprobe that decodes the first 4K frame (~270 ms here) before ffmpeg starts, so that an untagged
  HDR10 film is not published washed out. Tagged sources and 8-bit ones do not pay it. The resume bookkeeping of
  issue 12 (segment journal with an fsync per segment, VOD playlists written from it) is its own row in the pieces
  table (~25 ms).
- Split (rows 6*): the dev orchestrator runs inside the bench process, which no taskset pins. With syncs every
  200 ms it took ~10 % of a core at nice 0 from whichever worker's core it ran on (ffmpeg runs at nice 10), and that
  worker's parts ran ~30 % slower (5 rounds: 1.27-1.56x). Syncs every 1 s (a worker syncs at once after each
  finalize anyway) and polls every 500 ms removed it. The host's speed also drifts by tens of percent over minutes
  (the whole job took 51.9 s to 74.9 s the same day), hence rounds with ratios taken within a round.
- Every language (rows 5*): "1 audio rendition" is the new worker on the same film with only its default track
  (the English 5.1, the track the worker before issue 11 kept): same track, same downmix, same video, so rows 5
  differ only by the two extra tracks (demux, decode, downmix, encode, segments, playlists). The argv before issue
  11 (row 5a) is the worker's own argv rebuilt with the old audio layout (\`-map [vN] -map 0:a:0\` and \`-c:a:N aac -ac:a:N 2\`
  per rung, var_stream_map v:N,a:N): the source's default track is decoded once but resampled, encoded and muxed
  once per rung. The audio halves are the same argvs without the picture (same input, audio chains, encoders and
  muxer): the CPU saved (row 5b) is the old layout with 3 rungs minus the same with 1 rung, paired by round, i.e. two
  AAC encodes of the track (${lang ? ms(lang.savedPerEncodeMs) : '?'} each for ${lang?.seconds ?? '?'} s of film); a 5-rung ladder saves twice as much,
  and a three-track film made the old way (every track muxed into every rung) would have needed 9 encodes for 3
  rungs instead of 3. The new audio chain (float downmix with fixed BS.775 coefficients and a limiter, then
  aresample to 48 kHz) costs as much per encode as the old \`-ac 2\`, within the noise (the two "once" rows).
- Rows 5 and 5a swing with the load other sessions put on the 2 cores (the load average is given above the
  table): two earlier complete runs on 2026-12-06 (load average 6 to 12) gave row 5 +15.3% and +4.1% wall (paired
  medians), +6.5% and +2.8% CPU, and row 5a -6.2% and -1.0% wall, +0.7% and -3.4% CPU. One whole run is ~15 s of
  CPU and its spread from run to run is as large as the difference sought, so the CPU ratios and above all the
  estimate from the audio halves (short, steady runs) are the firmer figures; the wall ratio needs a quiet machine.
- GPU figures (NVDEC decode for software ladders, the probe on an NVIDIA card without NVENC) come from a one-off
  device check on an H200 machine, not from this bench: bench/gpu-results.md.
- "one pass" is the worker's own ffmpeg argv; "one ffmpeg per rendition" is the same builder with one rendition per run
  (each run decodes the 4K source again), i.e. the seed's approach with identical encoder settings.
- The job time includes validation, ffprobe of the source, the completeness check (a second short ffprobe that runs
  beside ffmpeg and stops it if the source is truncated), verification (playlists parsed with hls-parser, every
  segment's size, the durations against the source, the SPS of each rendition's first segment read in-process for
  RESOLUTION and CODECS), the master playlist rewrite and the commit to the (local) NAS folder.
- Before: the job ran 5 ffprobe processes outside ffmpeg (two of the source, one per rendition), ~70 ms of process
  start-up each on this machine (\`ffprobe -version\` alone takes 65 ms): +6.5% wall, 0.5 s beside 10.5 s of ffmpeg.
  Now one runs before ffmpeg, one beside it, none after it.
- Commit before: 60% of \`cp -r\` (1350 vs 2255 MB/s) on the previous tree (72 equal files of 2 MB). Since: the
  master is copied and flushed with the other files, each parent folder is synced once after all the swaps
  instead of after each (a folder sync is a journal commit), copyFile tries a reflink first; the tree now models
  a real output. None of this moves the ratio much: it is set by the disk (rows 4c, 4d).
- Wall times on a shared machine swing by tens of percent between runs (other processes compete for the 2 cores);
  the paired ratio and the CPU ratio are the steadier figures, and row 2b isolates what the job adds around its
  ffmpeg run from that noise.
- Row 4 vs row 4a: the bench's staging and NAS folders share one filesystem (as for a worker on the NAS host, or
  temp_dir on the NAS volume), where the commit hard-links each staged file into the hidden sibling instead of
  copying it (what \`mv\` does), then flushes and renames as always; the source tree is already on disk (synced
  before each run), as a job's older segments are by the time it ends. Row 4a forces the copy path, which a
  worker takes when staging and the NAS are different filesystems (a network NAS, a tmpfs temp_dir).
- Rows 4a-4d: the commit copies into a hidden sibling of each destination, flushes every file (fdatasync) and folder,
  then renames into place, so that after it returns a power cut cannot leave truncated or missing files; \`cp -r\`
  only fills the page cache and its data may still be lost. A durable copy cannot finish before the disk has
  stored the bytes, so its rate is bounded by the disk's write rate, which \`cp -r\` never pays. Here the disk
  writes well below \`cp -r\`'s page-cache rate: row 4c (dd, one O_DIRECT stream from memory, no copy at all),
  \`cp -r\` + \`sync\`, and every durable strategy in the table stay far from 90% of \`cp -r\`; the commit is the
  fastest of them or within the noise of the fastest, faster than dd (its write-back runs for several files at
  once, during the copies), and faster than \`cp -r\` + \`sync\`, which gives the same guarantee. The 90% target
  needs a disk that stores data nearly as fast as memory copies it; with a real flush it is out of reach here.
- Why the commit's flush (row 4d) is short: libuv's copyFile truncates the new file before copying, and ext4 and
  XFS start writing a truncated-then-rewritten file back when it is closed (NFS writes back on close anyway), so
  the write-back runs during the copies and the final fdatasync mostly waits for what is in flight. Copying with
  O_EXCL skips that truncate: the copies then run at page-cache speed (faster than \`cp -r\`), but all the
  write-back is left for the flush and the whole is slower (table above). The gap to \`cp -r\` is the disk.
- Strategies (table above): copy everything, then fdatasync everything, is the fastest portable one (kept). One
  syncfs (\`sync -f\`) is Linux only, flushes other writers' data on the same filesystem too (which is why
  \`cp -r\` + \`sync -f\` can take much longer on a shared disk), and on SMB does not reach the server; copy +
  fdatasync file by file pays a disk round trip per file. Tried and dropped earlier (same tree, alternating,
  medians): flushing each file in the background while the next ones copy (the flushes hold libuv's 4 threads
  and stall the copies), 2 or 8 copies at once instead of 4 (within the noise). On a network NAS the flushes are
  server round trips and run side by side (up to libuv's thread pool, UV_THREADPOOL_SIZE, default 4: a deployment
  on a high-latency NAS can raise it in the environment); copyFile asks for a reflink first (COPYFILE_FICLONE),
  so on Btrfs/XFS with staging on the same filesystem no data is copied at all.
- The commit tree models a real job output (segment sizes from the ladder's bitrates, the job default of 6 s
  segments, 3 renditions, ~310 MB for 5 minutes of content). Over today's runs (this tree, the previous one of 72
  x 2 MB, and 900 s of content, 1 GB) the copy path reached 52-78% of \`cp -r\`, highest in calm moments, and the
  flush stayed 6-10% of it.
`;
await writeFile(resultsFile, `${md}\n${DATA_START}\n${JSON.stringify({ sections })}\n-->\n`);
log('wrote bench/results.md');
