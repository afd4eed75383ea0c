/**
 * Apple's rules on the multivariant (master) playlist: references, declared against measured bandwidth, the
 * attributes players choose variants by, the version, and the shape of the ladder (every rung with every audio group,
 * an I-frame rendition per rung).
 */
import type { AppleRuleId, LadderFacts, MediaPlaylistFacts, RuleViolation, VariantFacts } from './apple-rule-facts.js';
import { violation } from './apple-rule-facts.js';
import { videoFamily } from './apple-rules-codecs.js';
import type { AppleCodecLimits } from '../media/codec-levels.js';

/** Apple 1.26/1.27: declared and measured bit rates agree within 10% of the attribute. */
export const BANDWIDTH_TOLERANCE = 0.1;

const kbps = (bps: number) => `${Math.round(bps / 1000)} kbit/s`;

function playlistOf(f: LadderFacts, uri: string): MediaPlaylistFacts | undefined {
  return f.mediaPlaylists.find((p) => p.uri === uri);
}

/** Groups that exist in the master: a GROUP-ID only exists through its EXT-X-MEDIA tags. */
function audioGroupOf(f: LadderFacts, id: string | undefined) {
  return f.audioGroups.find((g) => g.id === id && g.renditions.length > 0);
}

/** Every URI the master references is a media playlist the facts describe. */
export function checkReferences(f: LadderFacts): RuleViolation[] {
  const refs = [
    ...f.variants.map((v) => v.uri),
    ...f.iframeVariants.map((v) => v.uri),
    ...f.audioGroups.flatMap((g) => g.renditions.map((r) => r.uri)),
    ...f.subtitleGroups.flatMap((g) => g.renditions.map((r) => r.uri)),
  ];
  return [...new Set(refs)]
    .filter((uri) => !playlistOf(f, uri))
    .map((uri) => violation('playlist-missing', uri, `the master references ${uri}, which was not staged`, 'master'));
}

/**
 * What a variant's BANDWIDTH and AVERAGE-BANDWIDTH must declare: its own playlist plus the largest rendition of its
 * audio group (Apple 9.13: "the largest sum of peak segment bit rates that's produced by any playable combination
 * of renditions"). Subtitles, a few hundred bit/s, are left out; counting them in stays well inside the 10%.
 */
function expectedRates(v: VariantFacts, f: LadderFacts): { peak: number; average: number } | undefined {
  const own = playlistOf(f, v.uri);
  if (!own) return undefined;
  const renditions = (audioGroupOf(f, v.audioGroup)?.renditions ?? [])
    .map((r) => playlistOf(f, r.uri))
    .filter((p): p is MediaPlaylistFacts => p !== undefined);
  if (renditions.length === 0) return { peak: own.peakBitrate, average: own.averageBitrate };
  const peak = Math.max(...renditions.map((p) => p.peakBitrate));
  const average = Math.max(...renditions.map((p) => p.averageBitrate));
  // An audio-only variant whose URI is one of its group's renditions plays one rendition at a time.
  if (renditions.some((p) => p.uri === v.uri)) return { peak, average };
  return { peak: own.peakBitrate + peak, average: own.averageBitrate + average };
}

function checkRates(
  where: string,
  declared: { bandwidth: number; averageBandwidth?: number },
  measured: { peak: number; average: number },
  averageRequired: boolean,
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const { bandwidth } = declared;
  // BANDWIDTH is the peak (RFC 4.3.4.2), so never below it (1 bit/s of rounding allowed), and within 10% above.
  if (bandwidth + 1 < measured.peak || measured.peak < bandwidth * (1 - BANDWIDTH_TOLERANCE)) {
    out.push(
      violation(
        'bandwidth-peak',
        where,
        `BANDWIDTH ${kbps(bandwidth)} but the measured peak is ${kbps(measured.peak)}: it must be at least the ` +
          `peak and within ${BANDWIDTH_TOLERANCE * 100}% of it`,
        'master',
      ),
    );
  }
  const avg = declared.averageBandwidth;
  if (avg === undefined) {
    if (averageRequired) out.push(violation('average-bandwidth', where, 'AVERAGE-BANDWIDTH is missing', 'master'));
  } else if (Math.abs(measured.average - avg) > avg * BANDWIDTH_TOLERANCE) {
    out.push(
      violation(
        'average-bandwidth',
        where,
        `AVERAGE-BANDWIDTH ${kbps(avg)} but the measured average is ${kbps(measured.average)} ` +
          `(must be within ${BANDWIDTH_TOLERANCE * 100}%)`,
        'master',
      ),
    );
  }
  return out;
}

