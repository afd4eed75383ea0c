/**
 * The segment grid of range runs (issue 12), shared by the worker (resume, part jobs) and the dev orchestrator
 * (where it cuts a film into parts): parts may start on any segment, but a range run's AUDIO starts on the
 * alignment step below (at or before the run's start; transcode/range-timing.ts).
 *
 * Every rendition shares segment_time T, so segment K starts at K*T in all of them. Audio is coded in frames
 * (AAC: 1024 samples at 48 kHz, AC-3/E-AC-3: 1536), and the hls muxer cuts audio segments on frame starts. A run
 * that starts at K*T reproduces the uninterrupted run's audio frame grid (and so its segment durations to the
 * sample) only when K*T*48000 is a whole number of frames: docs/design/resume-and-split-seams.md, Q1/"Boundaries".
 */

/** Sample rate of every audio rendition (transcode/args/common.ts AUDIO_SAMPLE_RATE). */
const RATE = 48_000;

/** Samples per coded frame: AAC-LC 1024; AC-3 and E-AC-3 1536. */
export const AUDIO_FRAME_SAMPLES = { aac: 1024, ac3: 1536, eac3: 1536 } as const;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The smallest step g >= 1 (in segments) such that every multiple of g is a boundary where each audio codec's
 * frame grid restarts: g*T*48000 is a multiple of every frame size. 1 for a ladder without audio. null when
 * T*48000 is not a whole number of samples (T = 4.00001): no boundary but 0 is exact, so resume and split are off.
 * Examples with AAC: T=4 -> 2, T=6 -> 4, T=2 -> 4, T=10 -> 4, T=1/3/5 -> 8.
 */
export function audioAlignmentStep(segmentTime: number, frameSizes: readonly number[] = [1024]): number | null {
  const samples = segmentTime * RATE;
  const whole = Math.round(samples);
  if (!(segmentTime > 0) || Math.abs(samples - whole) > 1e-6) return null;
  let step = 1;
  for (const frame of frameSizes) {
    // The multiples of `whole` that are multiples of `frame`: step frame/gcd(whole, frame); combined by lcm.
    const need = frame / gcd(whole, frame);
    step = (step * need) / gcd(step, need);
  }
  return step;
}

/** The largest multiple of step that is <= k (k itself when step is 1). */
export function alignDown(k: number, step: number): number {
  return Math.floor(k / step) * step;
}

/**
 * A container's duration can run past the picture by a little: the AAC priming (21 ms), an audio track a frame
 * longer, millisecond rounding. The hls muxer then writes a tiny tail segment in some renditions only. Such a tail
 * is not counted as a segment of the film: it belongs to the last part, which always runs to the film's end.
 */
const TAIL_SEC = 0.25;

/** Segments of a film of durationSec cut every segmentTime (the last one may be short; see TAIL_SEC). */
export function segmentCount(durationSec: number, segmentTime: number): number {
  return Math.max(1, Math.ceil((durationSec - TAIL_SEC) / segmentTime));
}

/**
 * `count` parts of a film as segment ranges [start, end) on the grid of `step` (1: any segment boundary, which
 * range runs allow: transcode/range-timing.ts): as equal as the grid allows (the larger ones first), none empty,
 * the first starting at 0 and the last ending at the film's last segment. Fewer parts come back when the film has
 * fewer grid cells than `count` (a short film is never cut into empty parts).
 */
export function partBoundaries(
  durationSec: number,
  segmentTime: number,
  count: number,
  step = 1,
): Array<{ start: number; end: number }> {
  const total = segmentCount(durationSec, segmentTime);
  const cells = Math.ceil(total / step);
  const parts = Math.max(1, Math.min(count, cells));
  // The larger parts first: workers take parts in order, so the shorter ones are what the first to finish picks up
  // last (longest-first scheduling; see bench/results.md), never a long one started late.
  const base = Math.floor(cells / parts);
  const larger = cells % parts;
  const cellStart = (i: number) => i * base + Math.min(i, larger);
  const out: Array<{ start: number; end: number }> = [];
  for (let i = 0; i < parts; i++) {
    const start = cellStart(i) * step;
    const end = i === parts - 1 ? total : cellStart(i + 1) * step;
    out.push({ start, end });
  }
  return out;
}
