/**
 * The check of a staged HLS ladder against the parts of Apple's "HLS Authoring Specification for Apple Devices" and
 * RFC 8216 that apply to a VOD ladder made by this worker, run by the verify step before the commit. Pure: the
 * verify step reads the playlists and segments and hands over LadderFacts; this returns what breaks a rule, each
 * violation naming its rule (APPLE_RULES lists them with their sources). An empty list means the ladder passes.
 *
 * Left out on purpose: rules about live streams, encryption, delivery (gzip, TLS, MIME types), content we cannot
 * see in playlists (loudness metadata, colour SEI), SHOULDs the issue does not ask for, and ladder design choices
 * a job makes (9.9 "multiple bit rates": a job may ask for one rung; 1.24 SDR alongside HDR).
 *
 * Before encoding, codec-levels.ts's appleLimitProblem tells the plan which rungs could never pass 'h264-level' or
 * 'hevc-level' whatever the encoder does (H.264 above 1080p60, HEVC 2160p above 30 fps).
 */
import type { LadderFacts, RuleViolation } from './apple-rule-facts.js';
import { checkIFrameCodecs, checkVariantCodecs, checkVideoCodec } from './apple-rules-codecs.js';
import {
  checkBandwidths,
  checkLadderShape,
  checkMasterTags,
  checkReferences,
  checkVariantAttributes,
} from './apple-rules-master.js';
import { checkMediaPlaylists } from './apple-rules-media.js';
import { checkRenditions } from './apple-rules-renditions.js';
import { APPLE_LIMITS, type AppleCodecLimits } from '../media/codec-levels.js';

export type * from './apple-rule-facts.js';
export { APPLE_RULES } from './apple-rule-facts.js';

export interface AppleRuleOptions {
  /** Profile/level/frame-rate ceilings; APPLE_LIMITS (High@4.2, Main10@5.0, 60 fps) unless given. */
  limits?: AppleCodecLimits;
}

/** Every violation of the rules in APPLE_RULES, master first, then media playlists, then renditions. */
export function checkAppleRules(f: LadderFacts, opts: AppleRuleOptions = {}): RuleViolation[] {
  const limits = opts.limits ?? APPLE_LIMITS;
  const codecs = [
    ...f.variants.flatMap((v) => [
      ...checkVariantCodecs(v, f),
      ...(v.videoCodec
        ? checkVideoCodec(
            v.videoCodec,
            v.uri,
            { segmentType: f.segmentType, width: v.width, height: v.height, frameRate: v.frameRate },
            limits,
          )
        : []),
    ]),
    ...f.iframeVariants.flatMap((v) => [
      ...checkIFrameCodecs(v),
      ...(v.videoCodec ? checkVideoCodec(v.videoCodec, v.uri, { segmentType: f.segmentType }, limits) : []),
    ]),
  ];
  return dedupe([
    ...checkReferences(f),
    ...codecs,
    ...checkVariantAttributes(f, limits),
    ...checkBandwidths(f),
    ...checkMasterTags(f),
    ...checkLadderShape(f),
    ...checkMediaPlaylists(f),
    ...checkRenditions(f),
  ]);
}

/** The same video playlist listed once per audio group would repeat its codec findings: keep each once. */
function dedupe(vs: RuleViolation[]): RuleViolation[] {
  const seen = new Set<string>();
  return vs.filter((v) => {
    const key = `${v.rule}\u0000${v.where}\u0000${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One line per violation for the job's error: "h264-level (1080p/stream.m3u8): H.264 level 5.1 ... above 4.2". */
export function formatViolations(vs: readonly RuleViolation[]): string {
  return vs.map((v) => `${v.rule} (${v.where}): ${v.message}`).join('; ');
}
