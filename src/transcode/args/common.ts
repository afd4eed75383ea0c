/**
 * Pieces of the ffmpeg command shared by every hardware family: global flags, CPU filters (deinterlace, tone
 * mapping, scaling), per-rendition rate/keyframe/colour options, audio and the hls muxer. All pure.
 *
 * Stream numbering: rendition i is written as video output stream v:i (and audio a:i), so per-stream options use
 * the ":v:i" / ":a:i" specifiers and mixed-family ladders need no special casing.
 */
import { allAudioRenditions } from '../plan-audio.js';
import { TS_TIMELINE_START_SEC } from '../range-timing.js';
import type { AudioRenditionPlan, RenditionPlan, TranscodePlan } from '../types.js';
import { videoStreamOf } from '../types.js';
import {
  cpuToneMapChain,
  libplaceboOnCpuFramesChain,
  openclOnCpuFramesChain,
  uploadDeviceArgs,
} from '../../media/tone-map-chains.js';

/** What one hardware family contributes. */
export interface FamilyBuilder {
  /** Filters after the split for rendition r, to square pixels at its size in the encoder's input format. */
  scaleFilters(plan: TranscodePlan, r: RenditionPlan, framesOnDevice: boolean): string[];
  /** Encoder options for video output stream i (rate/keyframe/colour options come from common). */
  encoderArgs(plan: TranscodePlan, r: RenditionPlan, i: number): string[];
  /** Filters before the split when decoded frames stay on this family's device (deinterlace, tone map). */
  devicePreFilters?(plan: TranscodePlan): string[];
}

export const DEFAULT_RENDER_NODE = '/dev/dri/renderD128';

/** Process-wide flags: no prompts, overwrite, machine-readable progress on stdout, only errors on stderr. */
export function globalArgs(): string[] {
  return [
    '-hide_banner',
    // Never read stdin: a stray keypress ("q") or a closed pipe must not stop a job.
    '-nostdin',
    // Staging is private to the job; a leftover from a crashed run is simply overwritten.
    '-y',
    // stderr carries only errors, so the executor's "last meaningful lines" are the cause of a failure.
    '-loglevel',
    'error',
    // key=value progress blocks on stdout (out_time_us, fps, speed, progress=end) for the progress parser;
    // -nostats silences the human status line that would otherwise flood stderr.
    '-progress',
    'pipe:1',
    '-nostats',
  ];
}

/** bits/s as ffmpeg reads it ("2500k"); integers keep the argv exact and readable. */
export function rate(bps: number): string {
  return bps % 1000 === 0 ? `${bps / 1000}k` : String(bps);
}

/** The CPU tone-mapping chain of the plan's source (PQ or HLG): see cpuToneMapChain. */
export function toneMapCpu(plan: TranscodePlan): string[] {
  return cpuToneMapChain(videoStreamOf(plan.source).hdr === 'hlg' ? 'hlg' : 'pq');
}

/** The largest rendition, by pixels. */
export function largestRendition(plan: TranscodePlan): RenditionPlan {
  return plan.renditions.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
}

/**
 * Filters before the split on CPU frames: deinterlace, then (for HDR) shrink to the largest rung and tone map, on
 * the CPU or on an uploaded copy (libplacebo, OpenCL; the device comes from toneMapDeviceArgs).
 */
export function cpuPreFilters(plan: TranscodePlan): string[] {
  const out: string[] = [];
  // bwdif in send_frame mode keeps the frame rate (so the GOP maths hold) and only touches interlaced frames.
  if (plan.deinterlace) out.push('bwdif=mode=send_frame:parity=auto:deint=interlaced');
  if (plan.toneMap && plan.toneMapper === 'libplacebo') {
    // libplacebo scales too (to the largest rung, whatever the source's sample aspect ratio): the 4K frame goes
    // up, only the small 8-bit one comes back.
    const big = largestRendition(plan);
    out.push(...libplaceboOnCpuFramesChain({ width: big.width, height: big.height }));
  } else if (plan.toneMap) {
    const big = largestRendition(plan);
    const v = videoStreamOf(plan.source);
    const rotated = v.rotation === 90 || v.rotation === 270;
    // ffmpeg has already applied the rotation here, so the frames are the coded size with sides swapped.
    const frameW = rotated ? v.height : v.width;
    const frameH = rotated ? v.width : v.height;
    const squarePixels = v.sarNum === v.sarDen;
    // Tone mapping works in 32-bit float RGB: doing it once at the largest rung's size instead of at 4K saves
    // most of its cost.
    if (big.width !== frameW || big.height !== frameH || !squarePixels)
      out.push(`scale=w=${big.width}:h=${big.height}`, 'setsar=1');
    out.push(...(plan.toneMapper === 'opencl' ? openclOnCpuFramesChain() : toneMapCpu(plan)));
  }
  return out;
}

