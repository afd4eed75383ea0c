/**
 * Plays a committed ladder across its seams (a resume point, part boundaries) in headless Chromium with hls.js, at
 * every level: for each level, hls.js is pinned to it, the video is sought a little before the seam and played
 * until a little after it. It must cross the seam without a fatal error, a stall or a buffer gap, and the
 * fragments hls.js loaded must be contiguous (no skipped sequence number) and from that level only.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium, serveNas } from './browser.js';

const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  const level = Number(q.get('level'));
  const from = Number(q.get('from'));
  window.state = { ready: false, fatal: null, errors: [], currentTime: 0, waiting: 0, frags: [], levels: -1 };
  const video = document.getElementById('v');
  const hls = new Hls({ startLevel: level, autoStartLoad: false, capLevelToPlayerSize: false, maxBufferLength: 6 });
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
    window.state.levels = data.levels.length;
    hls.loadLevel = level;
    hls.startLoad(from);
  });
  hls.on(Hls.Events.FRAG_BUFFERED, (_e, data) => {
    if (data.frag.type === 'main') window.state.frags.push([data.frag.level, data.frag.sn]);
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    window.state.errors.push(data.details);
    if (data.fatal) window.state.fatal = data.type + ': ' + data.details;
  });
  video.addEventListener('loadedmetadata', () => { video.currentTime = from; video.play().catch((e) => window.state.errors.push(String(e))); });
  video.addEventListener('waiting', () => { if (window.state.ready) window.state.waiting++; });
  video.addEventListener('playing', () => { window.state.ready = true; });
  video.addEventListener('timeupdate', () => {
    window.state.currentTime = video.currentTime;
    const b = video.buffered;
    window.state.buffered = Array.from({ length: b.length }, (_, i) => [b.start(i), b.end(i)]);
  });
  hls.loadSource(q.get('src'));
  hls.attachMedia(video);
</script></body></html>`;

export interface SeamPlayResult {
  level: number;
  seam: number;
  reached: number;
  fatal: string | null;
  errors: string[];
  /** [level, sn] of every main fragment buffered. */
  frags: Array<[number, number]>;
  buffered: Array<[number, number]>;
}

interface PageState {
  ready: boolean;
  fatal: string | null;
  errors: string[];
  currentTime: number;
  waiting: number;
  frags: Array<[number, number]>;
  levels: number;
  buffered?: Array<[number, number]>;
}

/**
 * Plays `manifestUrl` (a path on the NAS server, "/processed/film/index.m3u8") across every seam (seconds) at every
 * level of `levels`, from `lead` s before to `lead` s after. Returns one result per (level, seam).
 */
export async function playAcrossSeams(
  nas: string,
  manifestUrl: string,
  seams: number[],
  levels: number,
  lead = 1.5,
): Promise<SeamPlayResult[]> {
  const server: http.Server = await serveNas(nas, PAGE);
  const browser: Browser = await launchChromium();
  const results: SeamPlayResult[] = [];
  try {
    const port = (server.address() as AddressInfo).port;
    for (let level = 0; level < levels; level++) {
      for (const seam of seams) {
        const page = await browser.newPage();
        try {
          const from = Math.max(0, seam - lead);
          const url = `http://127.0.0.1:${port}/index.html?src=${encodeURIComponent(manifestUrl)}&level=${level}&from=${from}`;
          await page.goto(url);
          await page.waitForFunction(
            ([target]) => {
              const s = (globalThis as unknown as { state: PageState }).state;
              return s.currentTime >= target! || s.fatal !== null;
            },
            [seam + lead],
            { timeout: 30_000, polling: 100 },
          );
          const s = await page.evaluate(() => (globalThis as unknown as { state: PageState }).state);
          results.push({
            level,
            seam,
            reached: s.currentTime,
            fatal: s.fatal,
            errors: s.errors,
            frags: s.frags,
            buffered: s.buffered ?? [],
          });
        } finally {
          await page.close();
        }
      }
    }
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
  return results;
}

/**
 * The checks every seam must pass: crossed, no fatal error, one level only, contiguous fragments over the seam,
 * and one buffered range covering it. Returns the problems found (empty: all good), for one clear assertion.
 */
export function seamProblems(results: SeamPlayResult[], segmentTime: number): string[] {
  const problems: string[] = [];
  for (const r of results) {
    const where = `level ${r.level}, seam ${r.seam} s`;
    if (r.fatal) problems.push(`${where}: fatal ${r.fatal}`);
    if (r.reached < r.seam + 0.5) problems.push(`${where}: stopped at ${r.reached.toFixed(2)} s`);
    const otherLevels = r.frags.filter(([l]) => l !== r.level);
    if (otherLevels.length > 0) problems.push(`${where}: fragments of other levels ${JSON.stringify(otherLevels)}`);
    const sns = [...new Set(r.frags.map(([, sn]) => sn))].sort((a, b) => a - b);
    const seamSn = Math.round(r.seam / segmentTime);
    if (!sns.includes(seamSn) || !sns.includes(seamSn - 1))
      problems.push(`${where}: fragments ${seamSn - 1} and ${seamSn} not both loaded (${sns.join(',')})`);
    for (let i = 1; i < sns.length; i++)
      if (sns[i]! !== sns[i - 1]! + 1) problems.push(`${where}: fragment ${sns[i - 1]} then ${sns[i]}`);
    const covering = r.buffered.find(([a, b]) => a <= r.seam - 0.5 && b >= r.seam + 0.5);
    if (!covering) problems.push(`${where}: no single buffered range over the seam (${JSON.stringify(r.buffered)})`);
  }
  return problems;
}
