/**
 * Every language in a real browser (issue 11): the worker's multi-language ladder, made by the real pipeline from a
 * generated family film, played by hls.js in headless Chromium, once as MPEG-TS and once as fMP4.
 *  - hls.js lists the three audio renditions and the three subtitle renditions with their languages;
 *  - each audio track carries its own tone (440 / 660 / 880 Hz): the page hears it through the Web Audio API
 *    (MediaElementSource -> AnalyserNode, the video unmuted), so switching hls.audioTrack mid-playback is checked
 *    by ear, and the clock is checked to keep going across the switches;
 *  - the English cue "Second English line" (2.5 s after the film's first picture) becomes active within 100 ms of
 *    that time, measured against the first frame the browser presents (requestVideoFrameCallback), so a wrong
 *    X-TIMESTAMP-MAP (10 s late for TS, or the TS mapping applied to fMP4) fails here.
 * One playback per ladder (about 4 s of media) records everything; the tests assert over that record.
 * Skipped, with a message, where /usr/bin/chromium is absent (.ci/run installs it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { cpus, loadavg } from 'node:os';
import { HAS_CHROMIUM, launchChromium, serveNas, warnIfNoChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGLISH_CUES, TRACK_TONES, makeMultiLanguageFilm } from '../helpers/multilang-source.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

warnIfNoChromium('the browser language test');

/** The film's length (s): the tests play about 3 s of it. */
const FILM_SECONDS = 6;
const LADDERS = ['ts', 'fmp4'] as const;
type Ladder = (typeof LADDERS)[number];
const [CUE_START, , CUE_TEXT] = ENGLISH_CUES[1]!;
/** How far a heard tone may be from the track's (Hz); the tones are 220 Hz apart. */
const TONE_TOLERANCE_HZ = 10;

/**
 * The page records into window.state: hls.js errors, 'waiting' events, the first presented frame's media time
 * (the media's zero, from requestVideoFrameCallback), every cue the moment it becomes active (currentTime at the
 * track's 'cuechange'), and the media clock every 50 ms of wall time (to find freezes). window.listen() routes the
 * video's sound into an AnalyserNode; window.tone() gives the loudest frequency, refined by parabolic
 * interpolation over the neighbouring bins (the bins are ~6 Hz wide).
 */
const PAGE = `<!doctype html><html><body><video id="v" playsinline></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('v');
  const state = (window.state = { fatal: null, errors: [], waiting: [], firstFrame: null, cues: [], clock: [] });
  const hls = (window.hls = new Hls());
  hls.on(Hls.Events.ERROR, (_e, d) => {
    state.errors.push({ details: d.details, at: video.currentTime, wall: performance.now() });
    if (d.fatal) state.fatal = d.type + ': ' + d.details;
  });
  video.addEventListener('waiting', () => state.waiting.push({ at: video.currentTime, wall: performance.now() }));
  video.requestVideoFrameCallback((_now, meta) => { state.firstFrame = meta.mediaTime; });
  setInterval(() => state.clock.push([performance.now(), video.currentTime]), 50);
  const watched = new Set();
  const watch = (track) => {
    if (watched.has(track)) return;
    watched.add(track);
    track.addEventListener('cuechange', () => {
      for (const c of track.activeCues) {
        if (state.cues.some((s) => s.cue === c)) continue;
        state.cues.push({ cue: c, track: track.label, mode: track.mode, text: c.text, start: c.startTime, at: video.currentTime });
      }
    });
  };
  video.textTracks.addEventListener('addtrack', (e) => watch(e.track));
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
  window.listen = () => {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    ctx.createMediaElementSource(video).connect(analyser);
    analyser.connect(ctx.destination);
    const db = new Float32Array(analyser.frequencyBinCount);
    window.tone = () => {
      analyser.getFloatFrequencyData(db);
      let i = 1;
      for (let k = 2; k < db.length - 1; k++) if (db[k] > db[i]) i = k;
      const [a, b, c] = [db[i - 1], db[i], db[i + 1]];
      const shift = a - 2 * b + c < 0 ? (0.5 * (a - c)) / (a - 2 * b + c) : 0;
      return { hz: ((i + shift) * ctx.sampleRate) / analyser.fftSize, db: b, at: video.currentTime };
    };
    return ctx.state;
  };
</script></body></html>`;

