/**
 * Cuts one whole WebVTT track into the segments of an HLS subtitle rendition that follow the video's segments,
 * and writes its media playlist. Pure: text and numbers in, text out (the file work is subtitle-rendition.ts).
 *
 * Timing model. The whole file's local clock is ffmpeg's output timeline (source timestamps minus the source's
 * start time), which is also the clock the encoder gives the video frames before the hls muxer shifts them.
 * `mpegts` is the video's 90 kHz media timestamp at local time 0: X-TIMESTAMP-MAP tells players exactly that,
 * so a cue at local time L shows with the video frame stamped mpegts + L * 90000 (hls.js: webvtt-parser.ts).
 * Segment i covers the local times [videoStart + sum(d[0..i-1]), videoStart + sum(d[0..i])), the first segment
 * starting where the first video frame is, like the video's own playlist. A cue is written, with its original
 * times, into every segment it overlaps (HLS wants a cue that spans a boundary in both; players de-duplicate),
 * and every segment is written, empty or not, because players fetch them all.
 */
import { formatCue, formatVttTimestamp, parseWebVtt, type VttCue } from './webvtt-cues.js';

/** 90 kHz timestamps are 33-bit (ISO/IEC 13818-1). */
const PTS_WRAP = 2 ** 33;

export interface SegmentWebVttOptions {
  /** The video's 90 kHz timestamp at local time 0 of the WebVTT (see media-start-time.ts). May be negative. */
  mpegts: number;
  /**
   * Local time (seconds) of the first video frame, where segment 0 starts. 0 for ffmpeg's default frame-rate
   * mode of the hls muxer (cfr duplicates the first frame back to 0); with -fps_mode vfr/passthrough it is the
   * source video's start_time minus the source's start_time.
   */
  videoStartSec?: number;
}

export interface SegmentedWebVtt {
  /** One WebVTT file per video segment, in order. */
  segments: string[];
  /** Distinct cues written (a cue repeated in two segments counts once); 0 means the track has nothing to show. */
  cueCount: number;
  warnings: string[];
}

/** The video's 90 kHz timestamp at WebVTT local time 0, from its first frame's timestamp and local time. */
export function mpegtsAtLocalZero(firstVideoPts90k: number, videoStartSec = 0): number {
  return firstVideoPts90k - videoStartSec * 90_000;
}

/**
 * The X-TIMESTAMP-MAP header line. MPEGTS is an unsigned 33-bit value, so when the video's clock is negative at
 * local 0 (an fMP4 video that starts at 0 while the first frame sits later on the WebVTT clock) the same mapping
 * is written with a LOCAL time > 0 instead: LOCAL:l maps to MPEGTS:m exactly when 0 maps to m - l * 90000.
 */
export function timestampMapLine(mpegts: number): string {
  if (mpegts >= 0) {
    return `X-TIMESTAMP-MAP=MPEGTS:${Math.round(mpegts) % PTS_WRAP},LOCAL:${formatVttTimestamp(0)}`;
  }
  const localMs = Math.ceil(-mpegts / 90);
  return `X-TIMESTAMP-MAP=MPEGTS:${Math.round(mpegts + localMs * 90)},LOCAL:${formatVttTimestamp(localMs)}`;
}

/** Segment boundaries in microseconds of local time (integers, so thousands of segments add up without drift). */
function boundariesUs(durations: readonly number[], startSec: number, warnings: string[]): number[] {
  const out = [Math.round(startSec * 1e6)];
  let bad = 0;
  for (const d of durations) {
    const ok = Number.isFinite(d) && d >= 0;
    if (!ok) bad++;
    out.push(out[out.length - 1]! + (ok ? Math.round(d * 1e6) : 0));
  }
  if (bad) warnings.push(`${bad} segment durations that are not a number >= 0 counted as 0`);
  return out;
}

/** Index of the last boundary <= t (binary search; boundaries ascend). -1 when t is before the first. */
function lastAtOrBefore(bounds: readonly number[], t: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  if (t < bounds[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Cuts a whole WebVTT file into one file per video segment. Never throws; problems come back as warnings. */
export function segmentWebVtt(
  fullVtt: string,
  segmentDurations: readonly number[],
  opts: SegmentWebVttOptions,
): SegmentedWebVtt {
  const parsed = parseWebVtt(typeof fullVtt === 'string' ? fullVtt : '');
  const warnings = [...parsed.warnings];
  const bounds = boundariesUs(segmentDurations, opts.videoStartSec ?? 0, warnings);
  const count = segmentDurations.length;
  const perSegment: VttCue[][] = Array.from({ length: count }, () => []);
  const cues = parsed.cues
    .map((c, order) => ({ c, order }))
    .sort((a, b) => a.c.startMs - b.c.startMs || a.order - b.order);
  let cueCount = 0;
  let outside = 0;
  for (const { c } of cues) {
    const startUs = c.startMs * 1000;
    const endUs = c.endMs * 1000;
    // Segments [first, last] are those with bounds[i] < end and bounds[i + 1] > start.
    const first = Math.max(0, lastAtOrBefore(bounds, startUs));
    const last = Math.min(count - 1, lastAtOrBefore(bounds, endUs - 1));
    if (count === 0 || endUs <= bounds[0]! || startUs >= bounds[count]! || last < first) {
      outside++;
      continue;
    }
    for (let i = first; i <= last; i++) perSegment[i]!.push(c);
    cueCount++;
  }
  if (outside) warnings.push(`${outside} cues outside the video's time span left out`);
  if (count === 0) warnings.push('the video has no segments');
  if (cueCount === 0) warnings.push('no valid cue: the track has nothing to show');

  const header = `WEBVTT\n${timestampMapLine(opts.mpegts)}\n\n`;
  const segments = perSegment.map((list) => header + list.map((c) => `${formatCue(c)}\n`).join('\n'));
  return { segments, cueCount, warnings };
}

/** The subtitle rendition's media playlist: the video's EXTINF durations and target duration, VOD, complete. */
export function subtitleMediaPlaylist(
  segmentDurations: readonly number[],
  targetDuration: number,
  segmentName: (i: number) => string,
): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.round(targetDuration))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  segmentDurations.forEach((d, i) => lines.push(`#EXTINF:${Math.max(0, d).toFixed(6)},`, segmentName(i)));
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** seg_00000.vtt, seg_00001.vtt, ...: the video segments' pattern with the WebVTT extension. */
export function defaultSubtitleSegmentName(i: number): string {
  return `seg_${String(i).padStart(5, '0')}.vtt`;
}
