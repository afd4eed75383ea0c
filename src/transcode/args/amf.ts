/**
 * AMD AMF (Windows): the CPU decodes and filters; AMF encodes NV12 frames from system memory. Kept deliberately
 * simple: no hardware decode, which AMF does not provide through ffmpeg on its own.
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { cpuScale, type FamilyBuilder } from './common.js';

export const amfBuilder: FamilyBuilder = {
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan): string[] {
    return cpuScale(r, 'nv12');
  },
  encoderArgs(_plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return [
      `-c:v:${i}`,
      r.encoder,
      `-quality:v:${i}`,
      'balanced',
      // Peak-constrained variable bitrate: honours -b:v and -maxrate.
      `-rc:v:${i}`,
      'vbr_peak',
    ];
  },
};
