/**
 * Step 3 of the pipeline (pure): a validated job plus what ffprobe saw -> the TranscodePlan that the argument
 * builders turn into one ffmpeg command. Geometry rules live in plan-geometry.ts, encoder rules in
 * plan-encoders.ts; this file puts them together with the audio, colour, keyframe and layout decisions.
 */
import type { EncoderFamily, ToneMapperPath } from '../capabilities/types.js';
import type { Config } from '../config.js';
import { chooseEncoders, type EncoderOptions } from './plan-encoders.js';
import { displaySize, fitRendition } from './plan-geometry.js';
import path from 'node:path';
import { JobValidationError } from '../errors.js';
import { APPLE_LIMITS, appleLimitProblem, type AppleCodecLimits } from '../media/codec-levels.js';
import { encoderFormatOf, tracksFolderName } from './job-fields.js';
import { planAudioGroups } from './plan-audio.js';
import { ASSUMED_TONE_MAPPERS, chooseToneMapper, uploadDeviceOf, type ToneMapChoice } from './plan-tonemap.js';
import { planSubtitles, type SidecarSubtitle } from './plan-subtitles.js';
import type {
  RenditionPlan,
  SkippedSubtitle,
  SourceInfo,
  SubtitleStreamInfo,
  TranscodePlan,
  VideoStreamInfo,
} from './types.js';
import type { ValidatedJob } from './validated-job.js';
import { planFrameRate } from './plan-frame-rate.js';

export { softwareEquivalent } from './plan-encoders.js';

export interface PlanOptions {
  /** Absolute staging folder of this job (jobStagingDir). */
  stagingDir: string;
  encoders: EncoderOptions['encoders'];
  /** Verified hwaccels (cuda, qsv, vaapi, ...). */
  hwaccels: string[];
  allowSoftwareFallback: boolean;
  /** libx264/libx265 preset; "auto" means "fast" here (the caller may resolve it per host first). */
  softwarePreset: string;
  hwaccelMode: Config['hwaccel'];
  /** VAAPI/QSV render node or NVIDIA device index. */
  hwDevice?: string;
  /** Subtitle files found beside the source (job/sidecars.ts); none when absent. */
  sidecars?: readonly SidecarSubtitle[];
  /** Highest H.264/HEVC levels (hls_codec_limits): a rung that cannot fit them is refused before encoding. */
  codecLimits?: AppleCodecLimits;
  /**
   * Tone-mapping paths verified on this host (capabilities/tone-mappers.ts usableToneMappers). Absent: the CPU
   * chain and tonemap_vaapi are assumed (ASSUMED_TONE_MAPPERS), as before the probe verified them.
   */
  toneMappers?: readonly ToneMapperPath[];
  /**
   * Where ffmpeg writes the whole WebVTT tracks before they are cut (default `<stagingDir>/.subtitles`). A stitch
   * stages on the NAS but keeps these in its local temp_dir: ffmpeg's own writes cannot be checked on the NAS.
   */
  subtitleWorkDir?: string;
}

/** Peak rate allowed above the average (VBV): +20 % keeps segment sizes close to BANDWIDTH. */
const MAX_RATE_FACTOR = 1.2;
/** VBV buffer of two seconds at the average rate: smooth quality without big bursts. */
const BUF_SIZE_FACTOR = 2;

const HW_DECODE_OF: Partial<Record<EncoderFamily, 'cuda' | 'qsv' | 'vaapi'>> = {
  nvidia: 'cuda',
  qsv: 'qsv',
  vaapi: 'vaapi',
};

/** Codecs and chroma formats that the GPU decoders of every family we drive handle. */
const HW_DECODABLE_CODECS = new Set(['h264', 'hevc', 'mpeg2video', 'vp9', 'av1']);
const HW_DECODABLE_PIXFMTS = new Set(['yuv420p', 'yuvj420p', 'yuv420p10le', 'nv12', 'p010le']);

function audioOnlySkip(s: SubtitleStreamInfo): SkippedSubtitle {
  return {
    index: s.index,
    codec: s.codec,
    ...(s.language ? { language: s.language } : {}),
    reason: 'an audio-only ladder has no picture for subtitles to follow',
  };
}

