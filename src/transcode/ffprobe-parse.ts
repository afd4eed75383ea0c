/**
 * Pure: ffprobe's JSON (-print_format json -show_format -show_streams) -> SourceInfo. Throws MediaError with a
 * sentence a person can act on when the file cannot be transcoded (no video, no duration).
 */
import { MediaError } from '../errors.js';
import type {
  AudioStreamInfo,
  HdrTransfer,
  SourceInfo,
  StreamDisposition,
  SubtitleStreamInfo,
  VideoStreamInfo,
} from './types.js';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** ffprobe prints most numbers as strings ("12.345000"); "N/A" and garbage become undefined. */
function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** "30000/1001" -> 29.97; "0/0" -> undefined. */
export function parseRational(v: unknown): number | undefined {
  if (typeof v !== 'string') return num(v);
  const m = /^(-?\d+(?:\.\d+)?)[/:](\d+(?:\.\d+)?)$/.exec(v.trim());
  if (!m) return num(v);
  const d = Number(m[2]);
  const n = Number(m[1]);
  return d > 0 && n > 0 ? n / d : undefined;
}

function parseSar(v: unknown): { sarNum: number; sarDen: number } {
  const m = typeof v === 'string' ? /^(\d+):(\d+)$/.exec(v) : null;
  const n = m ? Number(m[1]) : 0;
  const d = m ? Number(m[2]) : 0;
  // "0:1" (unknown) and absent mean square pixels.
  return n > 0 && d > 0 ? { sarNum: n, sarDen: d } : { sarNum: 1, sarDen: 1 };
}

/** Degrees, normalised to 0/90/180/270, from the display matrix side data (ffmpeg 5+) or the legacy rotate tag. */
function parseRotation(stream: Json): number {
  let deg: number | undefined;
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const sd of sideData) {
    const o = obj(sd);
    if (o.side_data_type === 'Display Matrix' && num(o.rotation) !== undefined) deg = num(o.rotation);
  }
  if (deg === undefined) deg = num(obj(stream.tags).rotate);
  if (deg === undefined) return 0;
  const quarter = Math.round(deg / 90) * 90;
  return ((quarter % 360) + 360) % 360;
}

/** Bits per sample: bits_per_raw_sample when present, else read from the pixel format name (yuv420p10le -> 10). */
function parseBitDepth(stream: Json, pixFmt: string): number {
  const raw = num(stream.bits_per_raw_sample);
  if (raw && raw >= 8 && raw <= 16) return raw;
  const m = /p(\d{2})(le|be)?$/.exec(pixFmt) ?? /^(?:p0|p)(\d{2})/.exec(pixFmt);
  if (m) return Number(m[1]);
  return 8;
}

/** The HDR transfer a colour transfer name means: PQ, HLG, or none (SDR, unknown). */
export function hdrOf(transfer: string | undefined): HdrTransfer | null {
  if (transfer === 'smpte2084') return 'pq';
  if (transfer === 'arib-std-b67') return 'hlg';
  return null;
}

/** The Dolby Vision configuration record (dvcC/dvvC), when the stream carries one. */
function parseDolbyVision(stream: Json): { profile: number; compatibilityId: number } | undefined {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const sd of sideData) {
    const o = obj(sd);
    if (o.side_data_type !== 'DOVI configuration record') continue;
    const profile = num(o.dv_profile);
    if (profile !== undefined) return { profile, compatibilityId: num(o.dv_bl_signal_compatibility_id) ?? 0 };
  }
  return undefined;
}

function isDefault(stream: Json): boolean {
  return num(obj(stream.disposition).default) === 1;
}

/** ffprobe's disposition flags (0/1 numbers); absent flags are false. */
function disposition(stream: Json): StreamDisposition {
  const d = obj(stream.disposition);
  const on = (k: string): boolean => num(d[k]) === 1;
  return {
    default: on('default'),
    forced: on('forced'),
    comment: on('comment'),
    hearingImpaired: on('hearing_impaired'),
    visualImpaired: on('visual_impaired'),
    descriptions: on('descriptions'),
  };
}

/** The title tag, with control characters removed; undefined when empty. */
function title(stream: Json): string | undefined {
  const t = str(obj(stream.tags).title);
  // eslint-disable-next-line no-control-regex
  const clean = t?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean ? clean : undefined;
}

function language(stream: Json): string | undefined {
  const lang = str(obj(stream.tags).language);
  return lang && lang !== 'und' ? lang : undefined;
}