export function checkBandwidths(f: LadderFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const v of f.variants) {
    const m = expectedRates(v, f);
    if (m) out.push(...checkRates(v.uri, v, m, true));
  }
  for (const v of f.iframeVariants) {
    const own = playlistOf(f, v.uri);
    if (own) out.push(...checkRates(v.uri, v, { peak: own.peakBitrate, average: own.averageBitrate }, false));
  }
  return out;
}

const RANGE_OF = { sdr: 'SDR', pq: 'PQ', hlg: 'HLG' } as const;

/** RESOLUTION, FRAME-RATE, VIDEO-RANGE and the group references of each variant. */
export function checkVariantAttributes(f: LadderFacts, limits: AppleCodecLimits): RuleViolation[] {
  const out: RuleViolation[] = [];
  const subtitleIds = new Set(f.subtitleGroups.filter((g) => g.renditions.length).map((g) => g.id));
  const ccIds = new Set(f.closedCaptionGroups ?? []);
  const anyNone = f.variants.some((v) => v.closedCaptions === 'NONE');
  for (const v of f.variants) {
    const at = (rule: AppleRuleId, msg: string) => out.push(violation(rule, v.uri, msg, 'master'));
    if (v.videoCodec) {
      if (!(v.width && v.height && v.width > 0 && v.height > 0)) at('resolution', 'RESOLUTION is missing');
      const fr = v.frameRate;
      if (fr === undefined || !(fr > 0)) at('frame-rate', 'FRAME-RATE is missing');
      else if (fr > limits.maxFrameRate) at('frame-rate', `FRAME-RATE ${fr} is above ${limits.maxFrameRate}`);
      else if (Math.abs(fr * 1000 - Math.round(fr * 1000)) > 1e-6) at('frame-rate', `FRAME-RATE ${fr} has >3 decimals`);
      const range = v.videoRange ?? 'SDR';
      const expected = RANGE_OF[v.transfer ?? 'sdr'];
      if (range !== expected) at('video-range', `VIDEO-RANGE is ${v.videoRange ?? 'absent'} for ${expected} video`);
    }
    if (v.audioGroup !== undefined && !audioGroupOf(f, v.audioGroup)) {
      at('audio-group-unknown', `AUDIO="${v.audioGroup}" names no EXT-X-MEDIA TYPE=AUDIO group`);
    }
    if (v.subtitlesGroup !== undefined && !subtitleIds.has(v.subtitlesGroup)) {
      at('subtitles-group-unknown', `SUBTITLES="${v.subtitlesGroup}" names no EXT-X-MEDIA TYPE=SUBTITLES group`);
    }
    if (v.subtitlesGroup === undefined && subtitleIds.size > 0) {
      at('subtitles-group-missing', 'the ladder has subtitles but this variant has no SUBTITLES');
    }
    const cc = v.closedCaptions;
    if (cc === undefined) at('closed-captions', 'CLOSED-CAPTIONS is missing (we write NONE)');
    else if (cc !== 'NONE' && anyNone) at('closed-captions', 'CLOSED-CAPTIONS must be NONE on all variants or none');
    else if (cc !== 'NONE' && !ccIds.has(cc)) at('closed-captions', `CLOSED-CAPTIONS="${cc}" names no group`);
  }
  for (const v of f.iframeVariants) {
    if (!(v.width && v.height && v.width > 0 && v.height > 0)) {
      out.push(violation('resolution', v.uri, 'I-frame RESOLUTION is missing', 'master'));
    }
  }
  return out;
}