/**
 * Refuses, before hours of encoding, a rung whose size and frame rate need a higher H.264/HEVC level than the
 * ladder may use (hls_codec_limits; the verify step checks the real streams again). No encoder setting can fix
 * that: a 2160p H.264 rung needs level 5.1, whatever the bitrate.
 */
function assertWithinCodecLimits(renditions: readonly RenditionPlan[], fps: number, limits: AppleCodecLimits): void {
  for (const r of renditions) {
    const problem = appleLimitProblem(encoderFormatOf(r.encoder), r.width, r.height, fps, r.maxRate, limits);
    if (problem)
      throw new JobValidationError(
        `outputs[${r.index ?? 0}] (${r.destPath}, ${r.encoder}): ${problem}, or set hls_codec_limits to ` +
          '"current" (Apple\'s current spec) or "off"',
      );
  }
}

/** Folder inside staging where ffmpeg writes whole subtitle tracks before they are cut (never committed). */
export const SUBTITLE_WORK_DIR = '.subtitles';

/** The GPU decode a ladder could use, before deciding whether its frames stay on the device; null: CPU decode. */
function gpuDecodeKind(
  families: EncoderFamily[],
  v: VideoStreamInfo,
  opts: PlanOptions,
): 'cuda' | 'qsv' | 'vaapi' | null {
  const hardware = [...new Set(families.filter((f) => f !== 'software'))];
  if (hardware.length > 1) return null;
  const softwareRungs = families.some((f) => f === 'software');
  const kind = hardware[0] ? HW_DECODE_OF[hardware[0]] : decodeOnlyKind(opts);
  if (!kind || !opts.hwaccels.includes(kind)) return null;
  // Software rungs next to GPU frames need a download after the GPU scale; only the CUDA path (scale_cuda +
  // hwdownload) is proven for that, so mixed QSV/VAAPI ladders decode on the CPU as before.
  if (softwareRungs && kind !== 'cuda') return null;
  if (!HW_DECODABLE_CODECS.has(v.codec) || !HW_DECODABLE_PIXFMTS.has(v.pixFmt)) return null;
  return kind;
}

/**
 * Where the ladder decodes and how it tone maps. Frames stay on the GPU unless a CPU-only step needs them:
 * ffmpeg's autorotate inserts a CPU transpose, and tone mapping runs on the device only through a device path
 * (tonemap_vaapi, vpp_qsv, OpenCL interop; plan-tonemap.ts).
 */
function planDecodeAndToneMap(
  families: EncoderFamily[],
  v: VideoStreamInfo,
  toneMap: boolean,
  opts: PlanOptions,
): { hwDecode: TranscodePlan['hwDecode']; toneMap?: ToneMapChoice } {
  const kind = gpuDecodeKind(families, v, opts);
  const choice =
    toneMap && v.hdr
      ? chooseToneMapper({
          hdr: v.hdr,
          verified: opts.toneMappers ?? ASSUMED_TONE_MAPPERS,
          ...(kind ? { decode: kind } : {}),
          rotation: v.rotation,
          vaapiOrQsvEncoder: families.some((f) => f === 'vaapi' || f === 'qsv'),
        })
      : undefined;
  const result = (hwDecode: TranscodePlan['hwDecode']) => ({ hwDecode, ...(choice ? { toneMap: choice } : {}) });
  if (!kind) return result(null);
  const framesOnDevice = v.rotation === 0 && (!choice || choice.onDevice);
  // ffmpeg 5.1 decodes on QSV through its *_qsv decoders, whose frames stay on the device; without a reliable
  // download path, a QSV ladder that needs CPU filters decodes on the CPU instead.
  if (kind === 'qsv' && !framesOnDevice) return result(null);
  // Decoding on the GPU only to download every full-size frame for the CPU tone-mapping chain gained nothing when
  // measured (bench/gpu-results.md: NVDEC + CPU tone map was 1.08x slower than CPU decode on an H200): without a
  // GPU encoder, such a ladder decodes on the CPU. A GPU tone mapper (libplacebo, OpenCL) takes that work off the
  // CPU, so NVDEC then decodes HDR too.
  const gpuToneMapOnCpuFrames = choice?.path === 'libplacebo' || choice?.path === 'opencl';
  const hardware = families.some((f) => f !== 'software');
  if (!hardware && !framesOnDevice && !(gpuToneMapOnCpuFrames && v.rotation === 0)) return result(null);
  return result({ kind, device: opts.hwDevice, framesOnDevice });
}

