/**
 * Which files the worker reads as a source, and how it hands them to ffmpeg/ffprobe.
 *
 * A source must be ONE media file. Some ffmpeg demuxers are recipes instead: an HLS or DASH playlist, a concat list
 * (ffconcat), an image sequence ("frame%03d.png"), an SDP description, a tee or a lavfi graph. They open other files
 * or URLs named inside the file (or in its name), anywhere the worker's account can read, and the transcode then
 * publishes those. So every read of a NAS file:
 *  - names it as "file:<absolute path>": ffmpeg can only take it for a local file, never for another protocol
 *    ("concat:", "subfile:", "http:") or an option;
 *  - allows only the file protocol (-protocol_whitelist file) for that input, so even a demuxer we did not foresee
 *    cannot open a URL (the whitelist applies to the input only; ffmpeg's own outputs and "-progress pipe:1" are
 *    opened separately and are not affected);
 *  - is read by a demuxer on the allowlist below: ffprobe is limited to it (-format_whitelist, refused before the
 *    demuxer opens anything), and ffmpeg and the completeness check are pinned to the demuxer ffprobe found
 *    (-f <name>), so a file swapped for a playlist between the probe and the transcode is refused by ffmpeg too.
 *
 * Windows: "file:C:\\media\\a.mkv" and "file:\\\\server\\share\\a.mkv" are read by ffmpeg's file protocol as the
 * path after "file:" (it strips the prefix and opens the rest with the C runtime), so the same form works there.
 */
import { JobValidationError } from '../errors.js';

/**
 * Single-file media containers, keyed by the demuxer's first name (what `-f` takes and what ffprobe's
 * format_name starts with). Each demuxer below reads only its own file: none follows references to other files
 * with ffmpeg's default options (the mov demuxer CAN follow "dref" data references to other files, but only with
 * -enable_drefs 1, which is off by default and never set here).
 */
const SINGLE_FILE_DEMUXERS: Readonly<Record<string, string>> = {
  matroska: 'Matroska/WebM (.mkv, .webm)', // "matroska,webm"; ffmpeg does not follow linked segments
  mov: 'MP4/QuickTime (.mp4, .m4v, .mov, .3gp)', // "mov,mp4,m4a,3gp,3g2,mj2"
  mpegts: 'MPEG transport stream (.ts, .m2ts, .mts)',
  mpeg: 'MPEG program stream (.mpg, .vob)', // the VobSub (.idx + .sub) pair is the separate "vobsub" demuxer
  avi: 'AVI',
  flv: 'Flash video (.flv)',
  asf: 'ASF/Windows Media (.wmv, .asf)',
  ogg: 'Ogg (.ogv)',
  mxf: 'MXF', // ffmpeg reads the essence inside the file only (no OP-Atom external references)
  nut: 'NUT',
  wtv: 'Windows TV recording (.wtv)',
  dv: 'DV (.dv)',
  // Audio-only sources (music, audiobooks, radio plays): each of these reads its own file only.
  mp3: 'MP3 (.mp3)',
  flac: 'FLAC (.flac)',
  wav: 'WAV (.wav)',
  aac: 'raw AAC (.aac)',
  aiff: 'AIFF (.aif, .aiff)',
};

/** The value for ffprobe's -format_whitelist: every demuxer above, and nothing else. */
export const SOURCE_FORMAT_WHITELIST = Object.keys(SINGLE_FILE_DEMUXERS).join(',');

/** Demuxers that read other files or URLs, named for the refusal message. */
const RECIPES: Readonly<Record<string, string>> = {
  hls: 'an HLS playlist',
  dash: 'a DASH manifest',
  concat: 'a concat list',
  image2: 'an image sequence',
  image2pipe: 'an image sequence',
  sdp: 'an SDP session description',
  rtsp: 'an RTSP stream',
  rtp: 'an RTP stream',
  tee: 'a tee list',
  lavfi: 'a filter graph',
  data: 'raw data',
};

/** The name to pin with `-f` for a format_name ffprobe printed ("mov,mp4,m4a,3gp,3g2,mj2" -> "mov"); null when refused. */
export function pinnedDemuxerOf(formatName: string): string | null {
  const first = formatName.split(',')[0]!.trim();
  return Object.prototype.hasOwnProperty.call(SINGLE_FILE_DEMUXERS, first) ? first : null;
}

/** The input name of a NAS file for ffmpeg and ffprobe (see the header). `abs` must be absolute. */
export function sourceUrl(abs: string): string {
  return `file:${abs}`;
}

/** Input options for reading a NAS file: file protocol only, and the demuxer pinned when it is known. */
export function sourceInputOptions(demuxer?: string): string[] {
  return [
    '-protocol_whitelist',
    'file',
    ...(demuxer ? ['-f', demuxer] : ['-format_whitelist', SOURCE_FORMAT_WHITELIST]),
  ];
}

/** The demuxer name ffmpeg logged when it refused one for not being on -format_whitelist ("[hls @ 0x..] Format not on whitelist"). */
export function refusedFormatIn(stderr: string): string | undefined {
  const m = /\[([\w,]+) @ (?:0x)?[0-9a-fA-F]+\] Format not on whitelist/.exec(stderr);
  return m?.[1];
}

/**
 * The refusal of a source whose format is not on the allowlist, naming what it is and why that matters.
 * @param shown how the message names the source, e.g. `input.source_url = "movies/a.mkv"`.
 */
export function refusedSourceError(shown: string, formatName: string | undefined): JobValidationError {
  const first = formatName?.split(',')[0]?.trim();
  const recipe = first ? RECIPES[first] : undefined;
  const accepted = `accepted containers: ${Object.values(SINGLE_FILE_DEMUXERS).join(', ')}`;
  if (recipe)
    return new JobValidationError(
      `${shown} is ${recipe} (format ${first}), not a media file; playlists, concat lists and image sequences ` +
        `can read files outside the NAS, so they are refused (${accepted})`,
    );
  return new JobValidationError(
    `${shown} is not in a single-file media container the worker reads (format ${first ?? 'unknown'}); ${accepted}`,
  );
}
