/**
 * VAAPI (Intel/AMD on Linux): VAAPI decode, scale_vaapi, h264_vaapi/hevc_vaapi. One named device ("va") serves
 * decoding, uploads (-filter_hw_device) and encoding.
 *
 * Tone mapping (plan.toneMapper, from the probe's verified paths): PQ (HDR10) sources use tonemap_vaapi on the GPU
 * (frames stay on the device); HLG sources, which tonemap_vaapi does not handle, use tonemap_opencl on the same
 * frames mapped to OpenCL ('opencl-vaapi', Intel) where the probe verified it, else they are decoded on the GPU,
 * downloaded, tone mapped on the CPU and uploaded again.
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { openclOnDeviceChain, vaapiToneMapChain } from '../../media/tone-map-chains.js';
import { cpuScale, DEFAULT_RENDER_NODE, type FamilyBuilder } from './common.js';

/** Device setup, needed whenever a VAAPI rendition exists (even with CPU decoding, for hwupload). */
export function vaapiDeviceArgs(plan: TranscodePlan): string[] {
  const device = plan.hwDevice || plan.hwDecode?.device || DEFAULT_RENDER_NODE;
  return ['-init_hw_device', `vaapi=va:${device}`, '-filter_hw_device', 'va'];
}

export function vaapiInputArgs(plan: TranscodePlan): string[] {
  const hw = plan.hwDecode;
  if (hw?.kind !== 'vaapi') return [];
  return [
    '-hwaccel',
    'vaapi',
    '-hwaccel_device',
    'va',
    // Keep frames on the GPU unless a CPU step (HLG tone map, rotation) needs them downloaded.
    ...(hw.framesOnDevice ? ['-hwaccel_output_format', 'vaapi'] : []),
  ];
}

export const vaapiBuilder: FamilyBuilder = {
  devicePreFilters(plan: TranscodePlan): string[] {
    const out: string[] = [];
    if (plan.deinterlace) out.push('deinterlace_vaapi=rate=frame:auto=1');
    // To 8-bit NV12 in BT.709 on the GPU. tonemap_vaapi writes t/m/p into the output frames' own colour tags (every
    // version from 5.1 on), which is what ffmpeg 7.1+ encoders read; the chain still ends with the same setparams
    // and side-data removal as every other path (media/tone-map-chains.ts), verified on the device by the probe.
    if (plan.toneMap && plan.toneMapper === 'opencl-vaapi') out.push(...openclOnDeviceChain('vaapi'));
    else if (plan.toneMap) out.push(...vaapiToneMapChain());
    return out;
  },
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan, framesOnDevice: boolean): string[] {
    if (framesOnDevice) return [`scale_vaapi=w=${r.width}:h=${r.height}:format=nv12`, 'setsar=1'];
    // CPU frames: scale on the CPU, then upload to the VAAPI device the encoder works on.
    return [...cpuScale(r, 'nv12'), 'hwupload'];
  },
  encoderArgs(_plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return [
      `-c:v:${i}`,
      r.encoder,
      // Variable bitrate bounded by -maxrate; the driver's default may be constant QP, which ignores -b:v.
      `-rc_mode:v:${i}`,
      'VBR',
      ...(r.encoder === 'h264_vaapi' ? [`-profile:v:${i}`, 'high'] : []),
    ];
  },
};
