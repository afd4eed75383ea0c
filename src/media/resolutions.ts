/**
 * The one table of resolution names, shared by the job's validation, the capability probe and payload, the
 * configuration's max_resolution cap and the dev orchestrator's fit check: a name one of them accepts, all accept.
 */

/** The names a worker declares as its max_resolution (and a config may cap it at), highest first. */
export const RESOLUTION_LABELS = ['2160p', '1440p', '1080p', '720p', '480p'] as const;
export type ResolutionLabel = (typeof RESOLUTION_LABELS)[number];

export interface Resolution {
  label: '2160p' | '1440p' | '1080p' | '720p';
  width: number;
  height: number;
}

/** The sizes a hardware encoder's test encode tries, highest first: the probe stops at the first one that encodes. */
export const PROBE_LADDER: readonly Resolution[] = [
  { label: '2160p', width: 3840, height: 2160 },
  { label: '1440p', width: 2560, height: 1440 },
  { label: '1080p', width: 1920, height: 1080 },
  { label: '720p', width: 1280, height: 720 },
];

/** Named output heights a job may ask for besides "<height>p" (compared lower-case: "4K" is "4k"). */
const NAMED_HEIGHTS: Readonly<Record<string, number>> = { '4k': 2160, '8k': 4320 };

/** Largest WxH side accepted (8K); anything above is a typo or an attack on memory. */
const MAX_SIDE = 7680;
/** Tallest "<height>p" accepted (8K). */
const MAX_HEIGHT = 4320;

export type RequestedResolution = { kind: 'height'; height: number } | { kind: 'size'; width: number; height: number };

/**
 * "720p" -> height 720 (any even height from 16p to 4320p: the usual 360p/720p/1080p, PAL's 576p, Apple's 432p and
 * 540p); "4K" -> 2160, "8K" -> 4320; "1280x720" -> size box. null when not one of those forms. An odd height is
 * refused rather than rounded: 4:2:0 video needs even sides, and "719p" is more likely a typo than a wish.
 */
export function parseResolution(value: string): RequestedResolution | null {
  const v = value.trim().toLowerCase();
  const named = Object.prototype.hasOwnProperty.call(NAMED_HEIGHTS, v) ? NAMED_HEIGHTS[v] : undefined;
  if (named) return { kind: 'height', height: named };
  const p = /^(\d{2,4})p$/.exec(v);
  if (p) {
    const height = Number(p[1]);
    return height >= 16 && height <= MAX_HEIGHT && height % 2 === 0 ? { kind: 'height', height } : null;
  }
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(v);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 16 || height < 16 || width > MAX_SIDE || height > MAX_SIDE) return null;
  return { kind: 'size', width, height };
}

/**
 * The height a resolution name stands for: "720p" -> 720, "4k" -> 2160, "1920x1080" -> 1080 (the shorter side, so
 * portrait video counts like landscape). Undefined for a name parseResolution refuses.
 */
export function resolutionHeight(value: string): number | undefined {
  const r = parseResolution(value);
  if (!r) return undefined;
  return r.kind === 'height' ? r.height : Math.min(r.width, r.height);
}