interface Tone {
  hz: number;
  db: number;
  /** currentTime when heard. */
  at: number;
}

interface Switch {
  to: number;
  /** currentTime when hls.audioTrack was set, and the tone first heard after it. */
  at: number;
  heard: Tone;
}

interface Playback {
  audioTracks: Array<{ id: number; name: string; lang: string; default: boolean; autoselect: boolean }>;
  audioTrack: number;
  subtitleTracks: Array<{ id: number; name: string; lang: string; forced: boolean }>;
  /** The text tracks of the video element once English subtitles are selected: [label, language, mode]. */
  textTracks: string[][];
  /** The first tone heard, before any switch. */
  firstTone: Tone;
  switches: Switch[];
  /** currentTime of the first presented frame. */
  firstFrame: number;
  cues: Array<{ track: string; mode: string; text: string; start: number; at: number }>;
  fatal: string | null;
  errors: Array<{ details: string; at: number; wall: number }>;
  waiting: Array<{ at: number; wall: number }>;
  /** [wall ms, currentTime] every 50 ms. */
  clock: Array<[number, number]>;
  /** Wall time (page clock, ms) of the first audio switch. */
  firstSwitchWall: number;
}

/** waitForFunction with a deadline, and the page's record in the error when it passes. */
async function until<T>(page: Page, expression: string, timeoutMs: number, what: string): Promise<T> {
  try {
    const handle = await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 50 });
    return (await handle.jsonValue()) as T;
  } catch (err) {
    const state = await page
      .evaluate(
        'JSON.stringify({ t: video.currentTime, ...window.state }, (k, v) => (k === "cue" || k === "clock" ? undefined : v))',
      )
      .catch(() => '(page gone)');
    throw new Error(`${what}: ${(err as Error).message.split('\n')[0]}; page state ${String(state)}`);
  }
}

const toneNear = (hz: number) =>
  `(() => { const t = window.tone(); return Math.abs(t.hz - ${hz}) <= ${TONE_TOLERANCE_HZ} && t.db > -60 ? t : null; })()`;

/**
 * Loads the ladder, selects English subtitles, waits for the cue to be loaded, then plays with the analyser on:
 * hears English, switches to French after 1 s, hears it, switches to the commentary, hears it, and lets playback
 * run past the cue and a second beyond the last switch.
 */
async function playThrough(page: Page, url: string): Promise<Playback> {
  await page.goto(url);
  await until(page, 'hls.audioTracks.length > 0 && hls.subtitleTracks.length > 0', 15_000, 'the track lists');
  // hls.js selects a rendition once its list is made; the tests check that it is the DEFAULT=YES one.
  await until(page, 'hls.audioTrack >= 0', 5_000, 'an audio track to be selected');
  const lists = await page.evaluate<Pick<Playback, 'audioTracks' | 'audioTrack' | 'subtitleTracks'>>(`({
    audioTracks: hls.audioTracks.map((t) => ({ id: t.id, name: t.name, lang: t.lang, default: t.default, autoselect: t.autoselect })),
    audioTrack: hls.audioTrack,
    subtitleTracks: hls.subtitleTracks.map((t) => ({ id: t.id, name: t.name, lang: t.lang, forced: t.forced })),
  })`);
  const english = lists.subtitleTracks.findIndex((t) => t.lang === 'en');
  await page.evaluate(`hls.subtitleTrack = ${english}`);
  await until(
    page,
    `[...video.textTracks].some((t) => t.mode === 'showing' && t.cues && [...t.cues].some((c) => c.text === ${JSON.stringify(CUE_TEXT)}))`,
    10_000,
    'the English cue to be loaded',
  );
  const textTracks = await page.evaluate<string[][]>('[...video.textTracks].map((t) => [t.label, t.language, t.mode])');
  expect(await page.evaluate('listen()')).toBe('running');
  await page.evaluate('video.play()');

  const firstTone = await until<Tone>(page, toneNear(TRACK_TONES.english), 10_000, 'the English tone');
  await until(page, 'video.currentTime >= 1', 10_000, 'playback to reach 1 s');
  const firstSwitchWall = await page.evaluate<number>('performance.now()');
  const switches: Switch[] = [];
  for (const [to, hz, name] of [
    [1, TRACK_TONES.french, 'French'],
    [2, TRACK_TONES.commentary, 'commentary'],
  ] as const) {
    const at = await page.evaluate<number>(`(hls.audioTrack = ${to}, video.currentTime)`);
    const heard = await until<Tone>(page, toneNear(hz), 5_000, `the ${name} tone after switching at ${at} s`);
    switches.push({ to, at, heard });
  }
  const end = Math.max(switches.at(-1)!.heard.at + 1, CUE_START + 0.5);
  await until(page, `video.currentTime >= ${end}`, 10_000, `playback to reach ${end} s`);
  const state = await page.evaluate<Omit<Playback, keyof typeof lists | 'textTracks' | 'firstTone' | 'switches'>>(
    'JSON.parse(JSON.stringify(window.state, (k, v) => (k === "cue" ? undefined : v)))',
  );
  return { ...lists, textTracks, firstTone, switches, ...state, firstSwitchWall };
}