/** The upload device of a libplacebo/OpenCL tone map on CPU frames, before -i (none for the other paths). */
export function toneMapDeviceArgs(plan: TranscodePlan): string[] {
  return plan.toneMap && plan.toneMapDevice ? uploadDeviceArgs(plan.toneMapDevice) : [];
}

/** Scaling on the CPU to the rendition's size, square pixels, in the pixel format the encoder takes. */
export function cpuScale(r: RenditionPlan, pixFmt: string): string[] {
  // setsar=1: the size already includes the source's sample aspect ratio, so output pixels are square.
  return [`scale=w=${r.width}:h=${r.height}`, 'setsar=1', `format=${pixFmt}`];
}

/** Average/peak bitrate and VBV buffer of video stream i. */
export function rateArgs(r: RenditionPlan, i: number): string[] {
  return [`-b:v:${i}`, rate(r.videoBitrate), `-maxrate:v:${i}`, rate(r.maxRate), `-bufsize:v:${i}`, rate(r.bufSize)];
}

/**
 * Keyframes on every segment boundary for every rendition: a GOP of exactly one segment, and a keyframe forced
 * whenever the output time passes the next multiple of segment_time (so variable frame rates stay aligned).
 */
export function keyframeArgs(
  plan: TranscodePlan,
  i: number,
  expr = `expr:gte(t,n_forced*${plan.segmentTime})`,
): string[] {
  return [
    `-g:v:${i}`,
    String(plan.gopFrames),
    `-keyint_min:v:${i}`,
    String(plan.gopFrames),
    `-force_key_frames:v:${i}`,
    expr,
  ];
}

/**
 * After tone mapping the picture is BT.709 SDR: say so, or players would still treat it as BT.2020 PQ. These
 * output options take effect up to ffmpeg 7.0; the frame tags (BT709_FRAME_TAGS, tonemap_vaapi's own) make it
 * so on every version.
 */
export function colourTagArgs(plan: TranscodePlan, i: number): string[] {
  if (!plan.toneMap) return [];
  return [
    `-colorspace:v:${i}`,
    'bt709',
    `-color_primaries:v:${i}`,
    'bt709',
    `-color_trc:v:${i}`,
    'bt709',
    `-color_range:v:${i}`,
    'tv',
  ];
}

/** Apple players want HEVC tagged hvc1 in fMP4 (hev1 does not play in Safari). */
export function hevcTagArgs(plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
  const hevc = r.encoder === 'libx265' || r.encoder.startsWith('hevc_');
  return hevc && plan.segmentType === 'fmp4' ? [`-tag:v:${i}`, 'hvc1'] : [];
}

/** Every audio rendition at 48 kHz: what E-AC-3/AC-3 require and Apple's spec recommends, one rate for all groups. */
export const AUDIO_SAMPLE_RATE = 48_000;

/**
 * Filters after the channel mapping of every audio branch: 48 kHz, and timestamps made continuous from output time
 * 0 (async=1 fills gaps with silence and trims overlaps; first_pts=0 pads a late start with silence). The picture
 * starts at 0 too: the hls muxer's constant frame rate repeats the first frame back to 0 (ffmpeg 5.1 and later),
 * so the first segment of every rendition starts with picture and sound together, and sync is kept within half a
 * frame. (A source whose sound starts 0.18 s after its picture once left a hole that hls.js had to seek over.)
 */
export function audioTimingFilters(): string[] {
  return [`aresample=${AUDIO_SAMPLE_RATE}:async=1:first_pts=0`];
}

/** Encoder options of audio output stream j (its channel layout comes from the filter graph, see downmix.ts). */
export function audioArgs(a: AudioRenditionPlan, j: number): string[] {
  return [`-c:a:${j}`, a.codec, `-b:a:${j}`, rate(a.bitrate)];
}

