/**
 * The ladder's output frame rate, and whether the fps filter must pin it.
 *
 * The hls output is constant-rate. Left to itself, ffmpeg makes it constant at the rate it guesses for the input
 * (av_guess_frame_rate: r_frame_rate, the rate every timestamp fits), while the plan's GOP, forced keyframes and
 * range-run timing count frames at `fps`. For a constant-rate source both are the same. For a variable-rate one
 * (phone videos, screen and game recordings) they are not: measured on a source with r_frame_rate 60 and an
 * average of 28 fps, ffmpeg wrote 60 fps while the plan counted 28, so a GOP ended every 1.87 s, and a range run
 * (which cuts the video at every keyframe) cut its part into 1.87 s segments that the stitch refused. So:
 *  - a variable-rate source is made constant at its nominal rate (r_frame_rate, snapped to the standard rate it
 *    is within 0.03 % of), pinned with the fps filter so that every ffmpeg version outputs that rate;
 *  - above the players' limit (60 fps) the picture is thinned to an integer fraction of it, as before;
 *  - a constant-rate source keeps its rate and no filter (the argv of every such job is unchanged).
 * An interlaced source whose r_frame_rate is its field rate (twice the average) is not variable-rate.
 */
import type { VideoStreamInfo } from './types.js';

/** Frame rate used when the source's is unknown or absurd. */
const FALLBACK_FPS = 25;
/** Above this the stated rate is taken for a timestamp artefact, not a picture rate. */
const MAX_SOURCE_FPS = 240;
/** Average and nominal rates further apart than this make a source variable-rate (29.97 against 30 is 0.1 %). */
const VARIABLE_RATE_TOLERANCE = 0.01;
/**
 * A nominal rate this close to a standard one is that one (r_frame_rate 180000/6007 is 29.97, 0.017 % off); well
 * under the 0.1 % between 60 and 59.94.
 */
const SNAP_TOLERANCE = 0.0003;
const STANDARD_RATES: readonly number[] = [
  24000 / 1001,
  24,
  25,
  30000 / 1001,
  30,
  48,
  50,
  60000 / 1001,
  60,
  100,
  120000 / 1001,
  120,
];

export interface FrameRatePlan {
  /** The output rate: what the GOP, the forced keyframes and the range runs count in. */
  fps: number;
  /** The rate the fps filter pins (absent: no filter, ffmpeg's own constant rate is `fps`). */
  fpsFilter?: number;
}

function near(a: number, b: number, tolerance: number): boolean {
  return Math.abs(a - b) <= tolerance * Math.max(a, b);
}

/** The nominal rate of a variable-rate source; undefined when the source is constant-rate (or states too little). */
export function variableRateNominal(
  video: Pick<VideoStreamInfo, 'fps' | 'baseFps' | 'interlaced'>,
): number | undefined {
  const { fps: avg, baseFps: base } = video;
  if (!(avg > 0) || base === undefined || !(base > 0) || base > MAX_SOURCE_FPS) return undefined;
  if (near(base, avg, VARIABLE_RATE_TOLERANCE)) return undefined;
  // The field rate of an interlaced stream (H.264 PAFF in broadcast TS): the picture rate is the average.
  if (near(base, 2 * avg, VARIABLE_RATE_TOLERANCE) && video.interlaced) return undefined;
  const snapped = STANDARD_RATES.find((r) => near(r, base, SNAP_TOLERANCE)) ?? base;
  // r_frame_rate below the average is no nominal rate (a broken header): keep the average.
  return snapped >= avg ? snapped : avg;
}

export function planFrameRate(
  video: Pick<VideoStreamInfo, 'fps' | 'baseFps' | 'interlaced'> | null,
  maxFrameRate: number,
): FrameRatePlan {
  const nominal = video ? variableRateNominal(video) : undefined;
  const sourceFps = nominal ?? (video && video.fps > 0 && video.fps <= MAX_SOURCE_FPS ? video.fps : FALLBACK_FPS);
  // Apple's players take at most 60 fps (HLS authoring spec 1.19): a 120 fps phone video plays at half its rate,
  // every other frame dropped, instead of being refused.
  const fps = sourceFps > maxFrameRate ? sourceFps / Math.ceil(sourceFps / maxFrameRate) : sourceFps;
  // Pinned: a variable-rate source, or a thinned one (not the fallback rate of a source that states none).
  const thinned = fps !== sourceFps && video?.fps === sourceFps;
  return { fps, ...(nominal !== undefined || thinned ? { fpsFilter: fps } : {}) };
}
