/**
 * The video facts a master playlist needs of a rung (exact codec string, real size), read from the first bytes of
 * its first segment or init section in-process (segment-video.ts), with ffprobe as the fallback for a stream the
 * reader does not understand.
 */
import type { CommandRunner } from '../exec/runner.js';
import type { RenditionPlan } from '../transcode/types.js';
import { avcCodecFromBytes, videoCodecString } from './master-playlist.js';
import { readVideoParams } from './segment-video.js';
import { readHead } from '../util/read-head.js';

export interface VideoFactsOptions {
  runner: CommandRunner;
  ffprobePath: string;
  signal?: AbortSignal;
  /** Told when a segment's video parameters could not be read in-process and ffprobe is asked instead. */
  onFallback?: (file: string) => void;
}

export interface StreamFacts {
  codec: string;
  width: number;
  height: number;
}

/**
 * Codec string and real size of the first video stream of a segment (or fMP4 init section), read from its
 * sequence parameter set in-process (segment-video.ts): the bytes are checked for real and no ffprobe process is
 * started (~70 ms of start-up each, the bulk of what verification used to cost). ffprobe remains the fallback for
 * a stream the reader does not understand.
 */
export async function probeVideo(file: string, r: RenditionPlan, opts: VideoFactsOptions): Promise<StreamFacts> {
  const head = await readHead(file, 256 * 1024);
  const fromBytes = readVideoParams(head);
  if (fromBytes) return fromBytes;
  opts.onFallback?.(file);
  return probeVideoWithFfprobe(file, r, head, opts);
}

async function probeVideoWithFfprobe(
  file: string,
  r: RenditionPlan,
  head: Uint8Array,
  opts: VideoFactsOptions,
): Promise<StreamFacts> {
  const res = await opts.runner(
    opts.ffprobePath,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,profile,level,width,height',
      '-of',
      'json',
      file,
    ],
    { timeoutMs: 15_000, signal: opts.signal },
  );
  const hevc = /hevc|265/.test(r.encoder);
  let s: Record<string, unknown> | undefined;
  try {
    if (res.exitCode === 0) s = (JSON.parse(res.stdout) as { streams?: Array<Record<string, unknown>> }).streams?.[0];
  } catch {
    s = undefined;
  }
  // H.264: the exact profile/constraints/level from the bytes when they can be found (ffprobe reports no profile
  // for an fMP4 init section, and its profile names lose the constraint flags).
  const avc = hevc ? undefined : avcCodecFromBytes(head);
  const codec =
    avc ??
    (s
      ? videoCodecString(String(s.codec_name ?? ''), s.profile as string | undefined, Number(s.level) || undefined)
      : videoCodecString(hevc ? 'hevc' : 'h264', undefined, undefined));
  return { codec, width: Number(s?.width) || r.width, height: Number(s?.height) || r.height };
}