function parseVideo(s: Json): VideoStreamInfo {
  const pixFmt = str(s.pix_fmt) ?? 'unknown';
  const baseFps = parseRational(s.r_frame_rate);
  const colorTransfer = str(s.color_transfer);
  const fieldOrder = str(s.field_order);
  return {
    index: num(s.index) ?? 0,
    codec: str(s.codec_name) ?? 'unknown',
    profile: str(s.profile),
    width: num(s.width) ?? 0,
    height: num(s.height) ?? 0,
    ...parseSar(s.sample_aspect_ratio),
    rotation: parseRotation(s),
    fps: parseRational(s.avg_frame_rate) ?? baseFps ?? 0,
    ...(baseFps ? { baseFps } : {}),
    pixFmt,
    bitDepth: parseBitDepth(s, pixFmt),
    colorTransfer,
    colorPrimaries: str(s.color_primaries),
    colorSpace: str(s.color_space),
    colorRange: str(s.color_range),
    hdr: hdrOf(colorTransfer),
    // tt/bb/tb/bt are interlaced field orders; "progressive" and "unknown" are treated as progressive.
    interlaced: fieldOrder !== undefined && ['tt', 'bb', 'tb', 'bt'].includes(fieldOrder),
  };
}

/**
 * @param file the path shown in error messages
 * @param sizeBytes the file's size when the caller knows it (format.size is used otherwise)
 */
export function parseFfprobeJson(json: unknown, file: string, sizeBytes?: number): SourceInfo {
  const root = obj(json);
  const format = obj(root.format);
  const streams = (Array.isArray(root.streams) ? root.streams : []).map(obj);

  const videoStream = streams.find((s) => s.codec_type === 'video' && num(obj(s.disposition).attached_pic) !== 1);
  const hasAudio = streams.some((s) => s.codec_type === 'audio' && (num(s.channels) ?? 0) > 0);
  if (!videoStream && !hasAudio) throw new MediaError(`${file} has neither a video nor an audio stream`);
  // An audio-only file (cover art does not count as video) becomes an audio-only ladder.
  if (!videoStream) return parseAudioOnly(root, file, sizeBytes);
  const video = parseVideo(videoStream);
  // Profile 5 (streaming services' single-layer Dolby Vision) has no HDR10 or SDR base layer: its pictures are
  // in Dolby's IPT colour space, which ffmpeg 5.1 decodes as if it were ordinary YUV. The output would play with
  // green and purple colours, so the job stops here with the reason instead. Profiles 7 and 8 carry an HDR10,
  // HLG or SDR base layer, which the normal path handles.
  const dv = parseDolbyVision(videoStream);
  if (dv && (dv.profile === 5 || (dv.compatibilityId === 0 && video.hdr === null)))
    throw new MediaError(
      `${file}: Dolby Vision profile ${dv.profile} video without an HDR10 or SDR base layer; ffmpeg cannot convert ` +
        'its colours (the result would be green and purple). Use a version with an HDR10 layer (Dolby Vision ' +
        'profile 7 or 8, or plain HDR10) as the source',
    );
  if (!(video.width > 0 && video.height > 0))
    throw new MediaError(`${file}: the video stream has no picture size (damaged or truncated file?)`);

  const durationSec = num(format.duration) ?? num(videoStream.duration) ?? 0;
  if (!(durationSec > 0))
    throw new MediaError(`${file}: the duration is unknown or zero (damaged, truncated or still being written?)`);

  return { ...common(root, file, sizeBytes), durationSec, video };
}

function parseAudioOnly(root: Json, file: string, sizeBytes: number | undefined): SourceInfo {
  const durationSec = num(obj(root.format).duration) ?? 0;
  if (!(durationSec > 0))
    throw new MediaError(`${file}: the duration is unknown or zero (damaged, truncated or still being written?)`);
  return { ...common(root, file, sizeBytes), durationSec, video: null };
}

/** What a video and an audio-only source share: the container, the audio and subtitle streams. */
function common(root: Json, file: string, sizeBytes: number | undefined): Omit<SourceInfo, 'video' | 'durationSec'> {
  const format = obj(root.format);
  const streams = (Array.isArray(root.streams) ? root.streams : []).map(obj);
  const audio: AudioStreamInfo[] = streams
    .filter((s) => s.codec_type === 'audio' && (num(s.channels) ?? 0) > 0)
    .map((s) => ({
      index: num(s.index) ?? 0,
      codec: str(s.codec_name) ?? 'unknown',
      channels: num(s.channels) ?? 0,
      channelLayout: str(s.channel_layout),
      ...(num(s.sample_rate) ? { sampleRate: num(s.sample_rate) } : {}),
      language: language(s),
      ...(title(s) ? { title: title(s) } : {}),
      isDefault: isDefault(s),
      disposition: disposition(s),
    }));
  const subtitles: SubtitleStreamInfo[] = streams
    .filter((s) => s.codec_type === 'subtitle')
    .map((s) => ({
      index: num(s.index) ?? 0,
      codec: str(s.codec_name) ?? 'unknown',
      language: language(s),
      ...(title(s) ? { title: title(s) } : {}),
      disposition: disposition(s),
    }));

  return {
    path: file,
    formatName: str(format.format_name) ?? 'unknown',
    sizeBytes: sizeBytes ?? num(format.size) ?? 0,
    bitRate: num(format.bit_rate),
    audio,
    subtitles,
  };
}
