/**
 * Subtitle cue timing of segmented WebVTT renditions, end to end with real ffmpeg 5.1, checked against the picture.
 *
 * Each source flashes white from the moment each subtitle cue starts (drawbox over testsrc2). The ladder (two video
 * rungs and an audio rendition in one hls muxer) and the whole WebVTT come out of ONE ffmpeg run, as the pipeline
 * makes them; writeSubtitleRendition cuts the WebVTT. A cue is on time when hls.js would start it at the media time
 * where the first white picture of its flash is presented. That picture is found by decoding the staged segments,
 * and its timestamp read from the segment bytes; hls.js's arithmetic is reimplemented below from its source
 * (hls.js 1.7.4, node_modules/hls.js/src), so the test needs no browser and no knowledge of ffmpeg's timeline.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earliestPts, fmp4VideoTimes, tsVideoTimes, type SampleTime } from '../../src/storage/media-start-time.js';
import { writeSubtitleRendition } from '../../src/storage/subtitle-rendition.js';
import { parseWebVtt } from '../../src/storage/webvtt-cues.js';
import { FFMPEG, makeTempDir, probeJson, removeDir, runFfmpeg } from '../helpers/media.js';

const execFileP = promisify(execFile);

// ------------------------------------------------------------------ hls.js arithmetic (hls.js 1.7.4)

/**
 * initPTS of the main (video) playlist, 90 kHz, from the first video fragment (frag.start 0).
 *  - TS, src/remux/mp4-remuxer.ts MP4Remuxer.generateIS: with no audio in the video segments,
 *    initPTS = computeInitPts(first video DTS, 90000, timeOffset) = first DTS − timeOffset·90000 (videoInitDTS,
 *    because isVideoContiguous is still false on the first fragment); timeOffset = frag.start = 0.
 *  - fMP4, src/remux/passthrough-remuxer.ts PassThroughRemuxer.remux: initPTS = baseOffsetSamples.start −
 *    timeOffset·timescale, start being the first video traf's tfdt (utils/mp4-tools.ts parseSampleData).
 * Either way: the decode time of the first sample of the first segment, which is samples[0].dts90k here.
 */
function hlsInitPts90k(firstSegment: readonly SampleTime[]): number {
  return firstSegment[0]!.dts90k;
}

/**
 * Media element time of a picture presented at pts90k. src/controller/base-stream-controller.ts
 * bufferFragmentData sets SourceBuffer.timestampOffset = −initPTS.baseTime / initPTS.timescale, and both remuxers
 * keep the media's own timestamps (mp4-remuxer writes firstDTS into the moof; passthrough appends as is), so the
 * picture plays at pts/90000 − initPTS/90000 (fMP4 pts after Chromium's edit-list rule, see media-start-time.ts).
 */
function hlsMediaTime(pts90k: number, initPts90k: number): number {
  return (pts90k - initPts90k) / 90_000;
}

/**
 * Start of a cue in media element time. src/utils/webvtt-parser.ts parseWebVTT, parser.oncue:
 *   webVttMpegTsMapOffset = (timestampMapMPEGTS − init90kHz) / 90000
 *   cueOffset = webVttMpegTsMapOffset − vttCCs.presentationOffset (0), or vttCCs.ccOffset (0 for cc 0) when the
 *     offset is 0
 *   startTime = normalizePts((cue.startTime + cueOffset − timestampMapLOCAL) · 90000, timeOffset · 90000) / 90000
 *   cue.startTime = max(startTime, 0)
 * normalizePts (remux/mp4-remuxer.ts) only undoes 33-bit wraps, which these timestamps are far from.
 */
function hlsCueStart(cueStartSec: number, map: { mpegts: number; localSec: number }, initPts90k: number): number {
  const cueOffset = (map.mpegts - initPts90k) / 90_000 || 0;
  return Math.max(cueStartSec + cueOffset - map.localSec, 0);
}

// ------------------------------------------------------------------ sources and ladders

const CUES = [
  { at: 1.0, text: 'one' },
  { at: 3.6, text: 'two' },
  { at: 6.2, text: 'three' },
];
const DURATION = 8;

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('tw-webvtt-');
});
afterAll(() => removeDir(dir));

