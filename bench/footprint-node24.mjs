// Issue 14: the idle worker's footprint under the images' Node 24, measured inside the cpu image, per V8 flag set.
// Runs one container per flag set, all at once (staggered starts), each a worker registered with a dev orchestrator on
// the host (--network host), syncing every 10 s with its health server up. After registration it lets start-up settle
// (V8's memory reducer gives the start-up young generation back 30-60 s in), then samples RSS every second and the
// CPU ticks over the measuring window from the host's /proc (the container's node is the child of tini).
//
//   node bench/footprint-node24.mjs [IMAGE]        (root, podman; ../shared/tools/oci-run.sh)
//   FP_ONLY=default,semi1 FP_SETTLE=75 FP_IDLE=60 node bench/footprint-node24.mjs
//
// V8 flags outside Node's NODE_OPTIONS allow-list (--single-threaded-gc, --lite-mode, --optimize-for-size,
// --v8-pool-size is allowed) are passed as node arguments through an overridden entrypoint, exactly as an image's
// ENTRYPOINT would have to pass them.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const OCI_RUN = path.resolve(HERE, '../../shared/tools/oci-run.sh');
const IMAGE = process.argv[2] ?? 'localhost/transcode-worker:cpu-ci';
const SETTLE = Number(process.env.FP_SETTLE ?? 75);
const IDLE = Number(process.env.FP_IDLE ?? 60);
const ORCH_PORT = Number(process.env.FP_ORCH_PORT ?? 18480);
const ORCH = `http://127.0.0.1:${ORCH_PORT}`;
const CLK_TCK = 100;
const DEPS = [
  'fastify',
  'axios',
  'execa',
  'systeminformation',
  'pino',
  'convict',
  'prom-client',
  '@sinclair/typebox',
  'ajv',
  'yaml',
  'exponential-backoff',
  'commander',
];
const FLOOR_SRC = `await Promise.all(${JSON.stringify(DEPS)}.map((m)=>import(m)));setInterval(()=>{},1e9)`;

/** name -> { opts: NODE_OPTIONS, args: node arguments (entrypoint override), env, floor, diag } */
const SETS = {
  default: {},
  // The shipped image's own entrypoint with its lite mode turned off (docker/entrypoint.sh): V8's defaults.
  nolite: { env: { TRANSCODE_WORKER_LITE_MODE: '0' } },
  semi1: { opts: '--max-semi-space-size=1' },
  semi2: { opts: '--max-semi-space-size=2' },
  old64: { opts: '--max-old-space-size=64' },
  stgc: { args: ['--single-threaded-gc'] },
  pool1: { opts: '--v8-pool-size=1', env: { UV_THREADPOOL_SIZE: '1' } },
  jitless: { opts: '--jitless' },
  lite: { args: ['--lite-mode'] },
  ofs: { args: ['--optimize-for-size'] },
  semi1_stgc: { opts: '--max-semi-space-size=1', args: ['--single-threaded-gc'] },
  semi1_ofs: { opts: '--max-semi-space-size=1', args: ['--optimize-for-size'] },
  semi1_old64: { opts: '--max-semi-space-size=1 --max-old-space-size=64' },
  floor: { floor: true },
  floor_semi1: { floor: true, opts: '--max-semi-space-size=1' },
  diag_default: { diag: true },
  diag_semi1: { diag: true, opts: '--max-semi-space-size=1' },
  nox_default: { patch: true },
  nox_semi1: { patch: true, opts: '--max-semi-space-size=1' },
  nox_lite: { patch: true, args: ['--lite-mode'] },
  nox_ofs: { patch: true, args: ['--optimize-for-size'] },
  nox_semi1_ofs: { patch: true, opts: '--max-semi-space-size=1', args: ['--optimize-for-size'] },
};

