/**
 * The ffmpeg command of a *range run* (issue 12): segments [start, end) of the film, for a resume (start = K, no
 * end) or a part job (start, end), such that every segment equals the uninterrupted run's (same first PTS, same
 * frames per segment, clean audio seam). docs/design/resume-and-split-seams.md is the measured recipe; the maths is
 * in ../range-timing.ts. The differences from buildFfmpegArgs:
 *
 *   - accurate input seek -ss S (S < K*T: audio pre-roll), input -t for a part's end (plus post-roll);
 *   - the video trimmed to [Z, Z_end) and every stream's zero moved to Z; forced keyframes on the film's grid;
 *   - TWO kinds of hls output: the video rungs with -hls_time 0.001 (the muxer's cut rule counts from the run's
 *     first packet, which at 1001-rates is up to a frame after K*T and would merge two segments; with a tiny
 *     hls_time it cuts at every keyframe, and the only keyframes are the forced ones), the audio renditions with
 *     -hls_time T (every audio packet is a keyframe);
 *   - the audio's priming and pre-roll packets dropped after encoding (noise bitstream filter, by packet count);
 *   - -output_ts_offset per output, -start_number K, EVENT playlists + temp_file, no subtitle outputs;
 *   - fMP4 from K > 0 on: movflags=+frag_discont (absolute tfdt; the mov muxer would rebase the run to 0) and
 *     range_init.mp4 init names so the first run's init (the one the joined playlist maps) is never overwritten.
 *     A part 0 (K = 0) in fMP4 is muxed as the fresh run is, without frag_discont: with it, an E-AC-3 rendition
 *     beside AAC starts 768 ticks late (measured, ffmpeg 5.1).
 */
import { allAudioRenditions } from '../plan-audio.js';
import {
  audioDropExpr,
  rangeKeyframeExpr,
  rangeTiming,
  secondsArg,
  type RangeTiming,
  type SegmentRange,
} from '../range-timing.js';
import type { AudioRenditionPlan, TranscodePlan } from '../types.js';
import { audioAlignmentStep, AUDIO_FRAME_SAMPLES } from '../../media/segment-grid.js';
import { AUDIO_SAMPLE_RATE, audioArgs, globalArgs, hlsOutputArgs } from './common.js';
import { buildAudioGraph, buildFilterGraph, inputArgs, sourceArgs, videoStreamArgs } from './index.js';

export type { SegmentRange } from '../range-timing.js';

/** -hls_time of the video output: below any frame duration, so every keyframe (= every forced one) cuts. */
const VIDEO_HLS_TIME = 0.001;

/** The range timing of a plan (its segment time, frame rate, container and audio codecs). */
export function planRangeTiming(plan: TranscodePlan, range: SegmentRange): RangeTiming {
  return rangeTiming(
    {
      segmentTime: plan.segmentTime,
      fps: plan.fps,
      segmentType: plan.segmentType,
      audioCodecs: allAudioRenditions(plan.audioGroups).map((a) => a.codec),
      audioSourceRates: allAudioRenditions(plan.audioGroups).map((a) => a.sourceSampleRate),
      hasVideo: plan.renditions.length > 0,
    },
    range,
  );
}

/**
 * The step (in segments) that the audio of a range run must start on (SegmentRange.audioStart): the audio
 * alignment of the plan's codecs (media/segment-grid.ts); 1 without audio; null when segment_time is not a whole
 * number of samples (then no range run is exact).
 */
export function rangeAlignmentStep(plan: TranscodePlan): number | null {
  const codecs = [...new Set(allAudioRenditions(plan.audioGroups).map((a) => a.codec))];
  if (codecs.length === 0) return audioAlignmentStep(plan.segmentTime, []);
  return audioAlignmentStep(
    plan.segmentTime,
    codecs.map((c) => AUDIO_FRAME_SAMPLES[c]),
  );
}

/** The part of the film a range run covers, for progress (ffmpeg's own clock: see ffmpeg.ts progressSpan). */
export function rangeProgressSpan(plan: TranscodePlan, range: SegmentRange): { startSec: number; endSec: number } {
  const duration = plan.source.durationSec;
  const startSec = Math.min(range.start * plan.segmentTime, duration);
  const endSec = range.end === undefined ? duration : Math.min(range.end * plan.segmentTime, duration);
  return { startSec, endSec: Math.max(startSec, endSec) };
}

function offsetArgs(sec: number): string[] {
  return sec > 0 ? ['-output_ts_offset', secondsArg(sec)] : [];
}

/** Options every hls output of a range run shares after its streams. */
function rangeHlsArgs(
  plan: TranscodePlan,
  t: RangeTiming,
  o: { hlsTime: number; flags: string; streamMap: string; offset: number; start: number },
): string[] {
  const fmp4 = plan.segmentType === 'fmp4';
  return [
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-max_muxing_queue_size',
    '4096',
    ...offsetArgs(o.offset),
    ...hlsOutputArgs(plan, {
      hlsTime: o.hlsTime,
      hlsFlags: o.flags,
      streamMap: o.streamMap,
      initName: o.start > 0 ? 'range_init.mp4' : 'init.mp4',
      extra: [
        ...(fmp4 && o.start > 0 ? ['-hls_segment_options', 'movflags=+frag_discont'] : []),
        '-start_number',
        String(o.start),
      ],
    }),
  ];
}

/** One hls output of a range run: its video rungs or audio renditions (by plan index), all at one offset. */
interface RangeOutput {
  kind: 'v' | 'a';
  members: number[];
  offset: number;
  /** Its first segment: the range's start for the video, its audio start for the audio (K' <= K on a resume). */
  start: number;
}