const srtTime = (s: number) => {
  const ms = Math.round(s * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)},${p(ms % 1000, 3)}`;
};

async function writeSrt(file: string, shiftSec: number): Promise<string> {
  const blocks = CUES.map(
    (c, i) => `${i + 1}\n${srtTime(c.at + shiftSec)} --> ${srtTime(c.at + shiftSec + 0.5)}\n${c.text}\n`,
  );
  await writeFile(file, blocks.join('\n'));
  return file;
}

type SourceKind = 'mkv' | 'mpegts' | 'early-audio';

/**
 * testsrc2 flashing white at each cue, a sine, and the cues as SubRip: inside an MKV (language eng), or beside an
 * MPEG-TS (whose timestamps start near 1.4 s) as Movie.en.srt, or in an MKV whose video starts 0.2 s after the audio.
 */
async function makeSource(kind: SourceKind): Promise<{ file: string; sidecar?: string }> {
  const shift = kind === 'early-audio' ? 0.2 : 0;
  const flashes = CUES.map((c) => `between(t,${c.at - 0.01},${c.at + 0.3})`).join('+');
  const video = `testsrc2=size=160x90:rate=25:duration=${DURATION},drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='${flashes}'`;
  const srt = await writeSrt(path.join(dir, `${kind}.srt`), shift);
  const inputs = [
    ...(shift ? ['-itsoffset', String(shift)] : []),
    ...[
      '-f',
      'lavfi',
      '-i',
      video,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${DURATION + shift}`,
    ],
  ];
  const codecs = ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'];
  if (kind === 'mpegts') {
    const file = path.join(dir, 'Movie.ts');
    await runFfmpeg([...inputs, '-map', '0:v', '-map', '1:a', ...codecs, '-f', 'mpegts', file]);
    const sidecar = path.join(dir, 'Movie.en.srt');
    await writeFile(sidecar, await readFile(srt));
    return { file, sidecar };
  }
  const file = path.join(dir, `${kind}.mkv`);
  await runFfmpeg([
    ...inputs,
    '-i',
    srt,
    ...['-map', '0:v', '-map', '1:a', '-map', '2:s', ...codecs, '-c:s', 'srt'],
    ...['-metadata:s:s:0', 'language=eng', file],
  ]);
  return { file };
}

interface Ladder {
  root: string;
  type: 'ts' | 'fmp4';
  vtt: string;
  /** Decoded once per ladder (rungPictures). */
  pictures?: { flashes: number[]; initPts90k: number };
}

/**
 * The ladder and the whole WebVTT in one ffmpeg run, as the pipeline runs it: two rungs and the audio as its own
 * rendition in one hls muxer, keyframes forced on the segment boundaries, and the subtitle stream as an extra
 * webvtt output. A sidecar is converted by its own small run instead.
 */
async function makeLadder(
  name: string,
  src: { file: string; sidecar?: string },
  type: 'ts' | 'fmp4',
  extra: string[] = [],
): Promise<Ladder> {
  const root = path.join(dir, name);
  const vtt = path.join(root, '.subs', '0.vtt');
  await mkdir(path.dirname(vtt), { recursive: true });
  const ext = type === 'fmp4' ? 'm4s' : 'ts';
  const subtitles = src.sidecar ? [] : ['-map', '0:s:0', '-c:s', 'webvtt', '-f', 'webvtt', vtt];
  await runFfmpeg([
    ...['-i', src.file, '-filter_complex', '[0:v]split=2[a][b];[a]scale=160:90[v0];[b]scale=96:54[v1]'],
    ...['-map', '[v0]', '-map', '[v1]', '-map', '0:a:0', ...extra],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-keyint_min', '50'],
    ...['-force_key_frames', 'expr:gte(t,n_forced*2)', '-c:a', 'aac', '-b:a', '64k'],
    ...['-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments'],
    ...['-hls_segment_type', type === 'fmp4' ? 'fmp4' : 'mpegts'],
    ...(type === 'fmp4' ? ['-hls_fmp4_init_filename', 'init.mp4'] : []),
    ...['-hls_segment_filename', `${root}/%v/seg_%05d.${ext}`, '-master_pl_name', 'master.m3u8'],
    ...['-var_stream_map', 'v:0,agroup:aud,name:v0 v:1,agroup:aud,name:v1 a:0,agroup:aud,name:a0'],
    `${root}/%v/stream.m3u8`,
    ...subtitles,
  ]);
  if (src.sidecar) await runFfmpeg(['-i', src.sidecar, '-c:s', 'webvtt', '-f', 'webvtt', vtt]);
  return { root, type, vtt };
}

