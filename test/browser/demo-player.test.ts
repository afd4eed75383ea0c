/**
 * The demo's --serve player page (src/demo.ts demoPlayerPage) in headless Chromium with hls.js: its audio menu
 * lists the master's audio renditions and switches hls.audioTrack, its subtitle menu lists the subtitle renditions
 * with "Off" and turns them on as text tracks the browser shows. The ladder is made here from the demo's sample
 * (ffmpeg's hls muxer for video and audio; WebVTT from the sample's subtitle streams) with a hand-written master,
 * so the page is tested apart from the worker's pipeline. Skipped where /usr/bin/chromium is absent.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type Page } from 'playwright-core';
import { HAS_CHROMIUM, HLS_JS, launchChromium, warnIfNoChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPlayerPage } from '../../src/demo.js';
import { multilingualSampleArgs, sampleSubtitleFiles } from '../../src/media/sample-source.js';
import { FFMPEG, makeTempDir, removeDir } from '../helpers/media.js';

const execFileP = promisify(execFile);
warnIfNoChromium('the demo player test');
const SECONDS = 2;

const MASTER = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English 5.1",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="a0/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="a1/index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="s0/index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français (forcé)",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES,URI="s1/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x180,AUDIO="aac",SUBTITLES="subs"
v0/index.m3u8
`;

const subtitlePlaylist = (seconds: number) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${seconds}\n#EXT-X-PLAYLIST-TYPE:VOD\n` +
  `#EXTINF:${seconds}.000,\nsub.vtt\n#EXT-X-ENDLIST\n`;

/** The sample as a small HLS ladder: one video rung, two AAC audio renditions, two WebVTT subtitle renditions. */
async function makeLadder(dir: string): Promise<void> {
  const sample = path.join(dir, 'sample.mkv');
  for (const srt of sampleSubtitleFiles(dir, SECONDS)) await writeFile(srt.path, srt.text);
  const args = multilingualSampleArgs({
    file: sample,
    subtitleDir: dir,
    width: 320,
    height: 180,
    seconds: SECONDS,
    preset: 'ultrafast',
  });
  await execFileP(FFMPEG, args);
  const hls = path.join(dir, 'hls');
  await execFileP(FFMPEG, [
    ...[
      '-v',
      'error',
      '-i',
      sample,
      '-map',
      '0:v',
      '-map',
      '0:a:0',
      '-map',
      '0:a:1',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-ac',
      '2',
    ],
    ...[
      '-f',
      'hls',
      '-hls_time',
      '2',
      '-hls_playlist_type',
      'vod',
      '-var_stream_map',
      'v:0,name:v0 a:0,name:a0 a:1,name:a1',
    ],
    ...['-hls_segment_filename', path.join(hls, '%v', 'seg%d.ts'), path.join(hls, '%v', 'index.m3u8')],
  ]);
  for (const i of [0, 1]) {
    await mkdir(path.join(hls, `s${i}`), { recursive: true });
    await execFileP(FFMPEG, [
      '-v',
      'error',
      '-i',
      sample,
      '-map',
      `0:s:${i}`,
      '-f',
      'webvtt',
      path.join(hls, `s${i}`, 'sub.vtt'),
    ]);
    await writeFile(path.join(hls, `s${i}`, 'index.m3u8'), subtitlePlaylist(SECONDS));
  }
  await writeFile(path.join(hls, 'master.m3u8'), MASTER);
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.vtt': 'text/vtt',
};

/** The page at "/", hls.js, and the ladder under /nas/. */
function serve(root: string): Promise<http.Server> {
  const page = demoPlayerPage({ manifestUrl: '/master.m3u8', href: '/nas/master.m3u8', hlsSrc: '/hls.min.js' });
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
        if (url.pathname === '/hls.min.js')
          return res.writeHead(200, { 'content-type': 'text/javascript' }).end(await readFile(HLS_JS));
        const rel = decodeURIComponent(url.pathname.replace(/^\/nas\//, ''))
          .split('/')
          .filter(Boolean);
        if (rel.some((p) => p === '..')) throw new Error('refused');
        const file = path.join(root, ...rel);
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// In-page code is written as text: this project compiles without the DOM types.
const menu = (page: Page, id: string) =>
  page.evaluate<{ options: string[][]; value: string; disabled: boolean }>(
    `(() => { const m = document.getElementById(${JSON.stringify(id)});
      return { options: [...m.options].map((o) => [o.value, o.text]), value: m.value, disabled: m.disabled }; })()`,
  );
const until = (page: Page, condition: string) => page.waitForFunction(condition, undefined, { timeout: 30_000 });

/** The text track the browser shows, with its cues once loaded; null until then. */
const SHOWN_CUES = `(() => {
  const track = [...document.querySelector('video').textTracks].find((t) => t.mode === 'showing');
  const cues = track && track.cues ? [...track.cues].map((c) => c.text) : [];
  return cues.length > 0 ? { label: track.label, cues } : null;
})()`;

describe.skipIf(!HAS_CHROMIUM)('the demo player page', () => {
  let dir: string;
  let server: http.Server;
  let browser: Browser;

  beforeAll(async () => {
    dir = await makeTempDir('tw-demo-player-');
    await makeLadder(dir);
    server = await serve(path.join(dir, 'hls'));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    if (dir) await removeDir(dir);
  });

  it('offers the audio and subtitle renditions, switches audio, and shows the chosen subtitles', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await until(page, "document.getElementById('audio-tracks').options.length === 2");
      await until(page, "document.getElementById('subtitle-tracks').options.length > 1");
      // hls.js picks the DEFAULT=YES rendition once the list is made.
      await until(page, "document.getElementById('audio-tracks').value === '0'");
      const audio = await menu(page, 'audio-tracks');
      expect(audio.options).toEqual([
        ['0', 'English 5.1 [en]'],
        ['1', 'Français [fr]'],
      ]);
      expect(audio.value).toBe('0');
      expect(audio.disabled).toBe(false);
      const subtitles = await menu(page, 'subtitle-tracks');
      expect(subtitles.options).toEqual([
        ['-1', 'Off'],
        ['0', 'English [en]'],
        ['1', 'Français (forcé) [fr]'],
      ]);
      expect(subtitles.value).toBe('-1');

      await page.selectOption('#audio-tracks', '1');
      await until(page, 'window.hls.audioTrack === 1');

      await page.selectOption('#subtitle-tracks', '0');
      const shown = await until(page, SHOWN_CUES);
      const { label, cues } = (await shown.jsonValue()) as { label: string; cues: string[] };
      expect(label).toBe('English');
      expect(cues[0]).toBe('English subtitle 1');
      expect(await page.evaluate('window.hls.subtitleTrack')).toBe(0);

      await page.selectOption('#subtitle-tracks', '-1');
      await until(page, 'window.hls.subtitleTrack === -1');
    } finally {
      await page.close();
    }
  }, 90_000);
});