async function procStats(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const num = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return {
    rss: num('VmRSS'),
    anon: num('RssAnon'),
    file: num('RssFile'),
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuSec: (Number(stat[11]) + Number(stat[12])) / CLK_TCK,
    // + cutime/cstime: the children it has waited for (the shells systeminformation spawns count against the worker)
    cpuAllSec: (Number(stat[11]) + Number(stat[12]) + Number(stat[13]) + Number(stat[14])) / CLK_TCK,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function nodePid(container) {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('podman', ['inspect', '-f', '{{.State.Pid}}', container]).catch(() => ({
      stdout: '',
    }));
    const tini = stdout.trim();
    if (tini && tini !== '0') {
      const kids = await readFile(`/proc/${tini}/task/${tini}/children`, 'utf8').catch(() => '');
      const pid = kids.trim().split(/\s+/)[0];
      if (pid) return Number(pid);
    }
    await sleep(200);
  }
  throw new Error(`${container}: no node process`);
}

async function registered(id) {
  const res = await fetch(`${ORCH}/api/v1/workers`).catch(() => undefined);
  if (!res?.ok) return false;
  const body = await res.json();
  return body.workers.some((w) => w.worker_id === id);
}

function nodeOptions(set) {
  const parts = [
    set.opts,
    set.diag && '-r /diag/footprint-diag.cjs',
    set.patch && '-r /diag/footprint-no-execsync.cjs',
  ];
  const v = parts.filter(Boolean).join(' ');
  return v ? { NODE_OPTIONS: v } : {};
}

async function measureOne(name, set, index) {
  await sleep(index * 4000); // stagger the capability probes' test encodes
  const id = `fp-${name}`;
  const env = {
    WORKER_ORCHESTRATOR_URL: ORCH,
    WORKER_ID: id,
    WORKER_HTTP_HOST: '127.0.0.1',
    WORKER_HTTP_PORT: String(19500 + index),
    WORKER_SYNC_INTERVAL: '10s',
    WORKER_LOG_LEVEL: 'warn',
    ...nodeOptions(set),
    ...set.env,
  };
  const podArgs = ['--host-net', '-d', '--name', id];
  for (const [k, v] of Object.entries(env)) podArgs.push('-e', `${k}=${v}`);
  if (set.diag || set.patch) podArgs.push('-v', `${HERE}:/diag:ro`);
  const nodeArgs = set.args ?? [];
  if (set.floor) {
    podArgs.push(
      '--entrypoint',
      '/usr/bin/tini',
      IMAGE,
      '--',
      'node',
      ...nodeArgs,
      '--input-type=module',
      '-e',
      FLOOR_SRC,
    );
  } else if (nodeArgs.length) {
    podArgs.push('--entrypoint', '/usr/bin/tini', IMAGE, '--', 'node', ...nodeArgs, '/app/dist/main.js', 'start');
  } else {
    podArgs.push(IMAGE);
  }
  await run('podman', ['rm', '-f', id]).catch(() => undefined);
  await run('bash', [OCI_RUN, ...podArgs]);
  const pid = await nodePid(id);
  let peak = 0;
  const peakTimer = setInterval(
    () =>
      procStats(pid).then(
        (s) => (peak = Math.max(peak, s.rss)),
        () => undefined,
      ),
    250,
  );
  if (!set.floor) {
    const end = Date.now() + 300_000;
    while (!(await registered(id))) {
      if (Date.now() > end) throw new Error(`${id}: not registered`);
      await sleep(250);
    }
  }
  await sleep(SETTLE * 1000);
  const a = await procStats(pid);
  const t0 = performance.now();
  const rss = [];
  for (let i = 0; i < IDLE; i++) {
    await sleep(1000);
    rss.push((await procStats(pid)).rss);
  }
  const b = await procStats(pid);
  clearInterval(peakTimer);
  const wall = (performance.now() - t0) / 1000;
  const cpuMs = (b.cpuSec - a.cpuSec) * 1000;
  const cpuAllMs = (b.cpuAllSec - a.cpuAllSec) * 1000;
  let diag = '';
  if (set.diag) {
    const { stdout, stderr } = await run('podman', ['logs', id]);
    diag = (stdout + stderr)
      .split('\n')
      .filter((l) => l.startsWith('FPDIAG'))
      .slice(-1)[0];
  }
  await run('podman', ['rm', '-f', id]).catch(() => undefined);
  return {
    name,
    flags: [
      set.patch && '(no execSync)',
      set.opts,
      ...(set.args ?? []),
      ...Object.entries(set.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ]
      .filter(Boolean)
      .join(' '),
    rssEnd: b.rss,
    rssMin: Math.min(...rss),
    rssMax: Math.max(...rss),
    anon: b.anon,
    file: b.file,
    threads: b.threads,
    startupPeak: peak,
    cpuPct: (cpuMs / 1000 / wall) * 100,
    cpuMsPerSync: set.floor ? NaN : cpuMs / (wall / 10),
    cpuAllPct: (cpuAllMs / 1000 / wall) * 100,
    diag,
  };
}

async function main() {
  const only = process.env.FP_ONLY?.split(',');
  const entries = Object.entries(SETS).filter(([n]) => !only || only.includes(n));
  const devRoot = path.resolve(HERE, '..');
  const orch = spawn(
    'bash',
    [
      OCI_RUN,
      '--host-net',
      '--name',
      'fp-orch',
      IMAGE,
      'dev-orchestrator',
      '--port',
      String(ORCH_PORT),
      '--log-level',
      'warn',
    ],
    { stdio: 'ignore', cwd: devRoot },
  );
  try {
    for (
      let i = 0;
      !(await fetch(`${ORCH}/api/v1/workers`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    ) {
      if (i > 200) throw new Error('dev orchestrator did not start');
      await sleep(250);
    }
    const { stdout: ver } = await run('bash', [OCI_RUN, '--entrypoint', 'node', IMAGE, '--version']);
    console.log(`image ${IMAGE}, node ${ver.trim()}; settle ${SETTLE} s after registration, then ${IDLE} s measured`);
    const results = await Promise.allSettled(entries.map(([n, s], i) => measureOne(n, s, i)));
    const rows = {};
    for (const r of results) {
      if (r.status === 'rejected') {
        console.error(r.reason);
        continue;
      }
      const x = r.value;
      rows[x.name] = {
        flags: x.flags || '(none)',
        'RSS MB': x.rssEnd.toFixed(1),
        'min-max': `${x.rssMin.toFixed(0)}-${x.rssMax.toFixed(0)}`,
        anon: x.anon.toFixed(1),
        file: x.file.toFixed(1),
        thr: x.threads,
        'peak MB': x.startupPeak.toFixed(0),
        'CPU %': x.cpuPct.toFixed(3),
        'CPU % +kids': x.cpuAllPct.toFixed(3),
        'ms/sync': Number.isNaN(x.cpuMsPerSync) ? '-' : x.cpuMsPerSync.toFixed(1),
      };
      if (x.diag) console.log(`${x.name}: ${x.diag}`);
    }
    console.table(rows);
    console.log(`JSON ${JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason))))}`);
  } finally {
    await run('podman', ['rm', '-f', 'fp-orch']).catch(() => undefined);
    orch.kill();
  }
}

await main();
