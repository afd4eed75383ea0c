/**
 * Pure geometry of the ladder: the source's display size (sample aspect ratio and rotation applied) and each
 * rendition's output size.
 *
 * Policy (README-ready):
 * - Never upscale. A rendition asked taller than the source is CLAMPED to the source size, not dropped: every
 *   dest_path the orchestrator asked for gets a playable rendition, so its links never point at a missing folder.
 *   Two renditions may then have the same size; both are kept (each in its own folder).
 * - "720p" means the SHORT side is 720: a landscape 16:9 source gives 1280x720, a portrait phone video (1080x1920
 *   displayed) gives 720x1280. Portrait stays portrait.
 * - "WxH" is a box: the picture is fitted inside it keeping the display aspect ratio (never stretched, never
 *   larger than the source).
 * - Output pixels are square (setsar=1 after scaling) and both sides are even (4:2:0 chroma needs it).
 */
import type { RequestedResolution } from '../media/resolutions.js';
import type { VideoStreamInfo } from './types.js';

export interface Size {
  width: number;
  height: number;
}

/** The size the picture is shown at: width x SAR, then sides swapped for a 90/270 degree rotation. */
export function displaySize(video: Pick<VideoStreamInfo, 'width' | 'height' | 'sarNum' | 'sarDen' | 'rotation'>): Size {
  const sar = video.sarNum > 0 && video.sarDen > 0 ? video.sarNum / video.sarDen : 1;
  const width = video.width * sar;
  const height = video.height;
  return video.rotation === 90 || video.rotation === 270 ? { width: height, height: width } : { width, height };
}

/** Largest even number <= n (at least 2). */
export function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2 + 1e-9) * 2);
}

/** Nearest even number (at least 2). */
export function evenRound(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** One side fixed (already even), the other from the aspect ratio, capped at the source's. */
function fromSide(fixed: number, ratioOtherOverFixed: number, otherCap: number): number {
  return Math.min(evenRound(fixed * ratioOtherOverFixed), evenFloor(otherCap));
}

export function fitRendition(req: RequestedResolution, display: Size): Size & { clamped: boolean } {
  const { width: dw, height: dh } = display;
  if (req.kind === 'height') {
    const portrait = dh > dw;
    const short = portrait ? dw : dh;
    const long = portrait ? dh : dw;
    const clamped = req.height > short;
    const outShort = evenFloor(Math.min(req.height, short));
    const outLong = fromSide(outShort, long / short, long);
    return portrait ? { width: outShort, height: outLong, clamped } : { width: outLong, height: outShort, clamped };
  }
  const clamped = req.width > dw && req.height > dh;
  const scale = Math.min(req.width / dw, req.height / dh, 1);
  // The side that touches the box (or the source) is the exact one; the other follows the aspect ratio.
  if (req.width / dw <= req.height / dh) {
    const w = evenFloor(dw * scale);
    return { width: w, height: fromSide(w, dh / dw, Math.min(dh * scale + 1, req.height, dh)), clamped };
  }
  const h = evenFloor(dh * scale);
  return { width: fromSide(h, dw / dh, Math.min(dw * scale + 1, req.width, dw)), height: h, clamped };
}
