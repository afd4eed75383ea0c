/**
 * The output of a ladder job plays in a real browser: headless Chromium (Debian's `chromium` package) with hls.js,
 * served from a local static server. Skipped, with a message, where /usr/bin/chromium is absent
 * (.ci/run installs it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { HAS_CHROMIUM, launchChromium, serveNas, warnIfNoChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

warnIfNoChromium('the browser playback test');

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.state = { levels: -1, fatal: null, errors: [], currentTime: 0, mse: {} };
  for (const c of ['avc1.42E01E,mp4a.40.2', 'avc1.640028,mp4a.40.2']) window.state.mse[c] = MediaSource.isTypeSupported('video/mp4; codecs="' + c + '"');
  const video = document.getElementById('v');
  const hls = new Hls();
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => { window.state.levels = data.levels.length; video.play().catch((e) => window.state.errors.push(String(e))); });
  hls.on(Hls.Events.ERROR, (_e, data) => { window.state.errors.push(data.details); if (data.fatal) window.state.fatal = data.type + ': ' + data.details; });
  video.addEventListener('timeupdate', () => { window.state.currentTime = video.currentTime; });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
</script></body></html>`;

describe.skipIf(!HAS_CHROMIUM)('HLS output in a real browser', () => {
  let h: PipelineHarness;
  let server: http.Server;
  let browser: Browser;
  let manifestUrl: string;
  const served: string[] = [];

  beforeAll(async () => {
    h = await createPipelineHarness();
    await makeSource(path.join(h.nas, 'movies'), { name: 'play.mp4', width: 640, height: 360, duration: 4 });
    // Folder names with a space, parentheses, a comma and '%': the master lists them percent-encoded, and the
    // browser must resolve and fetch those URIs.
    const r = await h.run(
      ladderJob('movies/play.mp4', [
        ['360p', '800k', 'processed/Play Time (2024)/360p HD'],
        ['240p', '400k', 'processed/Play Time (2024)/240p, SD'],
        ['320x180', '250k', 'processed/Play Time (2024)/180p 100%'],
      ]),
    );
    if (!r.ok) throw r.error;
    manifestUrl = r.result.manifestUrl;
    server = await serveNas(h.nas, PAGE, served);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await h?.cleanup();
  });

  it('hls.js sees every level and playback reaches 2 s with no fatal error', async () => {
    const page = await browser.newPage();
    try {
      const port = (server.address() as AddressInfo).port;
      await page.goto(`http://127.0.0.1:${port}/index.html?src=${encodeURIComponent(manifestUrl)}`);
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { state: { currentTime: number; fatal: string | null } }).state;
          return s.currentTime >= 2 || s.fatal !== null;
        },
        undefined,
        { timeout: 45_000, polling: 100 },
      );
      const state = await page.evaluate(() => (globalThis as unknown as { state: Record<string, unknown> }).state);
      expect(state.mse).toMatchObject({ 'avc1.42E01E,mp4a.40.2': true });
      expect(state.fatal).toBeNull();
      expect(state.levels).toBe(3);
      expect(state.currentTime as number).toBeGreaterThanOrEqual(2);
      // Media playlists and segments were fetched from the folders with spaces, commas and '%' in their names.
      const folders = ['360p HD', '240p, SD', '180p 100%'].map((f) => `processed/Play Time (2024)/${f}/`);
      const fetched = served.filter((f) => folders.some((d) => f.startsWith(d)));
      expect(fetched.some((f) => f.endsWith('/stream.m3u8'))).toBe(true);
      expect(fetched.some((f) => f.endsWith('.ts'))).toBe(true);
    } finally {
      await page.close();
    }
  }, 90_000);
});
