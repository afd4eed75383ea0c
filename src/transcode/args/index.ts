/**
 * The ffmpeg command of a job, as a pure function of its plan: ONE process decodes the source once, splits the
 * picture into one branch per rendition (filter_complex), encodes every branch with its family's encoder and
 * writes all media playlists plus the master playlist through one hls muxer (var_stream_map + master_pl_name).
 *
 *   ffmpeg <global> <hw device/decode> -i <source>
 *          -filter_complex "[0:V]pre-filters,split=N[s0][s1]...;[s0]scale...[v0];[s1]scale...[v1]"
 *          -map [v0] -map 0:A  -map [v1] -map 0:A ...  <per-stream encoder/audio options>  <hls muxer> <pattern>
 *
 * Nothing in the argv comes from the job unparsed: paths are absolute, numbers are numbers, encoder names come
 * from a fixed list, and folder names were restricted by validateJob. The source is read as "file:<path>" with the
 * file protocol only and the demuxer the probe found (source-format.ts): never as a playlist or a URL.
 */
import type { EncoderFamily } from '../../capabilities/types.js';
import type { AudioRenditionPlan, RenditionPlan, TranscodePlan } from '../types.js';
import { videoStreamOf } from '../types.js';
import { allAudioRenditions } from '../plan-audio.js';
import { amfBuilder } from './amf.js';
import { stereoDownmixFilters, surroundFilters } from './downmix.js';
import {
  audioArgs,
  colourTagArgs,
  cpuPreFilters,
  globalArgs,
  hevcTagArgs,
  audioTimingFilters,
  hlsArgs,
  keyframeArgs,
  muxerPath,
  rateArgs,
  toneMapDeviceArgs,
  type FamilyBuilder,
} from './common.js';
import { nvidiaBuilder, nvidiaInputArgs } from './nvidia.js';
import { qsvBuilder, qsvInputArgs } from './qsv.js';
import { softwareBuilder } from './software.js';
import { pinnedDemuxerOf, sourceInputOptions, sourceUrl } from '../source-format.js';
import { v4l2m2mBuilder } from './v4l2m2m.js';
import { vaapiBuilder, vaapiDeviceArgs, vaapiInputArgs } from './vaapi.js';

const BUILDERS: Record<Exclude<EncoderFamily, 'audio'>, FamilyBuilder> = {
  software: softwareBuilder,
  nvidia: nvidiaBuilder,
  qsv: qsvBuilder,
  vaapi: vaapiBuilder,
  v4l2m2m: v4l2m2mBuilder,
  amf: amfBuilder,
};

const DECODE_FAMILY: Record<'cuda' | 'qsv' | 'vaapi', FamilyBuilder> = {
  cuda: nvidiaBuilder,
  qsv: qsvBuilder,
  vaapi: vaapiBuilder,
};

export function builderOf(family: EncoderFamily): FamilyBuilder {
  return family === 'audio' ? softwareBuilder : BUILDERS[family];
}

/** Hardware device and decoder options, placed before -i. */
export function inputArgs(plan: TranscodePlan): string[] {
  const usesVaapi = plan.renditions.some((r) => r.family === 'vaapi') || plan.hwDecode?.kind === 'vaapi';
  return [
    ...(usesVaapi ? vaapiDeviceArgs(plan) : []),
    // Vulkan/OpenCL for a tone map on CPU frames: never beside VAAPI's -filter_hw_device (the planner sees to it).
    ...toneMapDeviceArgs(plan),
    ...nvidiaInputArgs(plan),
    ...qsvInputArgs(plan),
    ...vaapiInputArgs(plan),
  ];
}

/** Filters after the split for rendition r: its own family's scale, or the GPU's scale and a download. */
function rungFilters(
  plan: TranscodePlan,
  r: RenditionPlan,
  onDevice: boolean,
  decodeBuilder: FamilyBuilder | undefined,
): string[] {
  const own = builderOf(r.family);
  if (onDevice && decodeBuilder && own !== decodeBuilder) {
    // The frames are in GPU memory but this rung's encoder reads system memory: scale on the GPU first, so only
    // the small frame crosses the bus, then download it as the 8-bit 4:2:0 the software encoders take.
    return [...decodeBuilder.scaleFilters(plan, r, true), 'hwdownload', 'format=yuv420p'];
  }
  return own.scaleFilters(plan, r, onDevice);
}

/**
 * The video branch of the filter graph. `headFilters` go right after the input label, before any other filter (a range
 * run's trim/setpts: they only touch timestamps, so they pass hardware frames through as well as CPU ones).
 * `fpsFromZero`: the fps filter's first frame is at 0 (a range run, whose 0 is its first boundary Z on the film's
 * frame grid): a source frame kept by the half-frame trim before Z is not given a slot before 0, and a first frame
 * after Z (a gap in a variable-rate source) is repeated back to 0, as the hls muxer's constant rate does at a film's
 * start.
 */
