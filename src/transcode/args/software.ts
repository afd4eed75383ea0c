/**
 * libx264 / libx265 on the CPU. The preset comes from the plan (x264_preset: veryfast on small ARM boards, fast
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

export const softwareBuilder: FamilyBuilder = {
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan): string[] {
    // Always 8-bit 4:2:0: the format every HLS player decodes (10-bit sources are reduced here).
    return cpuScale(r, 'yuv420p');
  },
  encoderArgs(plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return r.encoder === 'libx265' ? x265Args(plan, i) : x264Args(plan, i);
  },
};
