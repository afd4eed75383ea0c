/**
 * The master playlist, written by us rather than trusted from ffmpeg: ffmpeg 5.1's master lacks
 * AVERAGE-BANDWIDTH and FRAME-RATE, sometimes CODECS, and its BANDWIDTH is the configured rate instead of the
 * measured peak the HLS spec asks for (RFC 8216 4.3.4.2). Pure functions: text in, text out.
 */

export interface MasterVariant {
  /** URI relative to the master playlist, forward slashes. */
  uri: string;
  /** GROUP-ID of the audio renditions it plays with (AUDIO=); its codec is in `codecs`. */
  audioGroup?: string;
  /** GROUP-ID of the subtitle renditions (SUBTITLES=). */
  subtitlesGroup?: string;
  /** Peak segment bitrate, bits/s. */
  bandwidth: number;
  /** Average bitrate over the whole rendition, bits/s. */
  averageBandwidth: number;
  /** Absent for an audio-only variant (no RESOLUTION or FRAME-RATE then). */
  width?: number;
  height?: number;
  frameRate?: number;
  /** RFC 6381 codec strings, e.g. ["avc1.640028", "mp4a.40.2"]. */
  codecs: string[];
}

/** One #EXT-X-MEDIA line: an audio or subtitle rendition. Every string is already a safe quoted-string. */
export interface MasterMedia {
  type: 'AUDIO' | 'SUBTITLES';
  groupId: string;
  name: string;
  /** BCP-47. */
  language?: string;
  isDefault: boolean;
  autoselect: boolean;
  /** SUBTITLES only. */
  forced?: boolean;
  characteristics?: readonly string[];
  /** AUDIO only: channel count ("2", "6"). */
  channels?: string;
  uri: string;
}

/** One #EXT-X-I-FRAME-STREAM-INF line: the I-frame playlist of a video rung. */
export interface MasterIFrameVariant {
  uri: string;
  bandwidth: number;
  averageBandwidth?: number;
  width: number;
  height: number;
  /** The video codec only (I-frame playlists carry no audio). */
  codecs: string[];
}

export interface MasterPlaylistOptions {
  /** 4 for MPEG-TS segments (byte ranges in the I-frame playlists); 7 for fMP4 (EXT-X-MAP). */
  version: number;
  /** Every segment starts with a keyframe (the plan aligns GOPs to segment boundaries). */
  independentSegments: boolean;
  media?: readonly MasterMedia[];
  iframes?: readonly MasterIFrameVariant[];
}

function mediaLine(m: MasterMedia): string {
  const attrs = [`TYPE=${m.type}`, `GROUP-ID="${m.groupId}"`, `NAME="${m.name}"`];
  if (m.language) attrs.push(`LANGUAGE="${m.language}"`);
  attrs.push(`DEFAULT=${m.isDefault ? 'YES' : 'NO'}`, `AUTOSELECT=${m.autoselect ? 'YES' : 'NO'}`);
  if (m.type === 'SUBTITLES' && m.forced) attrs.push('FORCED=YES');
  if (m.characteristics && m.characteristics.length > 0) attrs.push(`CHARACTERISTICS="${m.characteristics.join(',')}"`);
  if (m.channels) attrs.push(`CHANNELS="${m.channels}"`);
  attrs.push(`URI="${m.uri}"`);
  return `#EXT-X-MEDIA:${attrs.join(',')}`;
}

/**
 * Players pick the first listed variant to start with; list by bandwidth, highest first, as Apple recommends.
 * Renditions (#EXT-X-MEDIA) come first, grouped, then the variants, then the I-frame variants.
 */
