/**
 * Seam checks for resumed and split/stitched ladders (issue 12): read a rendition folder (staged or committed) as a
 * player would and compare it with the uninterrupted run's. Generic: it takes folders, not plans, so black-box
 * tests (a resumed job, a stitched job) can compare their committed ladder against a fresh one.
 *
 *   segmentsOf(dir)               the rendition's segments in playlist order (or seg_*.ts|m4s by name without one)
 *   firstPtsOfSegments(dir)       per segment: min PTS (stream time base ticks), first packet key, packet count
 *   decodeRenditionAudio(dir)     the rendition's audio as a player is fed it (init + segments concatenated), PCM
 *   audioSeamCheck(ref, test, s)  sample count, click metric and samples off around sample s
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FFMPEG, FFPROBE } from './media.js';

const execFileP = promisify(execFile);

export interface RenditionSegments {
  /** Segment file names, in order. */
  files: string[];
  /** EXTINF per segment (undefined without a playlist). */
  durations: Array<number | undefined>;
  /** The fMP4 init (EXT-X-MAP URI, else init*.mp4 in the folder), relative to the folder. */
  map?: string;
}

/** A rendition's segments: from `playlist` when it exists, else every seg_* file by name. */
export async function segmentsOf(dir: string, playlist = 'stream.m3u8'): Promise<RenditionSegments> {
  let text: string | undefined;
  try {
    text = await readFile(path.join(dir, playlist), 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const files: string[] = [];
    const durations: Array<number | undefined> = [];
    let map: string | undefined;
    let pending: number | undefined;
    for (const line of text.split(/\r?\n/)) {
      const m = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
      if (m) map ??= m[1];
      else if (line.startsWith('#EXTINF:')) pending = Number(line.slice(8).split(',')[0]);
      else if (line && !line.startsWith('#')) {
        files.push(line);
        durations.push(pending);
        pending = undefined;
      }
    }
    return { files, durations, ...(map ? { map } : {}) };
  }
  const names = (await readdir(dir)).sort();
  const files = names.filter((n) => /^seg_\d+\.(ts|m4s)$/.test(n));
  const init = names.find((n) => /^init.*\.mp4$/.test(n));
  return { files, durations: files.map(() => undefined), ...(init ? { map: init } : {}) };
}

export interface SegmentPts {
  file: string;
  /** Smallest PTS of the segment's packets, in its stream's time base ticks. */
  firstPts: number;
  /** The first packet (decode order) is a keyframe. */
  startsOnKey: boolean;
  packets: number;
  keyframes: number;
}

/** The files a player reads for a rendition, in order: its init (fMP4) then every segment. */
async function playerFiles(
  dir: string,
  o: { playlist?: string; initFile?: string },
): Promise<{ init?: string; segments: string[] }> {
  const segs = await segmentsOf(dir, o.playlist);
  const init = o.initFile ?? (segs.map ? path.join(dir, segs.map) : undefined);
  return { ...(init ? { init } : {}), segments: segs.files.map((f) => path.join(dir, f)) };
}

/** ffmpeg's concat protocol: the files read back to back as one stream (what a player's demuxer is fed). */
function concatUrl(files: string[]): string {
  return `concat:${files.join('|')}`;
}

/**
 * Per segment of a rendition (one stream each, as the hls muxer writes them): first PTS, keyframe at the start,
 * packet count. Read in one ffprobe over init + all segments (as a player is fed them); packets are assigned to
 * segments by byte position. `initFile` replaces the rendition's own init (a joined ladder uses the first run's).
 */
export async function firstPtsOfSegments(
  dir: string,
  o: { playlist?: string; initFile?: string } = {},
): Promise<SegmentPts[]> {
  const { init, segments } = await playerFiles(dir, o);
  const files = [...(init ? [init] : []), ...segments];
  const ends: number[] = [];
  let total = 0;
  for (const f of files) ends.push((total += (await stat(f)).size));
  const { stdout } = await execFileP(
    FFPROBE,
    [
      '-v',
      'error',
      '-select_streams',
      '0',
      '-show_entries',
      'packet=pts,pos,flags',
      '-of',
      'csv=p=0',
      concatUrl(files),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const first = init ? 1 : 0;
  const out: SegmentPts[] = segments.map((f) => ({
    file: path.basename(f),
    firstPts: Infinity,
    startsOnKey: false,
    packets: 0,
    keyframes: 0,
  }));
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [pts, pos, flags] = line.split(',');
    const seg = out[ends.findIndex((end) => Number(pos) < end) - first];
    if (!seg) continue;
    const key = (flags ?? '').includes('K');
    if (seg.packets === 0) seg.startsOnKey = key;
    seg.packets++;
    if (key) seg.keyframes++;
    seg.firstPts = Math.min(seg.firstPts, Number(pts));
  }
  return out;
}

/** Signed 16-bit PCM at 48 kHz, per channel (left: the test tone, right: noise in the seam tests). */
export interface Pcm {
  left: Int16Array;
  right: Int16Array;
}

/** The rendition's audio decoded as a player is fed it: init (if any) + every segment, concatenated. */
export async function decodeRenditionAudio(
  dir: string,
  o: { playlist?: string; initFile?: string } = {},
): Promise<Pcm> {
  const { init, segments } = await playerFiles(dir, o);
  const { stdout: raw } = await execFileP(
    FFMPEG,
    [
      ...['-v', 'error', '-i', concatUrl([...(init ? [init] : []), ...segments])],
      ...['-map', '0:a:0', '-ac', '2', '-ar', '48000', '-f', 's16le', '-c:a', 'pcm_s16le', '-'],
    ],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const frames = Math.floor(raw.length / 4);
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = raw.readInt16LE(4 * i);
    right[i] = raw.readInt16LE(4 * i + 2);
  }
  return { left, right };
}

/** max |x[n+1] - 2x[n] + x[n-1]| over [from, to): a click shows as a spike far above a clean tone's. */
export function maxSecondDifference(x: Int16Array, from = 1, to = x.length - 1): number {
  let max = 0;
  for (let n = Math.max(1, from); n < Math.min(to, x.length - 1); n++) {
    const d = Math.abs(x[n + 1]! - 2 * x[n]! + x[n - 1]!);
    if (d > max) max = d;
  }
  return max;
}

export interface AudioSeamReport {
  refSamples: number;
  testSamples: number;
  /** Click metric on the tone channel within `window` samples of the seam, in the test and in the reference. */
  seamClick: number;
  refClick: number;
  /** Samples of the tone channel within the window that differ from the reference by more than 10 % FS. */
  samplesOff: number;
}

/**
 * Compares the tone channel (left) of a joined rendition with the reference around sample `seam` (its index in the
 * decoded PCM of both). Before the seam both come from the same segments, so any misalignment shows as samples off.
 */
export function audioSeamCheck(ref: Pcm, test: Pcm, seam: number, window = 2048): AudioSeamReport {
  const from = Math.max(1, seam - window);
  const to = Math.min(ref.left.length, test.left.length, seam + window);
  let off = 0;
  for (let n = from; n < to; n++) if (Math.abs(test.left[n]! - ref.left[n]!) > 3277) off++;
  return {
    refSamples: ref.left.length,
    testSamples: test.left.length,
    seamClick: maxSecondDifference(test.left, from, to),
    refClick: maxSecondDifference(ref.left, from, to),
    samplesOff: off,
  };
}
