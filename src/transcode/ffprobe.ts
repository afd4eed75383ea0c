/**
 * Step 2 of the pipeline: know the source. One ffprobe call (argument array, bounded time), parsed by the pure
 * parseFfprobeJson. Unreadable files fail fast with a MediaError that quotes ffprobe's own reason. When the stream
 * level leaves the colour transfer unknown (ffprobe 9.0 on untagged HEVC MKVs), a one-frame ffprobe reads it from
 * the bitstream (ffprobe-first-frame.ts). Whether the file is whole is a second, short ffprobe
 * (ffprobe-completeness.ts) that the pipeline runs beside ffmpeg.
 */
import { open, stat } from 'node:fs/promises';
import { JobCancelledError, MediaError, ToolchainError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { readHead } from '../util/read-head.js';
import { parseClock } from './clock.js';
import { needsFirstFrameProbe, probeFirstFrameColour, withFrameColour } from './ffprobe-first-frame.js';
import { parseFfprobeJson } from './ffprobe-parse.js';
import {
  pinnedDemuxerOf,
  refusedFormatIn,
  refusedSourceError,
  sourceInputOptions,
  sourceUrl,
} from './source-format.js';
import type { SourceInfo } from './types.js';

export { parseFfprobeJson } from './ffprobe-parse.js';

export interface ProbeSourceDeps {
  ffprobePath: string;
  runner: CommandRunner;
  /** Default 30 s: a healthy probe of a local or NAS file takes well under a second. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * How a refusal names the source, e.g. `input.source_url = "movies/a.mkv"` (the job's own words); the
   * absolute path by default.
   */
  shownAs?: string;
}

/** ffprobe's last meaningful stderr line, with the file path (already in our message) removed. */
function reasonOf(stderr: string, file: string): string {
  const named = sourceUrl(file);
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1) ?? '';
  return (
    last
      .split(named + ': ')
      .join('')
      .split(file + ': ')
      .join('')
      .slice(0, 300) || 'no error text'
  );
}

/** What the first ffprobe tells, plus what the completeness check (ffprobe-completeness.ts) needs. */
export interface ProbedSource {
  info: SourceInfo;
  /** format.start_time (0 when absent). */
  startSec: number;
  /** The video stream's own stated duration (the container's when it states none). */
  statedVideoSec: number;
  /** The allowlisted demuxer that read it ("matroska", "mov", ...): later reads of the file are pinned to it. */
  demuxer: string;
}

/**
 * One ffprobe of the source's format and streams. Throws JobValidationError when the file is not a single-file
 * media container (a playlist, a concat list, an image sequence: see source-format.ts), MediaError when it is not a
 * readable media file.
 */
export async function probeSourceInfo(inputPath: string, deps: ProbeSourceDeps): Promise<ProbedSource> {
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // Only the file protocol and only single-file demuxers: a playlist is refused before it opens what it names.
    ...sourceInputOptions(),
    // "file:" + the absolute path (validateJob): never an option, never another protocol.
    sourceUrl(inputPath),
  ];
  const result = await deps.runner(deps.ffprobePath, args, {
    timeoutMs: deps.timeoutMs ?? 30_000,
    signal: deps.signal,
  });
  if (deps.signal?.aborted) throw new JobCancelledError('the job was cancelled while probing the source');
  if (result.spawnError)
    throw new ToolchainError(
      `cannot run ffprobe (${deps.ffprobePath}): ${result.spawnError}; install ffmpeg or set ffprobe_path`,
    );
  if (result.timedOut)
    throw new MediaError(
      `cannot read ${inputPath}: ffprobe did not answer within ${Math.round((deps.timeoutMs ?? 30_000) / 1000)} s (is the NAS responding?)`,
    );
  const shown = deps.shownAs ?? inputPath;
  if (result.exitCode !== 0 && /Format not on whitelist/.test(result.stderr))
    throw refusedSourceError(shown, refusedFormatIn(result.stderr));
  // ffmpeg 7.1 and later no longer take an HLS playlist with another extension (.mkv) for one, so ffprobe fails
  // with "Invalid data" instead of naming the format: say what the file is, the same on every version.
  if (result.exitCode !== 0 && (await startsWithHlsTag(inputPath))) throw refusedSourceError(shown, 'hls');
  if (result.exitCode !== 0 && /moov atom not found/i.test(result.stderr) && (await startsWithMp4Header(inputPath)))
    throw new MediaError(
      `cannot read ${inputPath}: the file is incomplete (no index found: truncated, or still being copied?)`,
    );
  if (result.exitCode !== 0)
    throw new MediaError(
      `cannot read ${inputPath}: not a media file ffprobe understands (${reasonOf(result.stderr, inputPath)})`,
    );

  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    throw new MediaError(`cannot read ${inputPath}: ffprobe printed no readable description of it`);
  }
  let size: number | undefined;
  try {
    size = (await stat(inputPath)).size;
  } catch {
    size = undefined;
  }
  const parsed = parseFfprobeJson(json, inputPath, size);
  // ffprobe already refused other demuxers (-format_whitelist); this also holds for an ffprobe that ignored it.
  const demuxer = pinnedDemuxerOf(parsed.formatName);
  if (demuxer === null) throw refusedSourceError(shown, parsed.formatName);
  const info = await withInBandColour(parsed, inputPath, demuxer, deps);
  const format = (json as { format?: { start_time?: string } }).format;
  const start = Number(format?.start_time);
  const statedVideoSec = (info.video && videoDurationOf(json, info.video.index)) ?? info.durationSec;
  return { info, startSec: Number.isFinite(start) ? start : 0, statedVideoSec, demuxer };
}

/**
 * The source with the colour fields its stream level left unknown read from the first frame (HDR detection on
 * ffprobe 9.0); unchanged, at no cost, when the stream level states the transfer.
 */
async function withInBandColour(
  info: SourceInfo,
  inputPath: string,
  demuxer: string,
  deps: ProbeSourceDeps,
): Promise<SourceInfo> {
  if (!info.video || !needsFirstFrameProbe(info.video)) return info;
  const frame = await probeFirstFrameColour(inputPath, demuxer, info.video.index, deps);
  if (deps.signal?.aborted) throw new JobCancelledError('the job was cancelled while probing the source');
  return { ...info, video: withFrameColour(info.video, frame) };
}

/**
 * The video stream's own stated duration (stream.duration, or Matroska's DURATION tag "00:01:02.500000000"): a
 * source whose audio outlasts its video must not look truncated.
 */
function videoDurationOf(json: unknown, index: number): number | undefined {
  const streams = (json as { streams?: Array<Record<string, unknown>> }).streams ?? [];
  const s = streams.find((x) => x.index === index);
  const direct = Number(s?.duration);
  if (Number.isFinite(direct) && direct > 0) return direct;
  const tag = (s?.tags as Record<string, unknown> | undefined)?.DURATION;
  const sec = typeof tag === 'string' ? parseClock(tag) : undefined;
  return sec !== undefined && sec > 0 ? sec : undefined;
}

/** Whether the file opens with an HLS playlist's first line (after an optional UTF-8 byte order mark). */
async function startsWithHlsTag(file: string): Promise<boolean> {
  try {
    return /^(\uFEFF)?#EXTM3U/.test((await readHead(file, 10)).toString('utf8'));
  } catch {
    return false;
  }
}

/** An MP4/MOV file starts with an "ftyp" box: then a missing index means a cut-short file, not a foreign one. */
async function startsWithMp4Header(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(8);
      await fh.read(buf, 0, 8, 0);
      return buf.subarray(4, 8).toString('latin1') === 'ftyp';
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}