/** Paths as the hls muxer wants them: forward slashes (it splits folders on '/', and Windows accepts them). */
export function muxerPath(dir: string): string {
  const windowsLike = /^[A-Za-z]:[\\/]/.test(dir) || dir.startsWith('\\\\');
  const p = windowsLike ? dir.replace(/\\/g, '/') : dir;
  return p.endsWith('/') ? p.slice(0, -1) : p;
}

/** What differs between the hls outputs of a fresh run and of a range run (args/range.ts). */
export interface HlsOutputOptions {
  /** -hls_time: segment_time, or a range run's tiny value that cuts at every (forced) keyframe. */
  hlsTime: number;
  hlsFlags: string;
  /** var_stream_map of this output ("v:0,name:v0 a:0,name:..."): stream indices count within the output. */
  streamMap: string;
  /** fMP4 init name (the muxer appends _N when the output has several variants). */
  initName?: string;
  /** Options placed after -hls_segment_type (a range run's -start_number and segment options). */
  extra?: string[];
}

/** One hls muxer output writing the variants of streamMap into <staging>/<name>/ (see hlsArgs for the layout). */
export function hlsOutputArgs(plan: TranscodePlan, o: HlsOutputOptions): string[] {
  const root = muxerPath(plan.stagingDir);
  const fmp4 = plan.segmentType === 'fmp4';
  return [
    '-f',
    'hls',
    '-hls_time',
    String(o.hlsTime),
    // EVENT: the playlist is rewritten after every segment and lists exactly the complete ones (temp_file: a
    // segment appears under its final name only once written), so the worker can journal them while ffmpeg runs
    // and resume after a crash (issue 12). The worker writes the final VOD playlists itself.
    '-hls_playlist_type',
    'event',
    '-hls_flags',
    o.hlsFlags,
    '-hls_segment_type',
    fmp4 ? 'fmp4' : 'mpegts',
    ...(fmp4 ? ['-hls_fmp4_init_filename', o.initName ?? 'init.mp4'] : []),
    ...(o.extra ?? []),
    '-hls_segment_filename',
    `${root}/%v/seg_%05d.${fmp4 ? 'm4s' : 'ts'}`,
    '-var_stream_map',
    o.streamMap,
    `${root}/%v/${plan.playlistName}`,
  ];
}

/**
 * The hls muxer writing every rendition in one run. Layout in the staging folder:
 *   <staging>/<master>                        master playlist, URIs relative ("v0/stream.m3u8")
 *   <staging>/<variantDir>/stream.m3u8        media playlist of each rendition
 *   <staging>/<variantDir>/seg_00000.ts       its segments (or init_N.mp4 + seg_*.m4s for fMP4)
 * var_stream_map gives each variant its variantDir as name; %v in the patterns expands to it and the muxer
 * creates the folders. variantDir is synthetic ("v0", "v1", ...; "." for a rendition whose folder is masterDir
 * itself, URI "./stream.m3u8"), never the NAS folder name: var_stream_map splits on spaces and commas, and '%'
 * in a pattern starts a sequence, so "The Matrix (1999), 100%" could not travel here. Verification rewrites the
 * master with the real (percent-encoded) folder names and the commit copies each variantDir to its destPath.
 */
export function hlsArgs(plan: TranscodePlan): string[] {
  // Names are synthetic ("v0", "index_tracks/a0"): var_stream_map splits on spaces and commas (see above).
  const streamMap = [
    ...plan.renditions.map((r, i) => `v:${i},name:${r.variantDir}`),
    ...allAudioRenditions(plan.audioGroups).map((a, j) => `a:${j},name:${a.dir}`),
  ].join(' ');
  // MPEG-TS: a fixed start for the timeline, so that a resumed or part run can reproduce it exactly (range-timing.ts).
  const start = plan.segmentType === 'fmp4' ? [] : ['-output_ts_offset', String(TS_TIMELINE_START_SEC)];
  // Every segment starts with a keyframe (see keyframeArgs): tell players they can start/switch anywhere.
  return [
    ...start,
    ...hlsOutputArgs(plan, {
      hlsTime: plan.segmentTime,
      hlsFlags: 'independent_segments+temp_file',
      streamMap,
    }),
  ];
}
