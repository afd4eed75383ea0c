/**
 * An AV1 ladder (issue 14, "AV1 rungs") plays in a real browser: two libsvtav1 rungs in fMP4 through the real
 * pipeline, then headless Chromium (Debian's `chromium` package) with hls.js, as in hls-playback.test.ts. Skipped,
 * with a message, where /usr/bin/chromium is absent or its MediaSource lacks AV1 (av01.0.05M.08).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { HAS_CHROMIUM, launchChromium, serveNas, warnIfNoChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';
import { makeProbeReport } from '../helpers/probe-report.js';

warnIfNoChromium('the AV1 playback test');

/** What the page asks MediaSource first: a Chromium without AV1 decoding skips the test with a message. */
const AV1_PROBE = 'av01.0.05M.08';

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.state = { levels: -1, fatal: null, errors: [], currentTime: 0, mse: {} };
  window.state.av1 = MediaSource.isTypeSupported('video/mp4; codecs="${AV1_PROBE}"');
  window.state.levelCodecs = [];
  const video = document.getElementById('v');
  const hls = new Hls();
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => { window.state.levels = data.levels.length; window.state.levelCodecs = data.levels.map((l) => l.videoCodec); video.play().catch((e) => window.state.errors.push(String(e))); });
  hls.on(Hls.Events.ERROR, (_e, data) => { window.state.errors.push(data.details); if (data.fatal) window.state.fatal = data.type + ': ' + data.details; });
  video.addEventListener('timeupdate', () => { window.state.currentTime = video.currentTime; });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
</script></body></html>`;

describe.skipIf(!HAS_CHROMIUM)('an AV1 ladder (libsvtav1, fMP4) in a real browser', () => {
  let h: PipelineHarness;
  let server: http.Server;
  let browser: Browser;
  let manifestUrl: string;
  const served: string[] = [];

  beforeAll(async () => {
    h = await createPipelineHarness();
    await makeSource(path.join(h.nas, 'movies'), { name: 'av1.mp4', width: 320, height: 180, duration: 3 });
    const job = ladderJob('movies/av1.mp4', [
      ['320x180', '300k', 'processed/AV1 (2026)/180p'],
      ['256x144', '200k', 'processed/AV1 (2026)/144p'],
    ]);
    for (const o of job.outputs) o.codec = 'libsvtav1';
    const r = await h.run(job, { probe: makeProbeReport({ encoders: ['libx264', 'libsvtav1', 'aac'] }) });
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

  it('hls.js sees both AV1 levels and playback reaches 2 s with no fatal error', async (ctx) => {
    const page = await browser.newPage();
    try {
      const port = (server.address() as AddressInfo).port;
      await page.goto(`http://127.0.0.1:${port}/index.html?src=${encodeURIComponent(manifestUrl)}`);
      const av1 = await page.evaluate(() => (globalThis as unknown as { state: { av1: boolean } }).state.av1);
      if (!av1) {
        console.warn(`skipping the AV1 playback test: this Chromium has no AV1 decoder (${AV1_PROBE})`);
        ctx.skip();
        return;
      }
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { state: { currentTime: number; fatal: string | null } }).state;
          return s.currentTime >= 2 || s.fatal !== null;
        },
        undefined,
        { timeout: 45_000, polling: 100 },
      );
      const state = await page.evaluate(() => (globalThis as unknown as { state: Record<string, unknown> }).state);
      expect(state.fatal).toBeNull();
      expect(state.levels).toBe(2);
      expect(state.levelCodecs).toEqual([expect.stringMatching(/^av01\./), expect.stringMatching(/^av01\./)]);
      expect(state.currentTime as number).toBeGreaterThanOrEqual(2);
      // The AV1 init sections and fMP4 segments were fetched and decoded.
      expect(served.some((f) => /\/init[^/]*\.mp4$/.test(f))).toBe(true);
      expect(served.some((f) => f.endsWith('.m4s'))).toBe(true);
    } finally {
      await page.close();
    }
  }, 90_000);
});
