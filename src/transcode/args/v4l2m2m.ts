/**
 * Raspberry Pi (and other V4L2 memory-to-memory encoders): the CPU decodes, deinterlaces, tone maps and scales;
 * the SoC only encodes. The encoder wants planar 8-bit 4:2:0 (yuv420p) in system memory.
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { cpuScale, type FamilyBuilder } from './common.js';

export const v4l2m2mBuilder: FamilyBuilder = {
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan): string[] {
    return cpuScale(r, 'yuv420p');
  },
  encoderArgs(_plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return [
      `-c:v:${i}`,
      r.encoder,
      // Same as the format filter at the end of the chain; stated again so format negotiation can never pick
      // another of the formats some V4L2 drivers advertise (NV12, NV21) that the Pi encoder handles badly.
      `-pix_fmt:v:${i}`,
      'yuv420p',
      // The default capture queue (4) starves the Pi's encoder; 16 keeps it busy at HLS bitrates.
      `-num_capture_buffers:v:${i}`,
      '16',
    ];
  },
};
