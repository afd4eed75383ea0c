/**
 * Headless Chromium (Debian's `chromium` package; .ci/run installs it) with hls.js, for the playback tests: where the
 * browser is, how it is launched, and a static server for a NAS folder, hls.js and one test page. A test file whose
 * browser is absent is skipped with a message (HAS_CHROMIUM).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.TEST_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

export const HLS_JS = fileURLToPath(new URL('../../node_modules/hls.js/dist/hls.min.js', import.meta.url));

/** Logs why `what` is skipped when this machine has no Chromium. */
export function warnIfNoChromium(what: string): void {
  if (!HAS_CHROMIUM) console.warn(`skipping ${what}: ${CHROMIUM} not found (apt-get install chromium)`);
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.vtt': 'text/vtt',
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
};

export function send(res: http.ServerResponse, ext: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

/**
 * Serves the NAS folder, hls.js (/hls.min.js) and `page` (/index.html); nothing else: no hidden file, no "..".
 * Records each NAS file served (decoded path, relative to the NAS) in `served` when given.
 */
export function serveNas(nas: string, page: string, served?: string[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        if (url.pathname === '/index.html') return send(res, '.html', Buffer.from(page));
        if (url.pathname === '/hls.min.js') return send(res, '.js', await readFile(HLS_JS));
        const rel = decodeURIComponent(url.pathname).split('/').filter(Boolean);
        if (rel.some((p) => p === '..' || p.startsWith('.'))) throw new Error('refused');
        const file = path.join(nas, ...rel);
        send(res, path.extname(file), await readFile(file));
        served?.push(rel.join('/'));
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Headless Chromium that plays media with sound and no user gesture, and reaches nothing but 127.0.0.1. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