export function buildMasterPlaylist(variants: readonly MasterVariant[], opts: MasterPlaylistOptions): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${opts.version}`];
  if (opts.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const m of opts.media ?? []) lines.push(mediaLine(m));
  const sorted = [...variants].sort((a, b) => b.bandwidth - a.bandwidth);
  for (const v of sorted) {
    const attrs = [
      `BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}`,
      `AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidth))}`,
      ...(v.width && v.height ? [`RESOLUTION=${v.width}x${v.height}`] : []),
      ...(v.frameRate ? [`FRAME-RATE=${v.frameRate.toFixed(3)}`] : []),
      `CODECS="${v.codecs.join(',')}"`,
    ];
    if (v.audioGroup) attrs.push(`AUDIO="${v.audioGroup}"`);
    if (v.subtitlesGroup) attrs.push(`SUBTITLES="${v.subtitlesGroup}"`);
    // We never carry CEA-608/708 captions (the picture is re-encoded); saying so stops players from looking.
    attrs.push('CLOSED-CAPTIONS=NONE');
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  const iframes = [...(opts.iframes ?? [])].sort((a, b) => b.bandwidth - a.bandwidth);
  for (const f of iframes) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(f.bandwidth))}`];
    if (f.averageBandwidth) attrs.push(`AVERAGE-BANDWIDTH=${Math.max(1, Math.round(f.averageBandwidth))}`);
    attrs.push(`RESOLUTION=${f.width}x${f.height}`, `CODECS="${f.codecs.join(',')}"`, `URI="${f.uri}"`);
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attrs.join(',')}`);
  }
  return lines.join('\n') + '\n';
}

const H264_PROFILES: Record<string, [number, number]> = {
  // profile name (as ffprobe prints it) -> [profile_idc, constraint flags byte]
  'constrained baseline': [66, 0xe0],
  baseline: [66, 0x00],
  main: [77, 0x40],
  extended: [88, 0x00],
  high: [100, 0x00],
  'high 10': [110, 0x00],
  'high 4:2:2': [122, 0x00],
  'high 4:4:4 predictive': [244, 0x00],
};

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** "avc1.PPCCLL" from ffprobe's profile name and level (e.g. "High", 40 -> avc1.640028). */
export function avcCodecString(profile: string | undefined, level: number | undefined): string {
  const [idc, flags] = H264_PROFILES[(profile ?? '').toLowerCase()] ?? [100, 0];
  const lvl = level && level > 0 ? level : 40;
  return `avc1.${hex2(idc)}${hex2(flags)}${hex2(lvl)}`;
}

/** "hvc1.P.C.Ltt.B0" from ffprobe's profile name and level (ffprobe prints general_level_idc, e.g. 120 = 4.0). */
export function hevcCodecString(profile: string | undefined, level: number | undefined): string {
  const p = (profile ?? '').toLowerCase();
  // general_profile_idc and the (bit-reversed) compatibility flags of the common profiles.
  const [idc, compat] = p === 'main 10' ? [2, 4] : p === 'rext' ? [4, 16] : [1, 6];
  const lvl = level && level > 0 ? level : 120;
  return `hvc1.${idc}.${compat}.L${lvl}.B0`;
}

/**
 * "av01.P.LLT.DD" from ffprobe's AV1 profile name and level (seq_level_idx): the fallback when the av1C box could
 * not be read in-process (av1-config.ts reads the exact one, bit depth and tier included); Main tier, 8-bit assumed.
 */
export function av1CodecFromProbe(profile: string | undefined, level: number | undefined): string {
  const p = { main: 0, high: 1, professional: 2 }[(profile ?? '').toLowerCase()] ?? 0;
  const lvl = level !== undefined && level >= 0 && level < 32 ? level : 8;
  return `av01.${p}.${String(lvl).padStart(2, '0')}M.08`;
}

/** Codec string of a video stream as ffprobe describes it. */
export function videoCodecString(codecName: string, profile: string | undefined, level: number | undefined): string {
  if (codecName === 'hevc' || codecName === 'h265') return hevcCodecString(profile, level);
  if (codecName === 'av1') return av1CodecFromProbe(profile, level);
  return avcCodecString(profile, level);
}

/** AAC-LC, the stereo group every player plays. */
export const AAC_LC_CODEC = 'mp4a.40.2';

/** RFC 6381 / Apple codec strings of the audio codecs the plan produces. */
export const AUDIO_CODEC_STRINGS = { aac: AAC_LC_CODEC, ac3: 'ac-3', eac3: 'ec-3' } as const;

export interface SegmentMeasure {
  bytes: number;
  durationSec: number;
}

/**
 * Peak and average bitrate from real segment sizes. The peak ignores segments shorter than half the target
 * duration (the final stub is often a lone keyframe whose rate would wildly overstate the stream), unless every
 * segment is that short.
 */
export function measureBitrates(
  segments: readonly SegmentMeasure[],
  targetDurationSec: number,
  extraBytes = 0,
): { peak: number; average: number } {
  const total = segments.reduce((s, x) => s + x.bytes, 0) + extraBytes;
  const duration = segments.reduce((s, x) => s + x.durationSec, 0);
  const average = duration > 0 ? (total * 8) / duration : 0;
  const long = segments.filter((s) => s.durationSec >= targetDurationSec / 2 && s.durationSec > 0);
  const pool = long.length > 0 ? long : segments.filter((s) => s.durationSec > 0);
  const peak = pool.reduce((m, s) => Math.max(m, (s.bytes * 8) / s.durationSec), 0);
  return { peak: Math.max(peak, average), average };
}

/**
 * The exact H.264 codec string from the encoded bytes: the avcC box of an fMP4 init section, or the first SPS
 * NAL unit (type 7) of an MPEG-TS segment. Profile, constraint flags and level are the three bytes that follow
 * (RFC 6381 3.3). Undefined when neither is found (the caller then asks ffprobe).
 */
export function avcCodecFromBytes(buf: Uint8Array): string | undefined {
  const hex = (i: number): string => hex2(buf[i]!) + hex2(buf[i + 1]!) + hex2(buf[i + 2]!);
  // avcC: 'a' 'v' 'c' 'C', configurationVersion (1), then profile, compatibility, level.
  for (let i = 0; i + 8 <= buf.length; i++) {
    if (buf[i] === 0x61 && buf[i + 1] === 0x76 && buf[i + 2] === 0x63 && buf[i + 3] === 0x43 && buf[i + 4] === 1) {
      return `avc1.${hex(i + 5)}`;
    }
  }
  // Annex B start code 00 00 01, then a NAL header with forbidden bit 0, nal_ref_idc != 0 and type 7 (SPS).
  for (let i = 0; i + 7 <= buf.length; i++) {
    if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1) continue;
    const h = buf[i + 3]!;
    if ((h & 0x80) === 0 && (h & 0x60) !== 0 && (h & 0x1f) === 7 && buf[i + 4]! > 0) return `avc1.${hex(i + 4)}`;
  }
  return undefined;
}
