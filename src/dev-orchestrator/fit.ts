/**
 * Does a job fit a worker? Pure functions, used by the dev orchestrator's assignment and shown in its docs as the
 * rule a real orchestrator should apply at least.
 *
 * Rule: every output's codec is either verified on the worker, or is a hardware encoder whose software
 * equivalent the worker has (the worker falls back to software when allow_software_fallback is on), and the
 * job's largest output resolution is at most the worker's max_resolution whenever both can be read. Encoder and
 * resolution names are read with the worker's own tables, so a job the worker would refuse never fits.
 */
import { JOB_VIDEO_ENCODERS, softwareEquivalentOf } from '../capabilities/encoder-table.js';
import { resolutionHeight } from '../media/resolutions.js';
import type { Capabilities, Job } from '../protocol/schemas.js';

/**
 * The software encoder a hardware encoder falls back to; undefined when it is already software or a name the
 * worker refuses (the worker's own encoder table decides, so both agree on every name).
 */
export function softwareEquivalent(codec: string): string | undefined {
  const family = JOB_VIDEO_ENCODERS.get(codec)?.family;
  return family === undefined || family === 'software' ? undefined : softwareEquivalentOf(codec);
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
