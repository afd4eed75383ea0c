/**
 * Hand-made SourceInfo / ValidatedJob / plan options for pure planning and argv tests (no disk, no ffprobe).
 * Shared API: only ever ADD options/functions.
 */
import type { RequestedResolution } from '../../src/media/resolutions.js';
import type { PlanOptions } from '../../src/transcode/plan.js';
import type {
  AudioStreamInfo,
  StreamDisposition,
  SourceInfo,
  SubtitleStreamInfo,
  VideoStreamInfo,
} from '../../src/transcode/types.js';
import type { ValidatedJob, ValidatedOutput } from '../../src/transcode/validated-job.js';

/** Every disposition flag off, then `on` set. */
export function disposition(on: Partial<StreamDisposition> = {}): StreamDisposition {
  return {
    default: false,
    forced: false,
    comment: false,
    hearingImpaired: false,
    visualImpaired: false,
    descriptions: false,
    ...on,
  };
}

/** A subtitle stream as ffprobe-parse makes it. */
export function subtitleStream(over: Partial<SubtitleStreamInfo> & { index: number }): SubtitleStreamInfo {
  return { codec: 'subrip', disposition: disposition(), ...over };
}

export const NAS = '/mnt/nas';
export const STAGING = '/tmp/tw/jobs/job-1';

export function makeSourceInfo(
  video: Partial<VideoStreamInfo> = {},
  audio: Array<Partial<AudioStreamInfo>> = [{}],
  over: Partial<SourceInfo> = {},
): SourceInfo {
  return {
    path: `${NAS}/movies/a.mkv`,
    formatName: 'matroska,webm',
    durationSec: 10,
    sizeBytes: 10_000_000,
    bitRate: 8_000_000,
    video: {
      index: 0,
      codec: 'h264',
      width: 1920,
      height: 1080,
      sarNum: 1,
      sarDen: 1,
      rotation: 0,
      fps: 25,
      pixFmt: 'yuv420p',
      bitDepth: 8,
      hdr: null,
      interlaced: false,
      ...video,
    },
    audio: audio.map((a, i) => ({
      index: i + 1,
      codec: 'aac',
      channels: 2,
      sampleRate: 48_000,
      isDefault: i === 0,
      disposition: disposition({ default: a.isDefault ?? i === 0 }),
      ...a,
    })),
    subtitles: [],
    ...over,
  };
}

export interface OutputSpec {
  res: RequestedResolution | string;
  dest: string;
  codec?: string;
  bitrate?: number;
  audioBitrate?: number;
}

function toResolution(res: RequestedResolution | string): RequestedResolution {
  if (typeof res !== 'string') return res;
  const m = /^(\d+)x(\d+)$/.exec(res);
  if (m) return { kind: 'size', width: Number(m[1]), height: Number(m[2]) };
  return { kind: 'height', height: res === '4k' ? 2160 : Number(res.replace('p', '')) };
}

function commonDir(paths: string[]): string {
  const split = paths.map((p) => p.split('/'));
  const first = split[0]!;
  let n = first.length;
  for (const parts of split.slice(1)) {
    let i = 0;
    while (i < n && parts[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join('/');
}

export function makeValidatedJob(
  outputs: OutputSpec[],
  over: Partial<
    Pick<ValidatedJob, 'masterPlaylistName' | 'segmentTime' | 'segmentType' | 'inputPath' | 'audio' | 'subtitles'>
  > = {},
): ValidatedJob {
  const outs: ValidatedOutput[] = outputs.map((o, index) => ({
    destPath: o.dest,
    absDestDir: `${NAS}/${o.dest}`,
    resolution: toResolution(o.res),
    videoBitrate: o.bitrate ?? 2_000_000,
    audioBitrate: o.audioBitrate ?? 128_000,
    codec: o.codec ?? 'libx264',
    index,
  }));
  const masterDir = commonDir(outs.map((o) => o.destPath));
  const masterPlaylistName = over.masterPlaylistName ?? 'index.m3u8';
  return {
    job: {
      job_id: 'job-1',
      input: { source_url: 'movies/a.mkv' },
      outputs: outs.map((o) => ({ resolution: 'x', bitrate: 'x', codec: o.codec, dest_path: o.destPath })),
    },
    inputPath: over.inputPath ?? `${NAS}/movies/a.mkv`,
    outputs: outs,
    masterPlaylistName,
    segmentTime: over.segmentTime ?? 6,
    segmentType: over.segmentType ?? 'ts',
    masterDir,
    manifestUrl: `/${masterDir}/${masterPlaylistName}`,
    caseInsensitive: false,
    audio: over.audio ?? { codec: 'aac', bitrate: 128_000, surround: null, languages: [] },
    subtitles: over.subtitles ?? { include: true, sidecars: true },
  };
}

/** The usual three-rung ladder under processed/movie/. */
export function ladderOf(codec = 'libx264'): OutputSpec[] {
  return [
    { res: '1080p', dest: 'processed/movie/1080p', codec, bitrate: 5_000_000 },
    { res: '720p', dest: 'processed/movie/720p', codec, bitrate: 2_500_000 },
    { res: '480p', dest: 'processed/movie/480p', codec, bitrate: 1_000_000 },
  ];
}

/** Plan options with everything verified by default; override `verified` to simulate a host. */
export function makePlanOptions(
  over: Partial<PlanOptions> & { verified?: string[]; maxSessions?: number } = {},
): PlanOptions {
  const { verified, maxSessions, ...rest } = over;
  const names = new Set(verified ?? ['libx264', 'libx265']);
  return {
    stagingDir: STAGING,
    encoders: { verified: (n) => names.has(n), maxSessions: maxSessions ?? 3 },
    hwaccels: [],
    allowSoftwareFallback: true,
    softwarePreset: 'fast',
    hwaccelMode: 'auto',
    ...rest,
  };
}
