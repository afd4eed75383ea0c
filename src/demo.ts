/**
 * `transcode-worker demo`: the whole product on one machine in under a minute. Starts the reference orchestrator and
 * a worker on loopback, makes a sample source with ffmpeg's lavfi, enqueues a two-rendition job, shows progress and
 * prints where the master playlist landed. Nothing outside a fresh temporary folder is touched.
 */
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
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
import { sampleSourceArgs } from './media/sample-source.js';

export interface DemoOptions {
  serve: boolean;
  servePort: number;
  /** Config flags from the command line (e.g. --ffmpeg-path), applied to the demo worker. */
  configArgs: string[];
  out?: NodeJS.WritableStream;
  /** Seconds of sample video. */
  durationSec?: number;
}

const say = (out: NodeJS.WritableStream, line: string) => out.write(`${line}\n`);

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const root = await mkdtemp(path.join(os.tmpdir(), 'transcode-worker-demo-'));
  const nas = path.join(root, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  const log = createLogger({ level: 'warn', pretty: false, destination: process.stderr });

  const orchestrator = await startDevOrchestrator({ host: '127.0.0.1', port: 0, log: false });
  say(out, `dev orchestrator listening at ${orchestrator.url}`);

  const config = loadConfig({
    args: opts.configArgs,
    env: {
      ...process.env,
      WORKER_ORCHESTRATOR_URL: orchestrator.url,
      WORKER_ID: `demo-${os.hostname()}`,
      WORKER_NAS_MOUNT_PATH: nas,
      WORKER_TEMP_DIR: path.join(root, 'tmp'),
      WORKER_STATE_DIR: path.join(root, 'state'),
      WORKER_HTTP_HOST: '127.0.0.1',
      WORKER_HTTP_PORT: '0',
      WORKER_SYNC_INTERVAL: '500ms',
      WORKER_PROGRESS_INTERVAL: '500ms',
    },
    requireNas: true,
  });

  const source = path.join(nas, 'movies', 'sample.mp4');
  const seconds = opts.durationSec ?? 8;
  say(out, `making a ${seconds} s 1280x720 sample with ffmpeg: ${source}`);
  const made = await execa(
    config.ffmpeg_path,
    sampleSourceArgs({ file: source, width: 1280, height: 720, fps: 30, seconds }),
    { reject: false },
  );
  if (made.exitCode !== 0) {
    say(out, `cannot make the sample with ${config.ffmpeg_path}: ${String(made.stderr || made.shortMessage).trim()}`);
    await orchestrator.close();
    return 1;
  }

  const app = createApp(config, log);
  await app.start();
  say(out, `worker ${config.worker_id} health server at ${app.url} (try ${app.url}/status)`);

  const job = {
    movie_id: 'demo-sample',
    input: { source_url: 'movies/sample.mp4', format: 'mp4' },
    outputs: [
      { resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/sample/720p/' },
      { resolution: '360p', bitrate: '800k', codec: 'libx264', dest_path: 'processed/sample/360p/' },
    ],
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 2 },
  };
  const created = await fetchJson(`${orchestrator.url}/api/v1/jobs`, { method: 'POST', body: JSON.stringify(job) });
  const jobId = String((created as { job_id?: string }).job_id);
  say(out, `enqueued job ${jobId}: ${job.input.source_url} -> 720p + 360p HLS`);

  let final: Record<string, unknown> | undefined;
  let lastLine = '';
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const j = (await fetchJson(`${orchestrator.url}/api/v1/jobs/${encodeURIComponent(jobId)}`)) as Record<
      string,
      unknown
    >;
    const status = String(j.status);
    const progress = Number(j.progress ?? 0);
    const line =
      `  ${status.padEnd(10)} ${bar(progress)} ${progress.toFixed(1).padStart(5)}%` +
      (j.current_fps ? `  ${Number(j.current_fps).toFixed(0)} fps` : '');
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
      await app.stop();
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
  await app.stop();
  await orchestrator.close();
  if (code !== 0) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  return code;
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
  // manifest_url is a NAS path (it may hold spaces, quotes, '%'): encode it for the URL, escape it for the page.
  const href = `/nas${manifestUrl.split('/').map(encodeURIComponent).join('/')}`;
  const htmlText = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // hls.js from node_modules when installed (a development checkout), else from its CDN.
  let hlsSrc = 'https://cdn.jsdelivr.net/npm/hls.js@1/dist/hls.min.js';
  try {
    const local = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
    app.get('/hls.min.js', async (_req, reply) => reply.type('text/javascript').send(await readFile(local)));
    hlsSrc = '/hls.min.js';
  } catch {
    // not installed: use the CDN
  }
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>transcode-worker demo</title>` +
          `<h1>transcode-worker demo</h1><video id="v" controls muted autoplay style="max-width:100%"></video>` +
          `<p>Master playlist: <a href="${htmlText(href)}">${htmlText(manifestUrl)}</a></p>` +
          `<script src="${hlsSrc}"></script>` +
          `<script>const v=document.getElementById('v');const src=${JSON.stringify(href).replace(/</g, '\\u003c')};` +
          `if(v.canPlayType('application/vnd.apple.mpegurl')){v.src=src}else if(window.Hls){const h=new Hls();h.loadSource(src);h.attachMedia(v)}</script>`,
      ),
  );
  const url = await app.listen({ host: '127.0.0.1', port });
  say(out, `serving the NAS folder at ${url}/nas/ and a player at ${url}/ (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await app.close().catch((err) => say(out, errorMessage(err)));
}