/**
 * A ladder with no hardware encoder can still decode on an NVIDIA GPU: NVDEC takes the decoding of a 4K HEVC source
 * off the CPU (a card without NVENC, such as a data-centre GPU), and scale_cuda shrinks the frames before they are
 * downloaded for x264. Measured on an H200 host, 4K HEVC 10-bit SDR to three libx264 rungs: 1.33x faster on 16
 * cores, 1.4x on 6. The probe verified the cuda hwaccel with a real decode.
 */
function decodeOnlyKind(opts: PlanOptions): 'cuda' | undefined {
  return opts.hwaccelMode === 'auto' || opts.hwaccelMode === 'nvenc' ? 'cuda' : undefined;
}

/**
 * Families whose hardware a plan touches: its GPU encoders, and the decoder's family (NVDEC feeding libx264 counts
 * as NVIDIA), for the GPU choice and for what a device error re-probes.
 */
export function hardwareFamiliesOf(plan: Pick<TranscodePlan, 'renditions' | 'hwDecode'>): EncoderFamily[] {
  const families = plan.renditions.map((r) => r.family).filter((f) => f !== 'software');
  const kind = plan.hwDecode?.kind;
  const decode = kind ? (Object.keys(HW_DECODE_OF) as EncoderFamily[]).filter((f) => HW_DECODE_OF[f] === kind) : [];
  return [...new Set([...families, ...decode])];
}

function uniqueLabel(base: string, used: Set<string>): string {
  let label = base;
  for (let n = 2; used.has(label); n++) label = `${base}-${n}`;
  used.add(label);
  return label;
}

/**
 * The rendition's staging folder, a synthetic name that ffmpeg's -var_stream_map and %v patterns carry safely:
 * "." when its destPath is masterDir itself (a single output: the master lives in that folder), else "v<i>".
 * The real folder names (spaces, commas, '%', any letter) only appear at commit time and in the master's URIs.
 */
function variantDirOf(destPath: string, masterDir: string, i: number): string {
  return destPath === masterDir ? '.' : `v${i}`;
}

/** The video rungs of the job, one per output: size, rate control and encoder. */
function planVideoRungs(
  v: ValidatedJob,
  video: VideoStreamInfo,
  opts: PlanOptions,
  audioGroupOfOutput: ReadonlyArray<string | undefined>,
  playlistName: string,
): RenditionPlan[] {
  const display = displaySize(video);
  const sizes = v.outputs.map((o) => fitRendition(o.resolution, display));
  const choices = chooseEncoders(
    v.outputs.map((o, i) => ({ requested: o.codec, pixels: sizes[i]!.width * sizes[i]!.height })),
    opts,
  );
  const labels = new Set<string>();
  return v.outputs.map((o, i) => {
    const size = sizes[i]!;
    const choice = choices[i]!;
    return {
      name: uniqueLabel(`${Math.min(size.width, size.height)}p`, labels),
      variantDir: variantDirOf(o.destPath, v.masterDir, i),
      index: o.index,
      ...(audioGroupOfOutput[i] ? { audioGroupId: audioGroupOfOutput[i] } : {}),
      clamped: size.clamped,
      destPath: o.destPath,
      width: size.width,
      height: size.height,
      videoBitrate: o.videoBitrate,
      maxRate: Math.round(o.videoBitrate * MAX_RATE_FACTOR),
      bufSize: Math.round(o.videoBitrate * BUF_SIZE_FACTOR),
      encoder: choice.encoder,
      requestedEncoder: o.codec,
      family: choice.family,
      playlistName,
    };
  });
}

