/**
 * Pure parsers for the job's field values (bitrate, resolution, encoder names). Each returns a value or a short
 * "expected ..." text; validate.ts turns that into a JobValidationError naming the field and the value.
 */
import type { EncoderFamily } from '../capabilities/types.js';

/** Video encoders a job may ask for, with the hardware family that runs them. */
export const KNOWN_VIDEO_ENCODERS: Readonly<Record<string, EncoderFamily>> = {
  libx264: 'software',
  libx265: 'software',
  h264_nvenc: 'nvidia',
  hevc_nvenc: 'nvidia',
  h264_qsv: 'qsv',
  hevc_qsv: 'qsv',
  h264_vaapi: 'vaapi',
  hevc_vaapi: 'vaapi',
  h264_v4l2m2m: 'v4l2m2m',
  hevc_v4l2m2m: 'v4l2m2m',
  h264_amf: 'amf',
  hevc_amf: 'amf',
};

/**
 * AV1 encoders are refused on purpose: AV1 cannot be carried in MPEG-TS segments (our default), Safari/iOS only
 * plays it on recent hardware, and ffmpeg 5.1's hls muxer writes no usable CODECS string for it. A job asking
 * for one gets a clear message instead of an unplayable ladder.
 */
export const REFUSED_AV1_ENCODERS = new Set([
  'libsvtav1',
  'libaom-av1',
  'librav1e',
  'av1_nvenc',
  'av1_qsv',
  'av1_vaapi',
  'av1_amf',
]);

export function encoderFamilyOf(encoder: string): EncoderFamily | undefined {
  return Object.prototype.hasOwnProperty.call(KNOWN_VIDEO_ENCODERS, encoder)
    ? KNOWN_VIDEO_ENCODERS[encoder]
    : undefined;
}

/** "h264" or "hevc": the video format an encoder produces. */
export function encoderFormatOf(encoder: string): 'h264' | 'hevc' {
  return encoder === 'libx265' || encoder.startsWith('hevc_') ? 'hevc' : 'h264';
}

const BITRATE_RE = /^(\d+(?:\.\d+)?)([kKmM]?)$/;

/**
 * The video bitrates a job may ask for. Below 16 kbit/s no encoder makes a watchable picture (and x264's VBV
 * refuses some); above 500 Mbit/s is beyond any HLS player or NAS link, and the buffer sizes derived from it
 * (bufsize = 2 x bitrate) leave the range encoders accept. Outside it is a typo ("99999999999999999999M").
 */
export const MIN_VIDEO_BITRATE = 16_000;
export const MAX_VIDEO_BITRATE = 500_000_000;

/** Most renditions in one job: one ffmpeg process decodes once and runs an encoder per rendition. */
export const MAX_OUTPUTS = 16;

/**
 * "2500k" -> 2_500_000, "5M" -> 5_000_000, "800000" -> 800_000 (bits per second). null when malformed or zero.
 * Only plain decimal numbers: no exponent ("1e6"), sign, hex, "Infinity" or "NaN".
 */
export function parseBitrate(value: string): number | null {
  const m = BITRATE_RE.exec(value.trim());
  if (!m) return null;
  const unit = m[2]!.toLowerCase();
  const bps = Math.round(Number(m[1]) * (unit === 'k' ? 1000 : unit === 'm' ? 1_000_000 : 1));
  return Number.isFinite(bps) && bps > 0 ? bps : null;
}

export type RequestedResolution = { kind: 'height'; height: number } | { kind: 'size'; width: number; height: number };

const NAMED_HEIGHTS: Readonly<Record<string, number>> = {
  '240p': 240,
  '360p': 360,
  '480p': 480,
  '720p': 720,
  '1080p': 1080,
  '1440p': 1440,
  '2160p': 2160,
  '4k': 2160,
};

/** Largest WxH side accepted (8K); anything above is a typo or an attack on memory. */
const MAX_SIDE = 7680;

/** "720p" -> height 720; "4K" -> 2160; "1280x720" -> size box. null when not one of those forms. */
export function parseResolution(value: string): RequestedResolution | null {
  const v = value.trim().toLowerCase();
  const named = Object.prototype.hasOwnProperty.call(NAMED_HEIGHTS, v) ? NAMED_HEIGHTS[v] : undefined;
  if (named) return { kind: 'height', height: named };
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(v);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 16 || height < 16 || width > MAX_SIDE || height > MAX_SIDE) return null;
  return { kind: 'size', width, height };
}

/** A master playlist name must be one plain file name (no folder part) ending in .m3u8. */
export function isPlainPlaylistName(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.m3u8$/.test(value) && !value.includes('..');
}

/** Characters Windows (and so its SMB clients) forbids in a file or folder name. */
const WINDOWS_FORBIDDEN_CHARS = new Set(['<', '>', ':', '"', '|', '?', '*']);
/** Names Windows reserves for devices (also with an extension): such a folder cannot be opened there. */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/iu;

function isControlChar(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  return code <= 0x1f || code === 0x7f;
}

/**
 * Why one folder name of a dest_path cannot be used, or null when it can. Spaces, parentheses, commas,
 * apostrophes, '%' and any letter are fine ("The Matrix (1999)"): ffmpeg never sees these names (the staging
 * folders have synthetic names, see plan.ts) and the master playlist percent-encodes them. What is refused is
 * what breaks on the NAS's other readers: control characters, and what Windows SMB clients cannot open
 * (<>:"|?*, a trailing dot or space, device names such as CON or NUL). Path escapes are checked in nas-path.ts.
 */
export function destFolderNameProblem(name: string): string | null {
  for (const ch of name) {
    if (isControlChar(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      return `must not contain control character U+${code} (control characters and < > : " | ? * are not allowed)`;
    }
    if (WINDOWS_FORBIDDEN_CHARS.has(ch))
      return `must not contain "${ch}" (control characters and < > : " | ? * are not allowed)`;
  }
  if (name.endsWith('.') || name.endsWith(' '))
    return 'must not end with a dot or a space (Windows cannot open such a folder)';
  if (WINDOWS_DEVICE_NAME.test(name)) return 'is a name Windows reserves for a device; choose another name';
  return null;
}
