/**
 * Step 2 of the pipeline: know the source. One ffprobe call (argument array, bounded time), parsed by the pure
 * parseFfprobeJson. Unreadable files fail fast with a MediaError that quotes ffprobe's own reason.
 */
import { open, stat } from 'node:fs/promises';
import { JobCancelledError, MediaError, ToolchainError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { parseFfprobeJson } from './ffprobe-parse.js';
import type { SourceInfo } from './types.js';

export { parseFfprobeJson } from './ffprobe-parse.js';

export interface ProbeSourceDeps {
  ffprobePath: string;
  runner: CommandRunner;
  /** Default 30 s: a healthy probe of a local or NAS file takes well under a second. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** ffprobe's last meaningful stderr line, with the file path (already in our message) removed. */
function reasonOf(stderr: string, file: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1) ?? '';
  return (
    last
      .split(file + ': ')
      .join('')
      .slice(0, 300) || 'no error text'
  );
}

export async function probeSource(inputPath: string, deps: ProbeSourceDeps): Promise<SourceInfo> {
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // The path is absolute (validateJob), so it can never be taken for an option.
    inputPath,
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
  const info = parseFfprobeJson(json, inputPath, size);
  const format = (json as { format?: { start_time?: string } }).format;
  const start = Number(format?.start_time);
  const videoEnd = videoDurationOf(json, info.video.index) ?? info.durationSec;
  await checkNotTruncated(info, Number.isFinite(start) ? start : 0, videoEnd, deps);
  if (deps.signal?.aborted) throw new JobCancelledError('the job was cancelled while probing the source');
  return info;
}

/**
 * Some containers state their duration in the header (Matroska), so ffprobe "succeeds" on a file cut short by an
 * interrupted copy. Read the video packets of the last seconds: when the last one is far before the stated end,
 * the file is truncated. Conservative on purpose (no packets read = no verdict) so a healthy file is never refused;
 * the post-transcode verification catches what this misses.
 */
async function checkNotTruncated(
  info: SourceInfo,
  start: number,
  statedSec: number,
  deps: ProbeSourceDeps,
): Promise<void> {
  const from = start + Math.max(0, statedSec - 10);
  const result = await deps.runner(
    deps.ffprobePath,
    [
      '-v',
      'error',
      '-select_streams',
      String(info.video.index),
      // Seek close to the stated end and list packet timestamps from there on.
      '-read_intervals',
      `${from.toFixed(3)}%`,
      '-show_entries',
      'packet=pts_time',
      '-of',
      'csv=p=0',
      info.path,
    ],
    { timeoutMs: deps.timeoutMs ?? 30_000, signal: deps.signal },
  );
  if (result.exitCode !== 0 || result.timedOut) return;
  const times = result.stdout
    .split(/\r?\n/)
    .map((l) => Number(l.split(',')[0]))
    .filter((n) => Number.isFinite(n) && n >= 0);
  if (times.length === 0) return;
  const last = Math.max(...times) - start;
  if (last < statedSec * 0.9 - 1)
    throw new MediaError(
      `${info.path} is truncated: its header says ${statedSec.toFixed(1)} s but the video stops at ${Math.max(0, last).toFixed(1)} s (interrupted copy?)`,
    );
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
  const m = typeof tag === 'string' ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(tag) : null;
  if (!m) return undefined;
  const sec = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return sec > 0 ? sec : undefined;
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