// ------------------------------------------------------------------ what the picture says

async function mediaPlaylist(file: string): Promise<HLS.types.MediaPlaylist> {
  return HLS.parse(await readFile(file, 'utf8')) as HLS.types.MediaPlaylist;
}

/** Sample times of a rung's segments (fMP4: Chromium's edit-list rule applied to pts), segment by segment. */
async function rungSamples(rungDir: string, type: 'ts' | 'fmp4') {
  const pl = await mediaPlaylist(path.join(rungDir, 'stream.m3u8'));
  const init = pl.segments[0]!.map ? await readFile(path.join(rungDir, pl.segments[0]!.map.uri)) : undefined;
  const segments = await Promise.all(pl.segments.map((s) => readFile(path.join(rungDir, s.uri))));
  const perSegment = segments.map((seg) => {
    if (type === 'ts') return tsVideoTimes(seg);
    const t = fmp4VideoTimes(init!, seg)!;
    return t.samples.map((s) => ({ pts90k: s.pts90k + t.editShiftChromium90k, dts90k: s.dts90k }));
  });
  return { init, segments, perSegment, firstPts90k: earliestPts(perSegment[0]!)! };
}

/** Every picture of a rung in presentation order: its 90 kHz time and whether it is white; hls.js's initPTS. */
async function rungPictures(rungDir: string, type: 'ts' | 'fmp4') {
  const { init, segments, perSegment } = await rungSamples(rungDir, type);
  const pts = perSegment.flat().map((s) => s.pts90k);
  pts.sort((a, b) => a - b);
  // Decode the same bytes (init + segments) and tell white pictures from testsrc2 ones.
  const joined = path.join(rungDir, `joined.${type === 'fmp4' ? 'mp4' : 'ts'}`);
  await writeFile(joined, Buffer.concat([...(init ? [init] : []), ...segments]));
  const { stdout } = await execFileP(
    FFMPEG,
    ['-v', 'error', '-i', joined, '-vf', 'scale=4:4,format=gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const bright: boolean[] = [];
  for (let off = 0; off + 16 <= stdout.length; off += 16)
    bright.push(stdout.subarray(off, off + 16).every((v) => v > 200));
  expect(bright.length, 'every picture decoded is one sample read from the bytes').toBe(pts.length);
  const flashes = pts.filter((_, i) => bright[i] && !bright[i - 1]);
  return { flashes, initPts90k: hlsInitPts90k(perSegment[0]!) };
}

/** hls.js start times of the cues in a rendition's segments (each distinct cue once), by text. */
async function hlsCueStarts(outDir: string, initPts90k: number): Promise<Map<string, number>> {
  const pl = await mediaPlaylist(path.join(outDir, 'stream.m3u8'));
  const starts = new Map<string, number>();
  for (const s of pl.segments) {
    const text = await readFile(path.join(outDir, s.uri), 'utf8');
    const m = /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:(\d+),LOCAL:(\d+):(\d\d):(\d\d\.\d{3})\n/.exec(text);
    expect(m, `${s.uri} starts with WEBVTT and X-TIMESTAMP-MAP`).not.toBeNull();
    const map = { mpegts: Number(m![1]), localSec: Number(m![2]) * 3600 + Number(m![3]) * 60 + Number(m![4]) };
    for (const cue of parseWebVtt(text).cues) {
      starts.set(cue.lines.join('\n'), hlsCueStart(cue.startMs / 1000, map, initPts90k));
    }
  }
  return starts;
}

/** Cuts the ladder's WebVTT and returns, per cue, how far hls.js would start it from its flash (seconds). */
async function cueErrors(ladder: Ladder, videoStartSec?: number) {
  const outDir = path.join(ladder.root, 's0');
  const result = await writeSubtitleRendition({
    fullVttPath: ladder.vtt,
    outDir,
    videoPlaylistPath: path.join(ladder.root, 'v0', 'stream.m3u8'),
    segmentType: ladder.type,
    videoStartSec,
  });
  const video = await mediaPlaylist(path.join(ladder.root, 'v0', 'stream.m3u8'));
  const subs = await mediaPlaylist(path.join(outDir, 'stream.m3u8'));
  expect(subs.segments.map((s) => s.duration)).toEqual(video.segments.map((s) => s.duration));
  expect(subs.targetDuration).toBe(video.targetDuration);
  expect(result.files).toHaveLength(video.segments.length + 1);
  expect(result.cueCount).toBe(CUES.length);

  ladder.pictures ??= await rungPictures(path.join(ladder.root, 'v0'), ladder.type);
  const { flashes, initPts90k } = ladder.pictures;
  expect(flashes).toHaveLength(CUES.length);
  // The other rung came out of the same muxer: same clock.
  const [v0, v1] = await Promise.all(['v0', 'v1'].map((v) => rungSamples(path.join(ladder.root, v), ladder.type)));
  expect(v1!.firstPts90k).toBe(v0!.firstPts90k);

  const starts = await hlsCueStarts(outDir, initPts90k);
  const errors = CUES.map((c, i) => starts.get(c.text)! - hlsMediaTime(flashes[i]!, initPts90k));
  return { errors, warnings: result.warnings, mpegts: result.mpegts };
}

/** Within one picture (40 ms at 25 fps) and well within the 100 ms the issue asks for. */
const TOLERANCE = 0.045;

describe.concurrent('cue timing in hls.js matches the picture', () => {
  const sources = new Map<SourceKind, Promise<{ file: string; sidecar?: string }>>();
  const source = (kind: SourceKind) => {
    if (!sources.has(kind)) sources.set(kind, makeSource(kind));
    return sources.get(kind)!;
  };

  const cases: Array<[SourceKind, 'ts' | 'fmp4', string[]?]> = [
    ['mkv', 'ts'],
    ['mkv', 'fmp4'],
    ['mpegts', 'ts'],
    ['mpegts', 'fmp4'],
    ['early-audio', 'ts'],
    ['early-audio', 'fmp4'],
    // Signed composition offsets (trun version 1): ffmpeg then opens the edit list with an empty edit of the
    // B-frame delay, which Chromium ignores and Safari/Firefox apply; cues follow Chromium and a warning says so.
    ['mkv', 'fmp4', ['-hls_segment_options', 'movflags=+negative_cts_offsets']],
  ];
  for (const [kind, type, extra] of cases) {
    it(`${kind} source, ${type} segments ${extra?.join(' ') ?? ''}`, async () => {
      const ladder = await makeLadder(`${kind}-${type}${extra ? '-x' : ''}`, await source(kind), type, extra);
      const { errors, warnings } = await cueErrors(ladder);
      if (extra) expect(warnings).toEqual([expect.stringMatching(/80 ms apart in Chromium and in Safari\/Firefox/)]);
      else expect(warnings).toEqual([]);
      for (const e of errors) expect(Math.abs(e)).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('with -fps_mode vfr the first frame keeps its late start: videoStartSec from ffprobe puts cues right', async () => {
    const src = await source('early-audio');
    const probe = await probeJson(src.file);
    const videoStart = Number(probe.streams.find((s) => s.codec_type === 'video')!.start_time);
    const videoStartSec = videoStart - Number(probe.format.start_time);
    expect(videoStartSec).toBeGreaterThan(0.19);

    const ts = await makeLadder('vfr-ts', src, 'ts', ['-fps_mode:v', 'vfr']);
    const onTs = await cueErrors(ts, videoStartSec);
    for (const e of onTs.errors) expect(Math.abs(e)).toBeLessThanOrEqual(TOLERANCE);
    // Left at 0, every cue would come as late as the video starts late.
    expect((await cueErrors(ts, 0)).errors[0]).toBeGreaterThan(0.15);

    // fMP4: ffmpeg writes the late start as an empty edit, which Chromium ignores and Safari/Firefox apply.
    const fmp4 = await makeLadder('vfr-fmp4', src, 'fmp4', ['-fps_mode:v', 'vfr']);
    const onFmp4 = await cueErrors(fmp4, videoStartSec);
    for (const e of onFmp4.errors) expect(Math.abs(e)).toBeLessThanOrEqual(TOLERANCE);
    expect(onFmp4.warnings.join('\n')).toMatch(/apart in Chromium and in Safari\/Firefox/);
  });
});

describe('what ffmpeg leaves of styled subtitles, cleaned', () => {
  it('ASS: bold/italic/underline survive as WebVTT tags; positions, colours, fonts, drawings and \\h do not', async () => {
    const ass = path.join(dir, 'styled.ass');
    await writeFile(
      ass,
      [
        '[Script Info]',
        'ScriptType: v4.00+',
        '',
        '[V4+ Styles]',
        'Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Italic, Alignment',
        'Style: Default,Arial,16,&Hffffff,0,0,2',
        '',
        '[Events]',
        'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
        'Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\b1}Bold{\\b0} and {\\i1}italic{\\i0}',
        'Dialogue: 0,0:00:02.50,0:00:03.00,Default,,0,0,0,,{\\an8}Top line\\NSecond line',
        'Dialogue: 0,0:00:03.50,0:00:04.50,Default,,0,0,0,,{\\pos(100,50)}{\\c&H0000FF&}Red positioned',
        'Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\u1}Under{\\u0} --> arrow < & >',
        'Dialogue: 0,0:00:06.50,0:00:07.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}',
        'Dialogue: 0,0:00:07.00,0:00:07.50,Default,,0,0,0,,Hard\\hspace {\\fnComic Sans}font',
        '',
      ].join('\n'),
    );
    const vtt = path.join(dir, 'styled.vtt');
    await runFfmpeg(['-i', ass, '-c:s', 'webvtt', '-f', 'webvtt', vtt]);
    const raw = await readFile(vtt, 'utf8');
    // What the encoder itself leaves: the raw arrow (which would end the cue) and the drawing's path.
    expect(raw).toContain('<u>Under</u> --> arrow < & >');
    expect(raw).toContain('m 0 0 l 100 0 100 100 0 100');
    const { cues, warnings } = parseWebVtt(raw);
    expect(cues.map((c) => [c.startMs, c.lines])).toEqual([
      [1000, ['<b>Bold</b> and <i>italic</i>']],
      [2500, ['Top line', 'Second line']],
      [3500, ['Red positioned']],
      [5000, ['<u>Under</u> --&gt; arrow &lt; &amp; >']],
      [7000, ['Hard\u00a0space font']],
    ]);
    expect(warnings).toEqual(['1 cues without text skipped (first: "00:06.500 --> 00:07.000")']);
  });

  it('SubRip with {\\an8} and <font>: the encoder drops both; a malformed block becomes escaped text', async () => {
    const srt = path.join(dir, 'tags.srt');
    await writeFile(
      srt,
      '1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<font color="#ff0000">Red top</font>\n\n' +
        'garbage line\n00:00:0x,000 --> nope\n\n3\n00:00:04,000 --> 00:00:05,000\nLast\n',
    );
    const vtt = path.join(dir, 'tags.vtt');
    await runFfmpeg(['-i', srt, '-c:s', 'webvtt', '-f', 'webvtt', vtt]);
    const { cues } = parseWebVtt(await readFile(vtt, 'utf8'));
    expect(cues.map((c) => c.lines)).toEqual([['Red top', 'garbage line', '00:00:0x,000 --&gt; nope'], ['Last']]);
  });
});

describe('writeSubtitleRendition with bad input', () => {
  it('an empty, garbage or missing WebVTT writes nothing and says why; an unreadable video playlist throws', async () => {
    const root = path.join(dir, 'bad-input');
    await mkdir(root, { recursive: true });
    await runFfmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=25:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast'],
      ...['-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', path.join(root, 'video.m3u8')],
    ]);
    const args = {
      outDir: path.join(root, 's0'),
      videoPlaylistPath: path.join(root, 'video.m3u8'),
      segmentType: 'ts' as const,
    };
    await writeFile(path.join(root, 'empty.vtt'), '');
    await writeFile(path.join(root, 'garbage.vtt'), 'WEBVTT\n\nnot a cue\n\n00:0x --> soon\nnope\n');
    for (const name of ['empty.vtt', 'garbage.vtt', 'missing.vtt']) {
      const r = await writeSubtitleRendition({ ...args, fullVttPath: path.join(root, name) });
      expect(r).toMatchObject({ files: [], cueCount: 0 });
      expect(r.warnings).toContain('no valid cue: the track has nothing to show');
    }
    await expect(
      writeSubtitleRendition({
        ...args,
        fullVttPath: path.join(root, 'empty.vtt'),
        videoPlaylistPath: path.join(root, 'nope.m3u8'),
      }),
    ).rejects.toThrow(/video playlist .*nope\.m3u8 cannot be read/);
  });
});
