/**
 * NVIDIA: NVDEC decode (-hwaccel cuda), scale_cuda on the GPU, NVENC encode. When the whole ladder is on NVENC and
 * no CPU step is needed, frames never leave GPU memory.
 *
 * Tone mapping: upstream ffmpeg has no tonemap_cuda, so for HDR sources the plan keeps NVDEC but lets ffmpeg
 * download the decoded frames (no -hwaccel_output_format). Where the probe verified it, the frames then go up to
 * the same GPU through Vulkan (libplacebo: tone map and scale to the largest rung in one pass; the Vulkan device is
 * derived from this CUDA device, common.ts toneMapDeviceArgs) or OpenCL (tonemap_opencl), and come back 8-bit;
 * otherwise the CPU zscale+tonemap chain runs once at the largest rung's size. NVENC takes the system-memory
 * frames. Rotated sources take the same path (ffmpeg's autorotate filter is a CPU filter).
 */
import type { RenditionPlan, TranscodePlan } from '../types.js';
import { cpuScale, type FamilyBuilder } from './common.js';

export function nvidiaInputArgs(plan: TranscodePlan): string[] {
  const hw = plan.hwDecode;
  if (hw?.kind !== 'cuda') return [];
  return [
    '-hwaccel',
    'cuda',
    ...(hw.device ? ['-hwaccel_device', hw.device] : []),
    // Keep decoded frames in GPU memory for scale_cuda and NVENC (no round trip through system memory).
    ...(hw.framesOnDevice ? ['-hwaccel_output_format', 'cuda'] : []),
  ];
}

/** An NVIDIA device index ("1"); a render node path is another family's device and means nothing to CUDA. */
function cudaIndex(plan: TranscodePlan): string | undefined {
  return plan.hwDevice !== undefined && /^\d+$/.test(plan.hwDevice) ? plan.hwDevice : undefined;
}

/**
 * NVENC's own device choice. With CUDA frames (full-GPU path) the encoder follows the frames' device, set by
 * -hwaccel_device; with system-memory frames (CPU decode, tone mapping) it opens a device itself, the first one
 * unless -gpu names it. Given in both cases so every session of the job lands on the chosen GPU.
 */
function nvencGpuArgs(plan: TranscodePlan, i: number): string[] {
  const index = cudaIndex(plan);
  return index ? [`-gpu:v:${i}`, index] : [];
}

export const nvidiaBuilder: FamilyBuilder = {
  devicePreFilters(plan: TranscodePlan): string[] {
    // yadif_cuda is the GPU deinterlacer available in 5.1 (bwdif_cuda came later); send_frame keeps the rate.
    return plan.deinterlace ? ['yadif_cuda=mode=send_frame:parity=auto:deint=interlaced'] : [];
  },
  scaleFilters(_plan: TranscodePlan, r: RenditionPlan, framesOnDevice: boolean): string[] {
    // format=yuv420p also turns 10-bit (p010) frames into 8-bit on the GPU.
    if (framesOnDevice) return [`scale_cuda=w=${r.width}:h=${r.height}:format=yuv420p`, 'setsar=1'];
    return cpuScale(r, 'yuv420p');
  },
  encoderArgs(plan: TranscodePlan, r: RenditionPlan, i: number): string[] {
    return [
      `-c:v:${i}`,
      r.encoder,
      ...nvencGpuArgs(plan, i),
      // p4 (medium) with the high-quality tuning: the usual speed/quality balance of NVENC.
      `-preset:v:${i}`,
      'p4',
      `-tune:v:${i}`,
      'hq',
      // Variable bitrate capped by -maxrate/-bufsize.
      `-rc:v:${i}`,
      'vbr',
      // No extra keyframes at scene cuts; forced keyframes become IDR frames so every segment starts cleanly.
      `-no-scenecut:v:${i}`,
      '1',
      `-forced-idr:v:${i}`,
      '1',
      ...(r.encoder === 'h264_nvenc' ? [`-profile:v:${i}`, 'high'] : []),
    ];
  },
};
