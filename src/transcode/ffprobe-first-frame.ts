/**
 * The source's colour description read from its first decoded frame, for when the stream level does not state it.
 *
 * Why: HEVC/H.264/AV1/VP9 carry the colour description in the bitstream (VUI, sequence header). An MKV encoded
 * with ffmpeg 7+ the usual way (-color_trc smpte2084 + x265-params) has no container colour tags, and ffprobe 9.0
 * no longer fills the stream-level color_transfer from the bitstream: it prints "unknown" where 5.1 and 7.1 print
 * "smpte2084". Taken at its word, an HDR10 film would skip tone mapping and come out as washed-out 8-bit H.264
 * tagged PQ. The decoded frame carries the bitstream's values on every version, so one frame is read then.
 *
 * Cost: a second, short ffprobe that demuxes one packet of the video stream and decodes it (measured about as long
 * as the main probe: 0.3-0.8 s on a loaded 4K HEVC test). It runs only when the stream level leaves the transfer
 * unknown for a 10-bit-or-more stream of a codec that can carry it in-band, so a tagged source (every file written
 * by ffmpeg 5.1, most MP4s), 8-bit SDR and codecs without in-band colour pay nothing. A failed or slow frame probe
 * never fails the job: the stream-level answer (SDR) stands, as it did before this probe existed.
 *
 * The same source protections as the main probe (source-format.ts): "file:" URL, file protocol only, and the
 * demuxer pinned to the one the main probe found.
 */
import type { CommandRunner } from '../exec/runner.js';
import { hdrOf } from './ffprobe-parse.js';
import { sourceInputOptions, sourceUrl } from './source-format.js';
import type { VideoStreamInfo } from './types.js';

/** Codecs whose bitstream can state the colour description itself (so the first frame may know more). */
const IN_BAND_COLOUR_CODECS: ReadonlySet<string> = new Set(['hevc', 'h264', 'av1', 'vp9']);

/** ffprobe's words for "not stated" (absent fields are undefined already). */
const UNSTATED: ReadonlySet<string> = new Set(['unknown', 'unspecified', 'reserved', 'reserved0']);

/** The colour fields of one decoded frame, each undefined when the frame does not state it either. */
export interface FrameColour {
  colorTransfer?: string;
  colorPrimaries?: string;
  colorSpace?: string;
  colorRange?: string;
}

function stated(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && !UNSTATED.has(v) ? v : undefined;
}

/**
 * Whether the stream level leaves the transfer unknown for a codec that may state it in-band. An 8-bit stream
 * (pixel format known) is skipped: HDR10 and the HLG that players meet are 10-bit or more, and untagged 8-bit
 * H.264 is the commonest SDR file there is, so it must not pay for a second ffprobe.
 */
export function needsFirstFrameProbe(video: VideoStreamInfo): boolean {
  if (video.pixFmt !== 'unknown' && video.bitDepth < 10) return false;
  return stated(video.colorTransfer) === undefined && IN_BAND_COLOUR_CODECS.has(video.codec);
}

/**
 * ffprobe arguments that decode the first frame of stream `streamIndex` (absolute index) and print its colour
 * fields. `-read_intervals %+#1` stops after one packet of the selected stream; ffprobe flushes the decoder at the
 * end, so even a decoder with delay (frame threads, B-frames) returns that packet's frame.
 */
export function firstFrameProbeArgs(inputPath: string, demuxer: string, streamIndex: number): string[] {
  return [
    '-v',
    'error',
    ...sourceInputOptions(demuxer),
    '-read_intervals',
    '%+#1',
    '-select_streams',
    String(streamIndex),
    '-show_entries',
    'frame=color_transfer,color_primaries,color_space,color_range',
    '-of',
    'json',
    sourceUrl(inputPath),
  ];
}

/** Pure: the first frame's colour fields from ffprobe's JSON; undefined when it printed no frame. */
export function parseFirstFrameColour(json: unknown): FrameColour | undefined {
  const frames = (json as { frames?: unknown } | null)?.frames;
  const first: unknown = Array.isArray(frames) ? frames[0] : undefined;
  if (!first || typeof first !== 'object') return undefined;
  const f = first as Record<string, unknown>;
  return {
    colorTransfer: stated(f.color_transfer),
    colorPrimaries: stated(f.color_primaries),
    colorSpace: stated(f.color_space),
    colorRange: stated(f.color_range),
  };
}

/**
 * Pure: the stream with every colour field the stream level left unstated taken from the frame, and `hdr`
 * recomputed from the resulting transfer. Stated stream-level values win (the frame does not override them).
 */
export function withFrameColour(video: VideoStreamInfo, frame: FrameColour | undefined): VideoStreamInfo {
  if (!frame) return video;
  const colorTransfer = stated(video.colorTransfer) ?? frame.colorTransfer ?? video.colorTransfer;
  return {
    ...video,
    colorTransfer,
    colorPrimaries: stated(video.colorPrimaries) ?? frame.colorPrimaries ?? video.colorPrimaries,
    colorSpace: stated(video.colorSpace) ?? frame.colorSpace ?? video.colorSpace,
    colorRange: stated(video.colorRange) ?? frame.colorRange ?? video.colorRange,
    hdr: hdrOf(colorTransfer),
  };
}

export interface FirstFrameProbeDeps {
  ffprobePath: string;
  runner: CommandRunner;
  /** Default 15 s: one packet and one decoded frame take well under a second even for 4K HEVC. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs the first-frame probe; undefined when ffprobe fails, times out or prints no frame (the caller then keeps
 * the stream-level values). Never throws for the file's sake; a cancelled job is the caller's to notice.
 */
export async function probeFirstFrameColour(
  inputPath: string,
  demuxer: string,
  streamIndex: number,
  deps: FirstFrameProbeDeps,
): Promise<FrameColour | undefined> {
  const result = await deps.runner(deps.ffprobePath, firstFrameProbeArgs(inputPath, demuxer, streamIndex), {
    timeoutMs: deps.timeoutMs ?? 15_000,
    signal: deps.signal,
  });
  if (result.spawnError || result.timedOut || result.exitCode !== 0) return undefined;
  try {
    return parseFirstFrameColour(JSON.parse(result.stdout));
  } catch {
    return undefined;
  }
}
