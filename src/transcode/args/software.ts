/**
 * libx264 / libx265 / libsvtav1 on the CPU. The preset comes from the plan (x264_preset: veryfast on small ARM boards, fast
 * elsewhere). Also the CPU half of every family: decode, filters and scaling all happen here when frames are not
 * on a GPU.
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { cpuScale, type FamilyBuilder } from './common.js';

function x264Args(plan: TranscodePlan, i: number): string[] {
  return [
    `-c:v:${i}`,
    'libx264',
    `-preset:v:${i}`,
    plan.softwarePreset,
    // High profile: every browser/device of the last decade decodes it, and it compresses better than main.
    `-profile:v:${i}`,
    'high',
    // No scene-cut keyframes: they would land at different frames in each rendition and break alignment.
    `-sc_threshold:v:${i}`,
    '0',
  ];
}

function x265Args(plan: TranscodePlan, i: number): string[] {
  const gop = plan.gopFrames;
  return [
    `-c:v:${i}`,
    'libx265',
    `-preset:v:${i}`,
    plan.softwarePreset,
    // x265 ignores -sc_threshold: its own keyint/scenecut settings give fixed, aligned GOPs; closed GOPs so every
    // segment decodes on its own; quiet logging so stderr keeps only errors.
    `-x265-params:v:${i}`,
    `keyint=${gop}:min-keyint=${gop}:scenecut=0:open-gop=0:log-level=error`,
  ];
}

/**
 * SVT-AV1 preset for the job's x264-style preset, on SVT's 0-13 scale. Measured on a 2-core x86-64 host against
 * libx264 fast at equal SSIM (bench/av1-results.md): preset 10 is 26% smaller for 2.3x the CPU time, 11 is 13%
 * smaller for 1.6x, 8 is 44% smaller for 3.9x, and 12 is bigger than x264. So "fast" (the default) -> 10, and the
 * other job presets move along the scale. Preset 13 exists from SVT-AV1 1.4 on (Debian 12's, the oldest ffmpeg 5.1
 * links).
 */
const SVT_AV1_PRESETS: Record<string, number> = {
  ultrafast: 13,
  superfast: 12,
  veryfast: 11,
  faster: 10,
  fast: 10,
  medium: 8,
  slow: 7,
  slower: 6,
  veryslow: 5,
  placebo: 4,
};

export function svtAv1Preset(x264Preset: string): number {
  return SVT_AV1_PRESETS[x264Preset] ?? 10;
}

function svtAv1Args(plan: TranscodePlan, i: number): string[] {
  return [
    `-c:v:${i}`,
    'libsvtav1',
    `-preset:v:${i}`,
    String(svtAv1Preset(plan.softwarePreset)),
    // ffmpeg 5.1's libsvtav1 ignores -force_key_frames: keyframes come only from the fixed GOP (-g, from
    // keyframeArgs, a GOP of exactly one segment), with scene-change keyframes off so every rung keeps the same
    // ones, and closed-GOP key frames (irefresh-type=2: KEY_FRAME, not the open-GOP forward key frame that ffmpeg
    // 6+ asks for without -flags +cgop) so each segment decodes on its own.
    // -b:v with a different -maxrate selects SVT's VBR mode. SVT-AV1 2.x refuses a maximum bitrate outside CRF
    // mode ("Max Bitrate only supported with CRF mode"; 1.4 takes it silently), so mbr=0 clears what -maxrate set
    // (these params are applied after ffmpeg's own mapping): the VBR peak is not capped by the encoder, and the
    // master's BANDWIDTH is measured from the segments as for every rung. -bufsize still sets SVT's buffer size.
    `-svtav1-params:v:${i}`,
    'scd=0:irefresh-type=2:mbr=0',
  ];
}

export const softwareBuilder: FamilyBuilder = {
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan): string[] {
    // Always 8-bit 4:2:0: the format every HLS player decodes (10-bit sources are reduced here).
    return cpuScale(r, 'yuv420p');
  },
  encoderArgs(plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    if (r.encoder === 'libsvtav1') return svtAv1Args(plan, i);
    return r.encoder === 'libx265' ? x265Args(plan, i) : x264Args(plan, i);
  },
};
