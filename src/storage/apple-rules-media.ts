/**
 * Apple's and RFC 8216's rules on the media playlists: target duration, a complete VOD playlist, EXT-X-MAP for fMP4,
 * EXT-X-VERSION against the tags used, I-frame playlists marked as such, and every rendition lasting as long as
 * the video.
 */
import type { AppleRuleId, LadderFacts, MediaPlaylistFacts, RuleViolation } from './apple-rule-facts.js';
import { violation } from './apple-rule-facts.js';

/**
 * How far apart the audio, video and subtitle playlists' total durations may be (Apple 8.3 "MUST contain the same
 * duration"): half a second, a few AAC frames and a GOP's rounding apart, never a missing segment.
 */
export const SAME_DURATION_TOLERANCE_SEC = 0.5;

/** Apple 7.5 recommends 6 s; other configured times are the operator's choice, so this is what we hold to. */
export const APPLE_RECOMMENDED_TARGET_SEC = 6;

const total = (p: MediaPlaylistFacts) => p.segmentDurations.reduce((s, d) => s + d, 0);

/**
 * The lowest EXT-X-VERSION a media playlist may declare (RFC 8216 section 7): 3 for a decimal EXTINF, 4 for
 * EXT-X-BYTERANGE or EXT-X-I-FRAMES-ONLY, 5 for EXT-X-MAP in an I-frame playlist and 6 in any other.
 */
export function requiredMediaVersion(p: MediaPlaylistFacts): number {
  let v = 1;
  if (p.segmentDurations.some((d) => !Number.isInteger(d))) v = 3;
  if (p.hasByteRange || p.iFramesOnly) v = 4;
  if (p.hasMap) v = Math.max(v, p.iFramesOnly ? 5 : 6);
  return v;
}

function checkTargetDuration(p: MediaPlaylistFacts, segmentTime: number | undefined): RuleViolation[] {
  const out: RuleViolation[] = [];
  const t = p.targetDuration;
  if (!Number.isInteger(t) || t <= 0) {
    return [
      violation('target-duration', p.uri, `EXT-X-TARGETDURATION ${t} is not a positive integer`, 'media-playlist'),
    ];
  }
  // RFC 4.3.3.1 (rounded EXTINF <= target) and Apple 7.7 (never more than 0.5 s over) say the same thing.
  const over = p.segmentDurations.map((d, i) => ({ d, i })).filter(({ d }) => Math.round(d) > t || d > t + 0.5);
  if (over.length) {
    const first = over[0]!;
    out.push(
      violation(
        'target-duration',
        p.uri,
        `${over.length} segment(s) exceed EXT-X-TARGETDURATION ${t} s, the first is #${first.i} at ${first.d} s`,
        'media-playlist',
      ),
    );
  }
  // VOD subtitle and I-frame playlists may use a longer target (Apple 5.7, 6.12).
  if (segmentTime !== undefined && (p.kind === 'video' || p.kind === 'audio') && t > Math.ceil(segmentTime) + 1) {
    out.push(
      violation(
        'target-duration-configured',
        p.uri,
        `EXT-X-TARGETDURATION ${t} s for a configured segment time of ${segmentTime} s ` +
          `(Apple recommends ${APPLE_RECOMMENDED_TARGET_SEC} s): the segments were not cut where the plan put keyframes`,
        'media',
      ),
    );
  }
  return out;
}

function checkPlaylistTags(p: MediaPlaylistFacts, segmentType: 'ts' | 'fmp4'): RuleViolation[] {
  const out: RuleViolation[] = [];
  const at = (rule: AppleRuleId, msg: string) => out.push(violation(rule, p.uri, msg, 'media-playlist'));
  if (!p.hasEndlist) at('endlist', 'EXT-X-ENDLIST is missing: players treat the playlist as live');
  if (p.playlistType !== 'VOD')
    at('playlist-type-vod', `EXT-X-PLAYLIST-TYPE is ${p.playlistType ?? 'absent'}, not VOD`);
  if (segmentType === 'fmp4' && p.kind !== 'subtitles' && !p.hasMap) at('map-present', 'fMP4 without EXT-X-MAP');
  const need = requiredMediaVersion(p);
  if ((p.version ?? 1) < need) {
    at('playlist-version', `EXT-X-VERSION ${p.version ?? 'absent (1)'}, but the tags used need ${need}`);
  }
  if (p.kind === 'iframes' && !p.iFramesOnly) at('iframes-only', 'an I-frame playlist without EXT-X-I-FRAMES-ONLY');
  if (p.kind !== 'iframes' && p.iFramesOnly) at('iframes-only', `a ${p.kind} playlist has EXT-X-I-FRAMES-ONLY`);
  return out;
}

/** Apple 8.2 and 8.3: audio and video share one target duration, and every rendition covers the same time. */
function checkAcrossPlaylists(f: LadderFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  const av = f.mediaPlaylists.filter((p) => p.kind === 'video' || p.kind === 'audio');
  const ref = av.find((p) => p.kind === 'video') ?? av[0];
  if (!ref) return out;
  for (const p of av) {
    if (p.targetDuration !== ref.targetDuration) {
      out.push(
        violation(
          'target-duration-uniform',
          p.uri,
          `EXT-X-TARGETDURATION ${p.targetDuration} s, but ${ref.uri} has ${ref.targetDuration} s`,
          'media-playlist',
        ),
      );
    }
  }
  const refTotal = total(ref);
  for (const p of f.mediaPlaylists.filter((q) => q.kind !== 'iframes')) {
    const d = total(p);
    if (Math.abs(d - refTotal) > SAME_DURATION_TOLERANCE_SEC) {
      out.push(
        violation(
          'same-duration',
          p.uri,
          `lasts ${d.toFixed(3)} s but ${ref.uri} lasts ${refTotal.toFixed(3)} s ` +
            `(more than ${SAME_DURATION_TOLERANCE_SEC} s apart)`,
          'media',
        ),
      );
    }
  }
  return out;
}

export function checkMediaPlaylists(f: LadderFacts): RuleViolation[] {
  return [
    ...f.mediaPlaylists.flatMap((p) => [
      ...checkTargetDuration(p, f.segmentTime),
      ...checkPlaylistTags(p, f.segmentType),
    ]),
    ...checkAcrossPlaylists(f),
  ];
}