export function buildFilterGraph(
  plan: TranscodePlan,
  headFilters: readonly string[] = [],
  opts: { fpsFromZero?: boolean } = {},
): string {
  const onDevice = plan.hwDecode?.framesOnDevice === true;
  const decodeBuilder = plan.hwDecode ? DECODE_FAMILY[plan.hwDecode.kind] : undefined;
  // fps= only drops and repeats frames (it never touches pixels), so it runs on GPU frames as well as on CPU ones.
  const rate = plan.frameRateCap ? Number(plan.frameRateCap.toFixed(6)) : undefined;
  const cap = rate ? [opts.fpsFromZero ? `fps=${rate}:start_time=0` : `fps=${rate}`] : [];
  const pre = [
    ...headFilters,
    ...cap,
    ...(onDevice ? (decodeBuilder?.devicePreFilters?.(plan) ?? []) : cpuPreFilters(plan)),
  ];
  // The chosen video stream by its absolute index (the first video stream may be cover art).
  const input = `[0:${videoStreamOf(plan.source).index}]`;
  const branches = plan.renditions.map((r) => rungFilters(plan, r, onDevice, decodeBuilder).join(','));
  if (plan.renditions.length === 1) return `${input}${[...pre, branches[0]!].join(',')}[v0]`;
  const labels = plan.renditions.map((_, i) => `[s${i}]`).join('');
  // split: decode (and pre-filter) once, feed every rendition from the same frames.
  const head = `${input}${[...pre, `split=${plan.renditions.length}`].join(',')}${labels}`;
  return [head, ...branches.map((b, i) => `[s${i}]${b}[v${i}]`)].join(';');
}

/** The input options and name of the source (see source-format.ts). */
export function sourceArgs(plan: TranscodePlan): string[] {
  const demuxer = pinnedDemuxerOf(plan.source.formatName);
  // Invariant: probeSourceInfo refused every other format, so this is a programming error, not a user's.
  if (demuxer === null) throw new Error(`the source format ${plan.source.formatName} was not checked by the probe`);
  // "file:" + the absolute path (validateJob): it cannot be mistaken for an option or another protocol.
  return [...sourceInputOptions(demuxer), '-i', sourceUrl(plan.inputPath)];
}

/**
 * The audio branches of the filter graph: one per audio rendition, [a<j>] in allAudioRenditions order. `timing`
 * gives the timing filters after the channel mapping of each rendition (a range run moves its zero, and resamples
 * a track not at 48 kHz first: see args/range.ts).
 */
export function buildAudioGraph(
  plan: TranscodePlan,
  timing: (a: AudioRenditionPlan) => readonly string[] = audioTimingFilters,
): string[] {
  return allAudioRenditions(plan.audioGroups).map((a, j) => {
    const source = { channels: a.sourceChannels, layout: a.sourceLayout };
    const filters = a.channels > 2 ? (surroundFilters(source) ?? []) : stereoDownmixFilters(source);
    return `[0:${a.streamIndex}]${[...filters, ...timing(a)].join(',')}[a${j}]`;
  });
}

/** One whole WebVTT file per embedded text subtitle track, as extra outputs of the same run (read once). */
export function subtitleOutputs(plan: TranscodePlan): string[] {
  return plan.subtitles.flatMap((s) =>
    s.source.kind === 'embedded'
      ? [
          '-map',
          `0:${s.source.streamIndex}`,
          '-c:s',
          'webvtt',
          '-map_metadata',
          '-1',
          '-map_chapters',
          '-1',
          '-f',
          'webvtt',
          muxerPath(s.fullVttPath),
        ]
      : [],
  );
}

/** Encoder, rate, keyframe and tag options of video output stream i (keyframeExpr: a range run's shifted grid). */
export function videoStreamArgs(plan: TranscodePlan, r: RenditionPlan, i: number, keyframeExpr?: string): string[] {
  return [
    ...builderOf(r.family).encoderArgs(plan, r, i),
    ...rateArgs(r, i),
    ...keyframeArgs(plan, i, keyframeExpr),
    ...colourTagArgs(plan, i),
    ...hevcTagArgs(plan, r, i),
  ];
}

export function buildFfmpegArgs(plan: TranscodePlan): string[] {
  if (plan.renditions.length === 0 && plan.audioGroups.length === 0)
    throw new Error('a transcode plan needs at least one video rung or audio rendition');
  const maps: string[] = [];
  const perStream: string[] = [];
  // Video rungs are video-only (v:i); every audio rendition is its own output stream (a:j), encoded once and
  // shared by all rungs through its #EXT-X-MEDIA group.
  plan.renditions.forEach((r, i) => {
    maps.push('-map', `[v${i}]`);
    perStream.push(...videoStreamArgs(plan, r, i));
  });
  allAudioRenditions(plan.audioGroups).forEach((a, j) => {
    maps.push('-map', `[a${j}]`);
    perStream.push(...audioArgs(a, j));
  });
  // An audio-only source has no video rung, so no video branch.
  const video = plan.renditions.length > 0 ? [buildFilterGraph(plan)] : [];
  const graph = [...video, ...buildAudioGraph(plan)].join(';');
  return [
    ...globalArgs(),
    ...inputArgs(plan),
    ...sourceArgs(plan),
    '-filter_complex',
    graph,
    ...maps,
    ...perStream,
    // Drop subtitles, data streams, global/stream metadata and chapters: HLS variants carry only picture and sound,
    // and source tags (titles, encoder names) have no business in the output.
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    // Many outputs fed by one decoder: allow packets to queue while the slowest encoder catches up.
    '-max_muxing_queue_size',
    '4096',
    ...hlsArgs(plan),
    ...subtitleOutputs(plan),
  ];
}