/** The longest wall time (ms) after `fromWall` during which the media clock did not move. */
function longestFreezeMs(clock: Array<[number, number]>, fromWall: number, untilTime: number): number {
  let longest = 0;
  let since: number | undefined;
  for (let i = 1; i < clock.length; i++) {
    const [wall, t] = clock[i]!;
    if (wall < fromWall || t >= untilTime) continue;
    if (t === clock[i - 1]![1]) {
      since ??= clock[i - 1]![0];
      longest = Math.max(longest, wall - since);
    } else {
      since = undefined;
    }
  }
  return longest;
}

describe.skipIf(!HAS_CHROMIUM)('every language in Chromium with hls.js', () => {
  let h: PipelineHarness;
  let server: http.Server;
  let browser: Browser;
  const masters = {} as Record<Ladder, string>;

  beforeAll(async () => {
    h = await createPipelineHarness();
    await makeMultiLanguageFilm(path.join(h.nas, 'movies'), { germanSidecar: true, duration: FILM_SECONDS });
    for (const segment_type of LADDERS) {
      const r = await h.run(
        ladderJob(
          'movies/family.mkv',
          [
            ['320x180', '300k', `library/${segment_type}/180p`],
            ['256x144', '200k', `library/${segment_type}/144p`],
          ],
          { hls_settings: { segment_time: 1, segment_type } },
        ),
      );
      if (!r.ok) throw r.error;
      masters[segment_type] = r.result.manifestUrl;
    }
    server = await serveNas(h.nas, PAGE);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await h?.cleanup();
  });

  describe.each(LADDERS)('%s ladder', (ladder) => {
    let p: Playback;

    beforeAll(async () => {
      const page = await browser.newPage();
      try {
        const port = (server.address() as AddressInfo).port;
        p = await playThrough(page, `http://127.0.0.1:${port}/index.html?src=${encodeURIComponent(masters[ladder])}`);
        console.log(`[${ladder}] ${summary(p)}`);
      } finally {
        await page.close();
      }
    }, 60_000);

    it('lists the audio tracks with their languages and names, English selected', () => {
      expect(p.audioTracks).toEqual([
        expect.objectContaining({ name: 'English', lang: 'en', default: true, autoselect: true }),
        expect.objectContaining({ name: 'Français', lang: 'fr', default: false, autoselect: true }),
        expect.objectContaining({ name: "Director's commentary", lang: 'en', default: false, autoselect: false }),
      ]);
      expect(p.audioTrack).toBe(0);
    });

    it('hears each track by its tone, and switching mid-playback keeps the clock going', () => {
      expect(Math.abs(p.firstTone.hz - TRACK_TONES.english)).toBeLessThanOrEqual(TONE_TOLERANCE_HZ);
      expect(p.switches.map((s) => s.to)).toEqual([1, 2]);
      for (const [s, hz] of [
        [p.switches[0]!, TRACK_TONES.french],
        [p.switches[1]!, TRACK_TONES.commentary],
      ] as const) {
        expect(Math.abs(s.heard.hz - hz)).toBeLessThanOrEqual(TONE_TOLERANCE_HZ);
        // Heard within a couple of seconds of media time (hls.js swaps at a fragment boundary ahead).
        expect(s.heard.at - s.at).toBeLessThan(2.5);
      }
      expect(p.fatal).toBeNull();
      const after = (e: { wall: number }) => e.wall >= p.firstSwitchWall;
      // Alone, a switch gives no stall and no freeze at all (measured: 0 ms), and that is asserted on a machine
      // with cores to spare. On an overloaded one (the whole suite and more on 2 cores: load above the core
      // count) Chromium itself starves for CPU: a few short stalls are tolerated there, a long freeze never.
      const overloaded = loadavg()[0]! > cpus().length;
      const stalls = p.errors.filter(after).filter((e) => e.details === 'bufferStalledError');
      expect(stalls.length).toBeLessThanOrEqual(overloaded ? 3 : 1);
      expect(p.waiting.filter(after).length).toBeLessThanOrEqual(overloaded ? 3 : 1);
      const freeze = longestFreezeMs(p.clock, p.firstSwitchWall, FILM_SECONDS - 0.1);
      expect(freeze).toBeLessThan(overloaded ? 2000 : stalls.length ? 1000 : 500);
      // Media time over the switches kept pace with the wall clock.
      const clock = p.clock.filter(([wall]) => wall >= p.firstSwitchWall);
      const [w0, t0] = clock[0]!;
      const [w1, t1] = clock.at(-1)!;
      expect((t1 - t0) / ((w1 - w0) / 1000)).toBeGreaterThan(overloaded ? 0.5 : 0.8);
    });

    it('lists the subtitle tracks: English, French forced, the German sidecar', () => {
      expect(p.subtitleTracks).toEqual([
        expect.objectContaining({ name: 'English', lang: 'en', forced: false }),
        expect.objectContaining({ lang: 'fr', forced: true }),
        expect.objectContaining({ name: 'Deutsch', lang: 'de', forced: false }),
      ]);
      expect(p.textTracks).toContainEqual(['English', 'en', 'showing']);
    });

    it(`shows "${CUE_TEXT}" within 100 ms of ${CUE_START} s after the first frame`, () => {
      const cue = p.cues.find((c) => c.text === CUE_TEXT);
      expect(cue).toMatchObject({ track: 'English', mode: 'showing' });
      // Where the browser placed the cue, against the film's first picture (a wrong X-TIMESTAMP-MAP moves this).
      expect(Math.abs(cue!.start - p.firstFrame - CUE_START)).toBeLessThanOrEqual(0.1);
      // When it became active, against where it was placed.
      expect(Math.abs(cue!.at - cue!.start)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(cue!.at - p.firstFrame - CUE_START)).toBeLessThanOrEqual(0.1);
    });
  });
});

function summary(p: Playback): string {
  const cue = p.cues.find((c) => c.text === CUE_TEXT);
  const f = (n: number) => n.toFixed(3);
  return [
    `tones ${f(p.firstTone.hz)} Hz`,
    ...p.switches.map((s) => `→${s.to} at ${f(s.at)} s: ${f(s.heard.hz)} Hz at ${f(s.heard.at)} s`),
    `first frame ${p.firstFrame}`,
    cue ? `cue start ${f(cue.start)} active at ${f(cue.at)}` : 'cue not seen',
    `freeze ${longestFreezeMs(p.clock, p.firstSwitchWall, FILM_SECONDS - 0.1).toFixed(0)} ms`,
    `waiting ${JSON.stringify(p.waiting.map((w) => w.at))}`,
    `errors ${JSON.stringify(p.errors.map((e) => e.details))}`,
  ].join('; ');
}