/** hwDecode, and for an HDR source the tone-mapping path and its upload device. */
function planDecodeFields(
  renditions: readonly RenditionPlan[],
  video: VideoStreamInfo | null,
  toneMap: boolean,
  opts: PlanOptions,
): Pick<TranscodePlan, 'hwDecode' | 'toneMapper' | 'toneMapDevice'> {
  if (!video) return { hwDecode: null };
  const families = renditions.map((r) => r.family);
  const { hwDecode, toneMap: choice } = planDecodeAndToneMap(families, video, toneMap, opts);
  if (!choice) return { hwDecode };
  const nvidia = hwDecode?.kind === 'cuda' || families.includes('nvidia');
  const device = uploadDeviceOf(choice.path, nvidia, opts.hwDevice);
  return { hwDecode, toneMapper: choice.path, ...(device ? { toneMapDevice: device } : {}) };
}

/**
 * `opts.stagingDir` holds no '%' (the hls muxer would expand it): the job's validation refuses such a temp_dir.
 * An audio-only source (source.video null) plans no video rung: its ladder is the audio renditions alone.
 */
export function planTranscode(v: ValidatedJob, source: SourceInfo, opts: PlanOptions): TranscodePlan {
  const video = source.video;
  const limits = opts.codecLimits ?? APPLE_LIMITS;
  // Constant-rate output at the source's rate: a variable-rate source at its nominal rate, above 60 fps thinned
  // (plan-frame-rate.ts).
  const { fps, fpsFilter } = planFrameRate(video, limits.maxFrameRate);
  // One GOP per segment: with keyframes also forced at every segment boundary, all renditions cut at the same
  // instants, so a player can switch between them at any segment.
  const gopFrames = Math.max(1, Math.round(fps * v.segmentTime));
  const toneMap = video !== null && video.hdr !== null; // every rendition is 8-bit SDR BT.709
  // Media playlists share one name (the hls muxer takes one pattern); it must differ from the master's, which
  // sits in the same folder when a rendition's folder is masterDir itself.
  const playlistName = v.masterPlaylistName.toLowerCase() === 'stream.m3u8' ? 'media.m3u8' : 'stream.m3u8';

  const tracksDir = tracksFolderName(v.masterPlaylistName);
  const audio = planAudioGroups(
    source.audio,
    v.audio,
    v.outputs.map((o) => o.audioBitrate),
    tracksDir,
  );
  // Subtitle segments follow the picture's segments and clock: an audio-only ladder has none to follow.
  const subs = video
    ? planSubtitles(
        source.subtitles,
        opts.sidecars ?? [],
        v.subtitles,
        tracksDir,
        opts.subtitleWorkDir ?? path.join(opts.stagingDir, SUBTITLE_WORK_DIR),
      )
    : { subtitles: [], skipped: source.subtitles.map((s) => audioOnlySkip(s)) };
  const renditions = video ? planVideoRungs(v, video, opts, audio.groupOfOutput, playlistName) : [];
  assertWithinCodecLimits(renditions, fps, limits);
  // HEVC and AV1 travel in fMP4 only (Apple's authoring spec 1.5; hls.js and Safari play no HEVC in MPEG-TS, and
  // MPEG-TS has no AV1 mapping ffmpeg 5.1 writes): a ladder with such a rung is written as fMP4 whatever
  // segment_type said, for every rung, so they switch cleanly.
  const fmp4Only = renditions.some((r) => encoderFormatOf(r.encoder) !== 'h264');
  const segmentType = fmp4Only ? 'fmp4' : v.segmentType;
  const decodeFields = planDecodeFields(renditions, video, toneMap, opts);

  return {
    jobId: v.job.job_id,
    inputPath: v.inputPath,
    source,
    stagingDir: opts.stagingDir,
    masterDir: v.masterDir,
    masterPlaylistName: v.masterPlaylistName,
    manifestUrl: v.manifestUrl,
    segmentTime: v.segmentTime,
    segmentType,
    playlistName,
    fps,
    ...(fpsFilter !== undefined ? { frameRateCap: fpsFilter } : {}),
    gopFrames,
    audioGroups: audio.groups,
    subtitles: subs.subtitles,
    skippedSubtitles: subs.skipped,
    tracksDir,
    toneMap,
    deinterlace: video?.interlaced === true,
    ...decodeFields,
    hwDevice: opts.hwDevice,
    softwarePreset: opts.softwarePreset === 'auto' ? 'fast' : opts.softwarePreset,
    renditions,
  };
}
