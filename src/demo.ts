/**
 * `transcode-worker demo`: the whole product on one machine in under a minute. Starts the reference orchestrator and
 * a worker on loopback, makes a sample film with ffmpeg's lavfi (two audio languages, two subtitle tracks),
 * enqueues a two-rendition job, shows progress and prints where the master playlist landed; --serve then plays it
 * with menus for its audio and subtitle tracks. Nothing outside a fresh temporary folder is touched.
 *
 * --workers N (N >= 2) starts N workers and turns on the orchestrator's split policy with a longer sample, so the
 * job is cut into part jobs across them and stitched (protocol extension split-stitch/1).
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { createApp } from './app.js';
import { startDevOrchestrator } from './dev-orchestrator/server.js';
import { errorMessage } from './errors.js';
import { sleep } from './util/abortable.js';
import { multilingualSampleArgs, sampleSubtitleFiles } from './media/sample-source.js';

export interface DemoOptions {
  serve: boolean;
  servePort: number;
  /** Config flags from the command line (e.g. --ffmpeg-path), applied to the demo workers. */
  configArgs: string[];
  out?: NodeJS.WritableStream;
  /** Seconds of sample video. Default 8; with 2 or more workers 16 per worker, so it is cut into parts. */
  durationSec?: number;
  /**
   * Workers to start (default 1), each with its own state_dir, temp_dir and health port. With 2 or more the dev
   * orchestrator's split policy is on (sources over SPLIT_DEMO_MIN_SEC are split) and the parts are shown.
   */
  workers?: number;
}

/** With --workers >= 2: the split threshold (the sample is longer; the one-worker sample of 8 s is not). */
export const SPLIT_DEMO_MIN_SEC = 10;

const say = (out: NodeJS.WritableStream, line: string) => out.write(`${line}\n`);