/**
 * The outputs: the video rungs together (-hls_time 0.001), the audio renditions per distinct -output_ts_offset
 * (TS: one for all; fMP4: AAC and AC-3/E-AC-3 prime differently, so a mixed ladder gets two). fMP4 from K > 0 on:
 * one output per rendition, because the hls muxer takes a custom init name (range_init.mp4) only for an output with
 * a single variant (with several it wants %v in it, and audio variant names hold a '/'; measured on 5.1).
 */
function rangeOutputs(plan: TranscodePlan, t: RangeTiming): RangeOutput[] {
  const outputs: RangeOutput[] = [];
  if (plan.renditions.length > 0)
    outputs.push({ kind: 'v', members: plan.renditions.map((_, i) => i), offset: t.videoOffset, start: t.start });
  const byOffset = new Map<number, number[]>();
  t.audioOffsets.forEach((off, j) => byOffset.set(off, [...(byOffset.get(off) ?? []), j]));
  for (const [offset, members] of byOffset) outputs.push({ kind: 'a', members, offset, start: t.audioStart });
  if (plan.segmentType !== 'fmp4' || t.start === 0) return outputs;
  return outputs.flatMap((o) => o.members.map((m) => ({ ...o, members: [m] })));
}

/** Maps, per-stream options and hls muxer of one output. Stream specifiers count within the output. */
function outputArgs(plan: TranscodePlan, t: RangeTiming, o: RangeOutput): string[] {
  if (o.kind === 'v') {
    const keyExpr = rangeKeyframeExpr(plan.segmentTime, t.keyShift);
    return [
      ...o.members.flatMap((i) => ['-map', `[v${i}]`]),
      ...o.members.flatMap((i, local) => videoStreamArgs(plan, plan.renditions[i]!, local, keyExpr)),
      '-an',
      '-sn',
      '-dn',
      ...rangeHlsArgs(plan, t, {
        hlsTime: VIDEO_HLS_TIME,
        flags: 'independent_segments+temp_file',
        streamMap: o.members.map((i, local) => `v:${local},name:${plan.renditions[i]!.variantDir}`).join(' '),
        offset: o.offset,
        start: o.start,
      }),
    ];
  }
  const all = allAudioRenditions(plan.audioGroups);
  return [
    ...o.members.flatMap((j) => ['-map', `[a${j}]`]),
    ...o.members.flatMap((j, local) => {
      const drop = audioDropExpr(t.audio[j]!);
      return [...audioArgs(all[j]!, local), ...(drop ? [`-bsf:a:${local}`, `noise=drop=${drop}`] : [])];
    }),
    '-vn',
    '-sn',
    '-dn',
    ...rangeHlsArgs(plan, t, {
      hlsTime: plan.segmentTime,
      flags: 'temp_file',
      streamMap: o.members.map((j, local) => `a:${local},name:${all[j]!.dir}`).join(' '),
      offset: o.offset,
      start: o.start,
    }),
  ];
}

/** The filters that move the video's zero to Z and trim it to [Z, Z_end) (half a frame early: range-timing.ts). */
function videoHead(t: RangeTiming): string[] {
  const trim = [
    ...(t.trimStart !== undefined ? [`start=${secondsArg(t.trimStart)}`] : []),
    ...(t.trimEnd !== undefined ? [`end=${secondsArg(t.trimEnd)}`] : []),
  ];
  return [
    ...(trim.length > 0 ? [`trim=${trim.join(':')}`] : []),
    // round(): setpts truncates, and PTS-0.32/TB can land a tick off.
    ...(t.pv > 0 ? [`setpts=PTS-round(${secondsArg(t.pv)}/TB)`] : []),
  ];
}

/**
 * The audio's zero moved to Z' (range-timing.ts). first_pts counts samples of aresample's input rate, so a track
 * not at 48 kHz (or of a rate not stated) is resampled to 48 kHz first and shifted in 48 kHz samples, exactly as a
 * 48 kHz track is. At Z' = 0 (a part from the film's start) there is no shift and first_pts=0 means 0 at any rate.
 */
function audioTiming(t: RangeTiming, a: AudioRenditionPlan): string[] {
  const resample = `aresample=${AUDIO_SAMPLE_RATE}:async=1:first_pts=${t.audioFirstPts}`;
  if (!(t.pa > 0)) return [resample];
  const toRate = a.sourceSampleRate === AUDIO_SAMPLE_RATE ? [] : [`aresample=${AUDIO_SAMPLE_RATE}`];
  return [...toRate, `asetpts=PTS-round(${secondsArg(t.pa)}/TB)`, resample];
}

export function buildRangeFfmpegArgs(plan: TranscodePlan, range: SegmentRange): string[] {
  if (plan.renditions.length === 0 && plan.audioGroups.length === 0)
    throw new Error('a transcode plan needs at least one video rung or audio rendition');
  const t = planRangeTiming(plan, range);
  const hasVideo = plan.renditions.length > 0;
  const graph = [
    ...(hasVideo ? [buildFilterGraph(plan, videoHead(t), { fpsFromZero: t.start > 0 })] : []),
    ...buildAudioGraph(plan, (a) => audioTiming(t, a)),
  ];
  return [
    ...globalArgs(),
    ...inputArgs(plan),
    ...(t.seek > 0 ? ['-ss', secondsArg(t.seek)] : []),
    ...(t.inputDuration !== undefined ? ['-t', secondsArg(t.inputDuration)] : []),
    ...sourceArgs(plan),
    '-filter_complex',
    graph.join(';'),
    ...rangeOutputs(plan, t).flatMap((o) => outputArgs(plan, t, o)),
  ];
}
