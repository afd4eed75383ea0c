/**
 * Does a job fit a worker? Pure functions, used by the dev orchestrator's assignment and shown in its docs as the
 * rule a real orchestrator should apply at least.
 *
 * Rule: every output's codec is either verified on the worker, or is a hardware encoder whose software
 * equivalent the worker has (the worker falls back to software when allow_software_fallback is on), and the
 * job's largest output resolution is at most the worker's max_resolution whenever both can be read.
 */
import type { Capabilities, Job } from '../protocol/schemas.js';

/** Hardware encoder name prefix -> the software encoder a worker falls back to. */
const SOFTWARE_EQUIVALENT: ReadonlyArray<readonly [prefix: string, software: string]> = [
  ['h264_', 'libx264'],
  ['hevc_', 'libx265'],
];

const NAMED_HEIGHTS: Record<string, number> = {
  '4k': 2160,
  uhd: 2160,
  '2k': 1440,
  qhd: 1440,
  fhd: 1080,
  hd: 720,
  sd: 480,
};

/** The software encoder a hardware encoder falls back to, or undefined (already software, or unknown family). */
export function softwareEquivalent(codec: string): string | undefined {
  for (const [prefix, software] of SOFTWARE_EQUIVALENT) if (codec.startsWith(prefix)) return software;
  return undefined;
}

/**
 * "720p" -> 720, "4k" -> 2160, "1920x1080" -> 1080 (the shorter side, so portrait video counts like landscape).
 * Undefined when the text cannot be read: the fit check then does not block on resolution.
 */
export function resolutionHeight(resolution: string): number | undefined {
  const text = resolution.trim().toLowerCase();
  if (text in NAMED_HEIGHTS) return NAMED_HEIGHTS[text];
  const p = /^(\d{3,4})[pi]$/.exec(text);
  if (p) return Number(p[1]);
  const wh = /^(\d{2,5})\s*[x×:]\s*(\d{2,5})$/.exec(text);
  if (wh) return Math.min(Number(wh[1]), Number(wh[2]));
  return undefined;
}

export function codecFits(codec: string, caps: Capabilities): boolean {
  if (caps.supported_codecs.includes(codec)) return true;
  const software = softwareEquivalent(codec);
  return software !== undefined && caps.supported_codecs.includes(software);
}

/** Null when the job fits the worker, else a sentence saying why not (shown in GET /api/v1/jobs/:id). */
export function explainMisfit(job: Job, caps: Capabilities): string | null {
  for (const out of job.outputs) {
    if (!codecFits(out.codec, caps)) {
      const software = softwareEquivalent(out.codec);
      return `codec ${out.codec}${software ? ` (or ${software})` : ''} is not supported`;
    }
  }
  const workerMax = resolutionHeight(caps.max_resolution);
  if (workerMax === undefined) return null;
  for (const out of job.outputs) {
    const h = resolutionHeight(out.resolution);
    if (h !== undefined && h > workerMax)
      return `resolution ${out.resolution} exceeds max_resolution ${caps.max_resolution}`;
  }
  return null;
}

export function jobFits(job: Job, caps: Capabilities): boolean {
  return explainMisfit(job, caps) === null;
}