/** The demo workers' configuration: loopback, fast sync, a folder of their own under the demo root. */
function demoWorkerConfig(o: {
  root: string;
  nas: string;
  orchestratorUrl: string;
  index: number;
  of: number;
  args: string[];
}) {
  const suffix = o.of > 1 ? `-${o.index + 1}` : '';
  return loadConfig({
    args: o.args,
    env: {
      ...process.env,
      WORKER_ORCHESTRATOR_URL: o.orchestratorUrl,
      WORKER_ID: `demo-${os.hostname()}${suffix}`,
      WORKER_NAS_MOUNT_PATH: o.nas,
      WORKER_TEMP_DIR: path.join(o.root, `tmp${suffix}`),
      WORKER_STATE_DIR: path.join(o.root, `state${suffix}`),
      WORKER_HTTP_HOST: '127.0.0.1',
      WORKER_HTTP_PORT: '0',
      WORKER_SYNC_INTERVAL: '500ms',
      WORKER_PROGRESS_INTERVAL: '500ms',
    },
    requireNas: true,
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const workerCount = Math.max(1, opts.workers ?? 1);
  const splitting = workerCount >= 2;
  const root = await mkdtemp(path.join(os.tmpdir(), 'transcode-worker-demo-'));
  const nas = path.join(root, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  const log = createLogger({ level: 'warn', pretty: false, destination: process.stderr });

  // The tools' paths (ffmpeg for the sample, ffprobe for the split policy) before anything listens; this
  // orchestrator URL is never called.
  const tools = demoWorkerConfig({
    root,
    nas,
    orchestratorUrl: 'http://127.0.0.1:9',
    index: 0,
    of: 1,
    args: opts.configArgs,
  });
  const orchestrator = await startDevOrchestrator({
    host: '127.0.0.1',
    port: 0,
    log: false,
    ...(splitting
      ? { split: { minDurationSec: SPLIT_DEMO_MIN_SEC, nasRoot: nas, ffprobePath: tools.ffprobe_path } }
      : {}),
  });
  say(out, `dev orchestrator listening at ${orchestrator.url}`);
  if (splitting)
    say(out, `split policy on: sources longer than ${SPLIT_DEMO_MIN_SEC} s are cut into parts across the workers`);

  const movies = path.join(nas, 'movies');
  const source = path.join(movies, 'sample.mkv');
  const seconds = opts.durationSec ?? (splitting ? 16 * workerCount : 8);
  say(out, `making a ${seconds} s 1280x720 sample with ffmpeg (English 5.1 + French audio, 2 subtitles): ${source}`);
  // The subtitles start as SRT text beside the sample (under names that are not sidecars of it), muxed into the MKV.
  for (const srt of sampleSubtitleFiles(movies, seconds)) await writeFile(srt.path, srt.text);
  const made = await execa(
    tools.ffmpeg_path,
    multilingualSampleArgs({ file: source, subtitleDir: movies, width: 1280, height: 720, fps: 30, seconds }),
    { reject: false },
  );
  if (made.exitCode !== 0) {
    say(out, `cannot make the sample with ${tools.ffmpeg_path}: ${String(made.stderr || made.shortMessage).trim()}`);
    await orchestrator.close();
    return 1;
  }

  const apps: ReturnType<typeof createApp>[] = [];
  for (let index = 0; index < workerCount; index++) {
    const config = demoWorkerConfig({
      root,
      nas,
      orchestratorUrl: orchestrator.url,
      index,
      of: workerCount,
      args: opts.configArgs,
    });
    const app = createApp(config, log);
    await app.start();
    apps.push(app);
    say(out, `worker ${config.worker_id} health server at ${app.url} (try ${app.url}/status)`);
  }
  const stopWorkers = () => Promise.all(apps.map((a) => a.stop()));

  const job = demoJob();
  const created = await fetchJson(`${orchestrator.url}/api/v1/jobs`, { method: 'POST', body: JSON.stringify(job) });
  const jobId = String((created as { job_id?: string }).job_id);
  say(out, `enqueued job ${jobId}: ${job.input.source_url} -> 720p + 360p HLS`);

  let final: Record<string, unknown> | undefined;
  let lastLine = '';
  let lastNote = '';
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const j = (await fetchJson(`${orchestrator.url}/api/v1/jobs/${encodeURIComponent(jobId)}`)) as Record<
      string,
      unknown
    >;
    const status = String(j.status);
    const progress = Number(j.progress ?? 0);
    const note = typeof j.split_note === 'string' ? j.split_note : '';
    if (note && note !== lastNote) say(out, `  ${note}`);
    lastNote = note;
    const line =
      `  ${status.padEnd(10)} ${bar(progress)} ${progress.toFixed(1).padStart(5)}%` +
      (j.current_fps ? `  ${Number(j.current_fps).toFixed(0)} fps` : '') +
      describeChildren(j);
    if (line !== lastLine) say(out, line);
    lastLine = line;
    if (status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED') {
      final = j;
      break;
    }
    await sleep(300);
  }

  let code = 1;
  const finalize = (final?.result ?? final?.finalize ?? final) as Record<string, unknown> | undefined;
  const manifestUrl = (finalize?.manifest_url ?? final?.manifest_url) as string | undefined;
  if (final?.status === 'COMPLETED' && manifestUrl) {
    const master = path.join(nas, ...manifestUrl.split('/').filter(Boolean));
    say(out, `job COMPLETED. master playlist: ${master}`);
    code = 0;
    if (opts.serve) {
      await stopWorkers();
      await orchestrator.close();
      await serveFolder(nas, manifestUrl, opts.servePort, out);
      return 0;
    }
  } else {
    say(
      out,
      `job did not complete: ${JSON.stringify(finalize?.error_msg ?? final?.error_msg ?? final?.status ?? 'timed out')}`,
    );
  }
  await stopWorkers();
  await orchestrator.close();
  if (code !== 0) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  return code;
}

/** "  parts: 0 demo-1 COMPLETED, 1 demo-2 42%; stitch QUEUED" for a split job's record, "" for a plain one. */
export function describeChildren(j: Record<string, unknown>): string {
  type Child = { index?: number; status: string; progress: number; worker_id?: string; attempts?: number };
  const show = (c: Child) =>
    `${c.worker_id ?? '-'} ${c.status === 'PROCESSING' ? `${Math.round(c.progress)}%` : c.status}` +
    ((c.attempts ?? 0) > 1 ? ` (try ${c.attempts})` : '');
  const parts = Array.isArray(j.parts) ? (j.parts as Child[]) : [];
  if (parts.length === 0) return '';
  const stitch = j.stitch as Child | undefined;
  return (
    `  parts: ${parts.map((p) => `${p.index} ${show(p)}`).join(', ')}` + (stitch ? `; stitch ${show(stitch)}` : '')
  );
}

/**
 * The job the demo enqueues: two rungs, every audio language as stereo AAC (surround: false, said out loud so the
 * demo shows the field), every subtitle track (subtitles: {} is the defaults: embedded tracks and sidecars).
 */
export function demoJob() {
  return {
    movie_id: 'demo-sample',
    input: { source_url: 'movies/sample.mkv', format: 'mkv' },
    outputs: [
      { resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/sample/720p/' },
      { resolution: '360p', bitrate: '800k', codec: 'libx264', dest_path: 'processed/sample/360p/' },
    ],
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 2 },
    audio_config: { surround: false },
    subtitles: {},
  };
}

function bar(progress: number): string {
  const width = 30;
  const filled = Math.round((Math.max(0, Math.min(100, progress)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

async function fetchJson(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

/** --serve: a static server for the NAS folder and a small hls.js player page, until Ctrl-C. */
async function serveFolder(root: string, manifestUrl: string, port: number, out: NodeJS.WritableStream): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { default: fastifyStatic } = await import('@fastify/static');
  const app = Fastify({ logger: false });
  await app.register(fastifyStatic, { root, prefix: '/nas/' });
  // manifest_url is a NAS path (it may hold spaces, quotes, '%'): encoded for the URL, escaped in the page.
  const href = `/nas${manifestUrl.split('/').map(encodeURIComponent).join('/')}`;
  // hls.js from node_modules when installed (a development checkout), else from its CDN.
  let hlsSrc = 'https://cdn.jsdelivr.net/npm/hls.js@1/dist/hls.min.js';
  try {
    const local = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
    app.get('/hls.min.js', async (_req, reply) => reply.type('text/javascript').send(await readFile(local)));
    hlsSrc = '/hls.min.js';
  } catch {
    // not installed: use the CDN
  }
  app.get('/', async (_req, reply) => reply.type('text/html').send(demoPlayerPage({ manifestUrl, href, hlsSrc })));
  const url = await app.listen({ host: '127.0.0.1', port });
  say(out, `serving the NAS folder at ${url}/nas/ and a player at ${url}/ (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await app.close().catch((err) => say(out, errorMessage(err)));
}

const htmlText = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The script of the player page. hls.js first (it lists the renditions for the menus; Safari's own player has
 * its own), native HLS otherwise. The menus follow hls.js: AUDIO_TRACKS_UPDATED / SUBTITLE_TRACKS_UPDATED fill
 * them, a choice sets hls.audioTrack / hls.subtitleTrack (-1: off), and the switch events keep them in step with
 * what hls.js chose itself (DEFAULT, AUTOSELECT, FORCED; the audio track is chosen after the list is made). Subtitles are drawn by the browser from the text tracks
 * hls.js makes (renderTextTracksNatively).
 */
const PLAYER_SCRIPT = `
const v = document.getElementById('v');
const audioMenu = document.getElementById('audio-tracks');
const subtitleMenu = document.getElementById('subtitle-tracks');
const label = (t) => (t.name || t.lang || 'track ' + t.id) + (t.lang && t.name !== t.lang ? ' [' + t.lang + ']' : '') + (t.forced && !/forc/i.test(t.name || '') ? ' (forced)' : '');
const fill = (menu, tracks, current, off) => {
  menu.replaceChildren(...(off ? [new Option('Off', '-1')] : []), ...tracks.map((t, i) => new Option(label(t), String(i))));
  menu.value = String(current);
  menu.disabled = tracks.length === 0;
};
if (window.Hls && Hls.isSupported()) {
  const hls = new Hls({ renderTextTracksNatively: true });
  window.hls = hls;
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_e, d) => fill(audioMenu, d.audioTracks, hls.audioTrack, false));
  for (const ev of [Hls.Events.AUDIO_TRACK_SWITCHING, Hls.Events.AUDIO_TRACK_SWITCHED])
    hls.on(ev, (_e, d) => { audioMenu.value = String(d.id); });
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, d) => fill(subtitleMenu, d.subtitleTracks, hls.subtitleTrack, true));
  hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_e, d) => { subtitleMenu.value = String(d.id); });
  audioMenu.addEventListener('change', () => { hls.audioTrack = Number(audioMenu.value); });
  subtitleMenu.addEventListener('change', () => { hls.subtitleDisplay = true; hls.subtitleTrack = Number(subtitleMenu.value); });
  hls.loadSource(src);
  hls.attachMedia(v);
} else if (v.canPlayType('application/vnd.apple.mpegurl')) {
  v.src = src;
  for (const menu of [audioMenu, subtitleMenu]) menu.replaceChildren(new Option('in the player\u2019s own menu', ''));
}
`;

/**
 * The --serve player page: the video, an audio menu (hls.audioTracks) and a subtitle menu (hls.subtitleTracks, with
 * "Off"). `href` is the master's URL (already percent-encoded), `manifestUrl` its NAS path as shown.
 */
export function demoPlayerPage(o: { manifestUrl: string; href: string; hlsSrc: string }): string {
  return (
    `<!doctype html><meta charset="utf-8"><title>transcode-worker demo</title>` +
    `<h1>transcode-worker demo</h1>` +
    `<video id="v" controls muted autoplay playsinline style="max-width:100%"></video>` +
    `<p><label>Audio <select id="audio-tracks" disabled></select></label> ` +
    `<label>Subtitles <select id="subtitle-tracks" disabled><option value="-1">Off</option></select></label></p>` +
    `<p>Master playlist: <a href="${htmlText(o.href)}">${htmlText(o.manifestUrl)}</a></p>` +
    `<script src="${htmlText(o.hlsSrc)}"></script>` +
    `<script>const src=${JSON.stringify(o.href).replace(/</g, '\\u003c')};${PLAYER_SCRIPT}</script>`
  );
}
