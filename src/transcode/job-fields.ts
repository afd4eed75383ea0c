/**
 * Pure parsers for the job's field values (bitrate, resolution, encoder names). Each returns a value or a short
 * "expected ..." text; validate.ts turns that into a JobValidationError naming the field and the value.
 */
import { JOB_VIDEO_ENCODERS } from '../capabilities/encoder-table.js';
import type { EncoderFamily } from '../capabilities/types.js';
import { isKnownLanguage, toBcp47 } from '../media/languages.js';

/**
 * The AV1 encoders a job may not name: libaom-av1 and librav1e are far too slow for a ladder (libsvtav1 makes the
 * same format), and av1_amf has no argv builder yet. libsvtav1, av1_nvenc, av1_qsv and av1_vaapi are job encoders
 * (encoder-table.ts): their rungs go in fMP4 segments, the only HLS container that carries AV1.
 */
export const REFUSED_AV1_ENCODERS = new Set(['libaom-av1', 'librav1e', 'av1_amf']);

/** The family running a video encoder a job may name; undefined for any other name. */
export function encoderFamilyOf(encoder: string): EncoderFamily | undefined {
  return JOB_VIDEO_ENCODERS.get(encoder)?.family;
}

/** "h264", "hevc" or "av1": the video format an encoder produces ("h264" for a name a job may not use). */
export function encoderFormatOf(encoder: string): 'h264' | 'hevc' | 'av1' {
  const codec = JOB_VIDEO_ENCODERS.get(encoder)?.codec;
  return codec === 'hevc' || codec === 'av1' ? codec : 'h264';
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

/**
 * AAC-LC stereo bitrates a job may ask for (audio_config.bitrate, outputs[].audio_bitrate): below 32 kbit/s stereo
 * AAC-LC is audibly broken (HE-AAC territory, which not every HLS player decodes); ffmpeg's AAC encoder clamps two
 * channels at 48 kHz to 576 kbit/s, and nothing is gained above 512.
 */
export const MIN_AAC_BITRATE = 32_000;
export const MAX_AAC_BITRATE = 512_000;

/**
 * E-AC-3 / AC-3 5.1 bitrates (audio_config.surround_bitrate): 192 kbit/s is the lowest Apple's authoring spec lists
 * for 5.1, and 640 kbit/s is AC-3's maximum (one bound for both codecs, so switching codec never breaks a job).
 */
export const MIN_SURROUND_BITRATE = 192_000;
export const MAX_SURROUND_BITRATE = 640_000;

/**
 * The stereo group's codec from audio_config.codec / outputs[].audio_codec: "aac" (any case) or "" (Go's zero
 * value) mean AAC-LC; anything else is null (refused: AAC is the group every player plays).
 */
export function parseStereoCodec(value: string): 'aac' | null {
  const v = value.trim().toLowerCase();
  return v === '' || v === 'aac' ? 'aac' : null;
}

/** The surround group's codec from audio_config.surround_codec: "" means E-AC-3; null when neither E-AC-3 nor AC-3. */
export function parseSurroundCodec(value: string): 'eac3' | 'ac3' | null {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'eac3') return 'eac3';
  return v === 'ac3' ? 'ac3' : null;
}

/**
 * The folder beside the master playlist that holds the audio and subtitle renditions: the master's name without
 * ".m3u8", plus "_tracks" ("index.m3u8" -> "index_tracks"). Its name only: it lives in the master's folder
 * (masterDir). A plain playlist name (isPlainPlaylistName) gives a name of [A-Za-z0-9._-] only.
 */
export function tracksFolderName(masterPlaylistName: string): string {
  return `${masterPlaylistName.replace(/\.m3u8$/i, '')}_tracks`;
}

/**
 * The language a job names (audio_config.languages), as the lower-case primary BCP-47 subtag that track languages
 * are compared by: "fr", "fre" and "fra" -> "fr"; "pt-BR" -> "pt". Undefined when it names no language ("und",
 * "", "pt-") or one nobody knows ("xyz": a typo would otherwise silently keep nothing it meant).
 */
export function jobLanguage(tag: string): string | undefined {
  const bcp47 = toBcp47(tag);
  return bcp47 !== undefined && isKnownLanguage(bcp47) ? bcp47.split('-')[0]!.toLowerCase() : undefined;
}