/**
 * The master's EXT-X-VERSION against the tags it uses, per Apple's "About the EXT-X-VERSION tag": EXT-X-MEDIA,
 * AUDIO and EXT-X-I-FRAME-STREAM-INF need 4, SUBTITLES 5, CLOSED-CAPTIONS 6. Attributes that older clients just
 * skip (AVERAGE-BANDWIDTH, FRAME-RATE, CHANNELS: 7; VIDEO-RANGE: 8) are not counted: Apple's own example masters
 * carry them at version 6, and RFC 8216 section 7 asks nothing of them.
 */
export function requiredMasterVersion(f: LadderFacts): { version: number; why: string } {
  if (f.variants.some((v) => v.closedCaptions !== undefined)) return { version: 6, why: 'CLOSED-CAPTIONS' };
  if (f.subtitleGroups.length > 0) return { version: 5, why: 'SUBTITLES' };
  if (f.audioGroups.length > 0 || f.iframeVariants.length > 0) {
    return { version: 4, why: 'EXT-X-MEDIA / EXT-X-I-FRAME-STREAM-INF' };
  }
  return { version: 1, why: '' };
}

export function checkMasterTags(f: LadderFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  const need = requiredMasterVersion(f);
  const has = f.masterVersion ?? 1;
  if (has < need.version) {
    out.push(
      violation('master-version', f.masterUri, `EXT-X-VERSION ${has}, but ${need.why} needs ${need.version}`, 'master'),
    );
  }
  const videoUris = new Set(f.variants.filter((v) => v.videoCodec).map((v) => v.uri));
  const videoPlaylists = f.mediaPlaylists.filter((p) => videoUris.has(p.uri));
  if (videoUris.size > 0 && !f.independentSegments && !videoPlaylists.every((p) => p.independentSegments)) {
    out.push(
      violation(
        'independent-segments',
        f.masterUri,
        'EXT-X-INDEPENDENT-SEGMENTS is in neither the master nor every video playlist',
        'master',
      ),
    );
  }
  return out;
}

/**
 * Every video rung with every KIND of audio group (codec and channel count: AAC stereo, E-AC-3 5.1, ...), so a
 * player that picks surround still finds every rung; groups of one kind at different bitrates (a 64k group for
 * the small rungs, a 128k one for the large) pair with the rungs they were made for. An I-frame rendition for
 * every video codec and resolution.
 */
export function checkLadderShape(f: LadderFacts): RuleViolation[] {
  const out: RuleViolation[] = [];
  const groups = f.audioGroups.filter((g) => g.renditions.length > 0);
  const kindOf = (id: string | undefined): string | undefined => {
    const g = groups.find((x) => x.id === id);
    if (!g) return undefined;
    const channels = Math.max(...g.renditions.map((r) => Number.parseInt(r.channels ?? '2', 10) || 2));
    return `${g.codec}/${channels > 2 ? 'surround' : 'stereo'}`;
  };
  const kinds = [...new Set(groups.map((g) => kindOf(g.id)!))];
  const video = f.variants.filter((v) => v.videoCodec);
  if (kinds.length > 1) {
    for (const uri of new Set(video.map((v) => v.uri))) {
      const paired = new Set(video.filter((v) => v.uri === uri).map((v) => kindOf(v.audioGroup)));
      const missing = kinds.filter((k) => !paired.has(k));
      if (missing.length) {
        out.push(
          violation('audio-group-coverage', uri, `not offered with a ${missing.join(', ')} audio group`, 'master'),
        );
      }
    }
  }
  const seen = new Set<string>();
  // A rung or I-frame variant without RESOLUTION is the resolution rule's finding: match what can be matched.
  for (const v of video.filter((x) => x.width && x.height)) {
    const family = videoFamily(v.videoCodec!);
    const key = `${family} ${v.width}x${v.height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const match = f.iframeVariants.some(
      (i) =>
        videoFamily(i.videoCodec ?? i.codecs[0] ?? '') === family &&
        (!i.width || !i.height || (i.width === v.width && i.height === v.height)),
    );
    if (!match) out.push(violation('iframe-playlists', v.uri, `no I-frame playlist for ${key}`, 'media-playlist'));
  }
  return out;
}
