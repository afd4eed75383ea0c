/**
 * Pure encoder choice for each rung of the ladder:
 * - the requested encoder when this worker verified it and the configured hwaccel mode allows its family;
 * - otherwise its software equivalent (h264_* -> libx264, hevc_* -> libx265, av1_* -> libsvtav1) when
 *   allow_software_fallback is on;
 * - otherwise a JobValidationError that says why.
 * Then the session cap: never more hardware renditions than the probe's max sessions. The excess rungs, the
 * smallest first (the cheapest to encode on the CPU), move to software.
 */
import { softwareEquivalentOf } from '../capabilities/encoder-table.js';
import type { EncoderFamily } from '../capabilities/types.js';
import type { Config } from '../config.js';
import { JobValidationError } from '../errors.js';
import { encoderFamilyOf } from './job-fields.js';

export interface EncoderOptions {
  encoders: { verified: (name: string) => boolean; maxSessions: number };
  allowSoftwareFallback: boolean;
  hwaccelMode: Config['hwaccel'];
}

export interface EncoderChoiceInput {
  requested: string;
  /** Output pixels, to pick which rungs move to software first. */
  pixels: number;
}

export interface EncoderChoice {
  encoder: string;
  family: EncoderFamily;
}

/**
 * The CPU encoder producing the same format: h264_* -> libx264, hevc_* -> libx265, av1_* -> libsvtav1 (software
 * encoders map to themselves; a name a job may not use, to libx264).
 */
export function softwareEquivalent(encoder: string): string {
  return softwareEquivalentOf(encoder) ?? 'libx264';
}

/** Config hwaccel value -> the one family it allows (undefined: any verified family). */
const MODE_FAMILY: Partial<Record<Config['hwaccel'], EncoderFamily>> = {
  nvenc: 'nvidia',
  qsv: 'qsv',
  vaapi: 'vaapi',
  v4l2m2m: 'v4l2m2m',
};

function familyAllowed(family: EncoderFamily, mode: Config['hwaccel']): boolean {
  if (family === 'software') return true;
  if (mode === 'none') return false;
  const only = MODE_FAMILY[mode];
  return only === undefined || only === family;
}

function unavailableReason(encoder: string, family: EncoderFamily, opts: EncoderOptions): string {
  if (!familyAllowed(family, opts.hwaccelMode)) return `hwaccel is set to "${opts.hwaccelMode}" on this worker`;
  return 'it did not pass a test encode on this worker';
}

function fallbackOrFail(requested: string, reason: string, opts: EncoderOptions): EncoderChoice {
  const software = softwareEquivalent(requested);
  if (!opts.allowSoftwareFallback)
    throw new JobValidationError(
      `encoder ${requested} is not available on this worker (${reason}) and allow_software_fallback is off`,
    );
  if (!opts.encoders.verified(software))
    throw new JobValidationError(
      `encoder ${requested} is not available on this worker (${reason}), nor is its software equivalent ${software}`,
    );
  return { encoder: software, family: 'software' };
}

function chooseOne(requested: string, opts: EncoderOptions): EncoderChoice {
  const family = encoderFamilyOf(requested) ?? 'software';
  if (family === 'software') {
    if (!opts.encoders.verified(requested))
      throw new JobValidationError(`encoder ${requested} is not available on this worker (ffmpeg lacks it)`);
    return { encoder: requested, family };
  }
  if (familyAllowed(family, opts.hwaccelMode) && opts.encoders.verified(requested))
    return { encoder: requested, family };
  return fallbackOrFail(requested, unavailableReason(requested, family, opts), opts);
}

export function chooseEncoders(rungs: readonly EncoderChoiceInput[], opts: EncoderOptions): EncoderChoice[] {
  const choices = rungs.map((r) => chooseOne(r.requested, opts));
  const hardware = choices.map((c, i) => ({ c, i })).filter(({ c }) => c.family !== 'software');
  // A verified hardware encoder opened at least one session in its test, so a declared 0 means "not measured".
  const cap = Math.max(1, Math.floor(opts.encoders.maxSessions));
  if (hardware.length <= cap) return choices;
  // Keep the biggest rungs on the GPU (where it saves the most CPU); move the smallest ones to software.
  const bySizeDesc = [...hardware].sort((a, b) => rungs[b.i]!.pixels - rungs[a.i]!.pixels || a.i - b.i);
  for (const { c, i } of bySizeDesc.slice(cap)) {
    const why = `this worker's GPU allows ${cap} concurrent encoder session${cap === 1 ? '' : 's'}`;
    choices[i] = fallbackOrFail(c.encoder, why, opts);
  }
  return choices;
}
