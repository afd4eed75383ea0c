// The `demo` compose profile's driver: makes a short sample film on the demo NAS, hands a job for it to the dev
// orchestrator, follows the job to its end and checks the HLS output it left on the NAS. Exit 0 only when the
// master playlist and every playlist and segment it references exist.
//
// It runs in the worker image (node + ffmpeg), so the demo needs nothing but the images.
// Environment: DEMO_ORCHESTRATOR_URL (default http://dev-orchestrator:8080), DEMO_NAS (default /data/nas),
// DEMO_JOB (default /demo/job.json), DEMO_TIMEOUT_S (default 300).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const orchestrator = (process.env.DEMO_ORCHESTRATOR_URL || 'http://dev-orchestrator:8080').replace(/\/+$/, '');
const nas = process.env.DEMO_NAS || '/data/nas';
const jobFile = process.env.DEMO_JOB || '/demo/job.json';
const deadline = Date.now() + Number(process.env.DEMO_TIMEOUT_S || 300) * 1000;

const log = (msg) => console.log(`[demo] ${msg}`);
const fail = (msg) => {
  console.error(`[demo] FAILED: ${msg}`);
  process.exit(1);
};
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls fn until it returns a value other than undefined, or fails with `what` at the deadline. */
async function waitFor(what, fn, everyMs = 1000) {
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await pause(everyMs);
  }
}

async function request(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

/** The worker's built code: /app/dist in the image, ./dist beside a checkout (CI runs this script from the repo). */
function appDir() {
  const candidates = [process.env.DEMO_APP_DIR, '/app/dist', path.resolve(import.meta.dirname ?? '.', '../../dist')];
  const found = candidates.find((d) => d && existsSync(path.join(d, 'media', 'sample-source.js')));
  if (!found) fail(`cannot find the worker's dist folder (tried ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

async function makeSample(job) {
  const file = path.join(nas, job.input.source_url);
  if (existsSync(file)) return log(`sample already there: ${file}`);
  mkdirSync(path.dirname(file), { recursive: true });
  log(`making a 6 s sample film: ${file}`);
  // testsrc2 + a sine tone: a real H.264/AAC MP4 made on the spot, no download.
  const { sampleSourceArgs } = await import(pathToFileURL(path.join(appDir(), 'media', 'sample-source.js')).href);
  const r = spawnSync('ffmpeg', sampleSourceArgs({ file, width: 640, height: 360, fps: 25, seconds: 6 }), {
    stdio: 'inherit',
  });
  if (r.status !== 0) fail(`ffmpeg could not make the sample (exit ${r.status})`);
}

/** The job record's status, whatever envelope the dev orchestrator wraps it in. */
function statusOf(record) {
  const s = record?.status ?? record?.job?.status ?? record?.result?.status ?? record?.finalize?.status;
  return typeof s === 'string' ? s.toUpperCase() : undefined;
}

function manifestOf(record) {
  return (
    record?.manifest_url ?? record?.result?.manifest_url ?? record?.finalize?.manifest_url ?? record?.job?.manifest_url
  );
}

/** Every URI line of a playlist (skipping tags and blank lines). */
function urisOf(playlistFile) {
  return readFileSync(playlistFile, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function checkOutput(masterFile) {
  if (!existsSync(masterFile)) fail(`no master playlist at ${masterFile}`);
  const text = readFileSync(masterFile, 'utf8');
  if (!text.startsWith('#EXTM3U') || !text.includes('#EXT-X-STREAM-INF'))
    fail(`${masterFile} is not a master playlist`);
  let segments = 0;
  for (const media of urisOf(masterFile)) {
    const mediaFile = path.resolve(path.dirname(masterFile), media);
    if (!existsSync(mediaFile)) fail(`the master playlist names ${media}, which does not exist`);
    if (!readFileSync(mediaFile, 'utf8').includes('#EXT-X-ENDLIST')) fail(`${media} is not a finished VOD playlist`);
    for (const seg of urisOf(mediaFile)) {
      const segFile = path.resolve(path.dirname(mediaFile), seg);
      if (!existsSync(segFile) || statSync(segFile).size === 0) fail(`segment ${seg} of ${media} is missing or empty`);
      segments++;
    }
  }
  if (segments === 0) fail('the playlists reference no segment');
  log(`HLS output OK: ${masterFile} (${segments} segments)`);
  console.log(text.trim());
}

function listTree(dir, prefix = '') {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const isDir = statSync(full).isDirectory();
    console.log(`  ${prefix}${name}${isDir ? '/' : ''}`);
    if (isDir) listTree(full, `${prefix}  `);
  }
}

const job = JSON.parse(readFileSync(jobFile, 'utf8'));
await makeSample(job);

log(`waiting for the dev orchestrator at ${orchestrator}`);
await waitFor('the dev orchestrator', async () => {
  try {
    return (await request('GET', `${orchestrator}/api/v1/jobs/demo-probe`)).status;
  } catch {
    return undefined;
  }
});

const created = await request('POST', `${orchestrator}/api/v1/jobs`, job);
if (created.status >= 300) fail(`POST /api/v1/jobs answered ${created.status}: ${JSON.stringify(created.json)}`);
const jobId = created.json.job_id ?? created.json.job?.job_id ?? created.json.id;
if (!jobId) fail(`POST /api/v1/jobs answered without a job_id: ${JSON.stringify(created.json)}`);
log(`job ${jobId} queued; a worker picks it up on its next sync`);

let last = '';
const record = await waitFor(`job ${jobId} to finish`, async () => {
  const { json } = await request('GET', `${orchestrator}/api/v1/jobs/${encodeURIComponent(jobId)}`).catch(() => ({}));
  const status = statusOf(json) ?? 'UNKNOWN';
  const progress = json?.progress ?? json?.job?.progress;
  const line = `${status}${typeof progress === 'number' ? ` ${progress.toFixed(1)}%` : ''}`;
  if (line !== last) log(`job ${jobId}: ${(last = line)}`);
  return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(status) ? json : undefined;
});

if (statusOf(record) !== 'COMPLETED') fail(`job ${jobId} ended ${statusOf(record)}: ${JSON.stringify(record)}`);
const manifest = manifestOf(record) ?? '/demo/output/index.m3u8';
checkOutput(path.join(nas, manifest));
log(`files under ${path.join(nas, path.dirname(manifest))}:`);
listTree(path.join(nas, path.dirname(manifest)));
log('done: the worker transcoded the sample into HLS');
