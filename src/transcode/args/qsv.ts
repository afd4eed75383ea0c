/**
 * Intel Quick Sync: QSV decode, scale_qsv on the GPU, h264_qsv/hevc_qsv encode. The plan only decodes on QSV when
 * frames can stay on the device; otherwise the CPU decodes and filters and the encoder takes NV12 frames from
 * system memory.
 *
 * Tone mapping (plan.toneMapper, from the probe's verified paths): vpp_qsv's own tone mapping on the QSV frames
 * for PQ where the build has it (its tonemap option came with ffmpeg 7.1), else tonemap_opencl on the same frames
 * mapped to OpenCL through QSV's VAAPI child ('opencl-qsv', PQ and HLG); without either, HDR sources are decoded
 * and tone mapped on the CPU and only the encoding runs on the GPU.
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { videoStreamOf } from '../types.js';
import { openclOnDeviceChain, qsvToneMapChain } from '../../media/tone-map-chains.js';
import { cpuScale, type FamilyBuilder } from './common.js';

/** QSV decoder of a source codec (ffmpeg 5.1 decodes on QSV through these decoders, chosen before -i). */
const QSV_DECODERS: Record<string, string> = {
  h264: 'h264_qsv',
  hevc: 'hevc_qsv',
  mpeg2video: 'mpeg2_qsv',
  vp9: 'vp9_qsv',
  av1: 'av1_qsv',
};

export function qsvInputArgs(plan: TranscodePlan): string[] {
  const hw = plan.hwDecode;
  if (hw?.kind !== 'qsv') return qsvEncodeDeviceArgs(plan);
  const decoder = QSV_DECODERS[videoStreamOf(plan.source).codec];
  return [
    // DRM render node on Linux, adapter index on Windows; the default device otherwise.
    ...(hw.device ? ['-qsv_device', hw.device] : []),
    '-hwaccel',
    'qsv',
    '-hwaccel_output_format',
    'qsv',
    ...(decoder ? ['-c:v', decoder] : []),
  ];
}

/**
 * QSV encoding of CPU frames on a chosen render node. Without a device the encoder opens its own session on the
 * first node; ffmpeg hands an initialised QSV device to a QSV encoder that has no frames context, so naming the
 * node here ("hw" = MFX_IMPL_HARDWARE, child_device = the DRM node under it) puts the sessions on that GPU.
 */
function qsvEncodeDeviceArgs(plan: TranscodePlan): string[] {
  if (!plan.hwDevice || !plan.renditions.some((r) => r.family === 'qsv')) return [];
  return ['-init_hw_device', `qsv=hw:hw,child_device=${plan.hwDevice}`];
}

export const qsvBuilder: FamilyBuilder = {
  devicePreFilters(plan: TranscodePlan): string[] {
    // deinterlace=2: the advanced (motion adaptive) VPP deinterlacer.
    const out = plan.deinterlace ? ['vpp_qsv=deinterlace=2'] : [];
    if (plan.toneMap && plan.toneMapper === 'qsv') out.push(...qsvToneMapChain());
    else if (plan.toneMap && plan.toneMapper === 'opencl-qsv') out.push(...openclOnDeviceChain('qsv'));
    return out;
  },
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan, framesOnDevice: boolean): string[] {
    // nv12 is QSV's native 8-bit format (also turns 10-bit P010 into 8-bit).
    if (framesOnDevice) return [`scale_qsv=w=${r.width}:h=${r.height}:format=nv12`, 'setsar=1'];
    return cpuScale(r, 'nv12');
  },
  encoderArgs(_plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return [
      `-c:v:${i}`,
      r.encoder,
      `-preset:v:${i}`,
      'medium',
      // Forced keyframes (segment boundaries) become IDR frames, so each segment decodes on its own.
      `-forced_idr:v:${i}`,
      '1',
      ...(r.encoder === 'h264_qsv' ? [`-profile:v:${i}`, 'high'] : []),
    ];
  },
};
