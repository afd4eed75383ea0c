/**
 * Pure choice of how an HDR source is tone mapped, from the paths the probe verified on this host
 * (capabilities/tone-mappers.ts) and where the decoded frames are:
 * - frames on a VAAPI device: tonemap_vaapi for PQ, else tonemap_opencl mapped from the VAAPI frames (HLG too);
 * - frames on a QSV device: vpp_qsv's tone mapping for PQ (ffmpeg 7.1+), else tonemap_opencl through QSV's
 *   VAAPI child (HLG too);
 * - frames in system memory (CPU decode, or NVDEC with the frames downloaded): libplacebo (Vulkan) or
 *   tonemap_opencl on an uploaded copy, unless a VAAPI/QSV encoder already owns the filter device; then
 * - the CPU chain (zscale + tonemap) as the fallback;
 * - none of them: a JobValidationError that says why, never an obscure ffmpeg error mid-job.
 * Rotation is applied by ffmpeg's autorotate on CPU frames, so a rotated source never keeps frames on a device.
 */
import type { ToneMapperPath } from '../capabilities/types.js';
import { MAPPER_OF } from '../capabilities/tone-mappers.js';
import { JobValidationError } from '../errors.js';
import { mapperHandles, type HdrKind, type UploadDevice } from '../media/tone-map-chains.js';

/**
 * What the planner assumes without a probe report that knows tone mappers (run-job without a probe, an old
 * report): the two paths the worker used before the probe learnt filters.
 */
export const ASSUMED_TONE_MAPPERS: readonly ToneMapperPath[] = ['cpu', 'vaapi'];

/** Preference on frames of each device: the device's own filter first, then OpenCL interop. */
const ON_DEVICE: Record<'vaapi' | 'qsv', readonly ToneMapperPath[]> = {
  vaapi: ['vaapi', 'opencl-vaapi'],
  qsv: ['qsv', 'opencl-qsv'],
};

/** On system-memory frames: Vulkan (tone map and scale in one pass), then OpenCL, then the CPU. */
const ON_CPU_FRAMES: readonly ToneMapperPath[] = ['libplacebo', 'opencl', 'cpu'];

export interface ToneMapInput {
  hdr: HdrKind;
  /** Verified paths (PlanOptions.toneMappers, else ASSUMED_TONE_MAPPERS). */
  verified: readonly ToneMapperPath[];
  /** The GPU decode the ladder could use (before deciding where frames go); undefined: CPU decode. */
  decode?: 'cuda' | 'qsv' | 'vaapi';
  /** Display rotation: anything but 0 needs CPU frames (autorotate). */
  rotation: number;
  /** A VAAPI or QSV encoder is in the ladder: it owns -filter_hw_device, so no Vulkan/OpenCL upload device. */
  vaapiOrQsvEncoder: boolean;
}

export interface ToneMapChoice {
  path: ToneMapperPath;
  /** The decoded frames stay on the decode device for tone mapping (a device path). */
  onDevice: boolean;
}

function usable(path: ToneMapperPath, input: ToneMapInput): boolean {
  return input.verified.includes(path) && mapperHandles(MAPPER_OF[path], input.hdr);
}

export function chooseToneMapper(input: ToneMapInput): ToneMapChoice {
  const device = input.decode === 'vaapi' || input.decode === 'qsv' ? input.decode : undefined;
  if (device && input.rotation === 0) {
    const path = ON_DEVICE[device].find((p) => usable(p, input));
    if (path) return { path, onDevice: true };
  }
  const onCpu = ON_CPU_FRAMES.filter((p) => p === 'cpu' || !input.vaapiOrQsvEncoder);
  const path = onCpu.find((p) => usable(p, input));
  if (path) return { path, onDevice: false };
  throw new JobValidationError(
    `the source is HDR (${input.hdr === 'pq' ? 'PQ/HDR10' : 'HLG'}) and this worker has no verified way to tone map ` +
      `it to SDR: the CPU chain needs ffmpeg's zscale filter (libzimg), which this ffmpeg lacks or which failed ` +
      `its test, and no GPU tone mapper (${input.verified.length ? input.verified.join(', ') : 'none'} verified) ` +
      'fits this ladder; install an ffmpeg built with libzimg or run the job on another worker',
  );
}

/**
 * The upload device of a libplacebo/OpenCL path on CPU frames. Vulkan is derived from the CUDA device when the
 * ladder uses an NVIDIA GPU (hwDevice is its index), as the probe did on an NVIDIA host.
 */
export function uploadDeviceOf(
  path: ToneMapperPath,
  nvidia: boolean,
  hwDevice: string | undefined,
): UploadDevice | undefined {
  if (path === 'opencl') return { kind: 'opencl' };
  if (path !== 'libplacebo') return undefined;
  if (!nvidia) return { kind: 'vulkan' };
  return { kind: 'vulkan', cudaIndex: hwDevice !== undefined && /^\d+$/.test(hwDevice) ? hwDevice : '0' };
}
