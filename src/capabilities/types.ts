/**
 * What capability probing produces. `capabilities` is exactly the registration payload; the rest is detail for
 * `transcode-worker probe --verbose`, /status, metrics and the pipeline's encoder choice.
 */
import type { Capabilities } from '../protocol/schemas.js';

export type EncoderFamily = 'software' | 'nvidia' | 'qsv' | 'vaapi' | 'v4l2m2m' | 'amf' | 'audio';

export interface EncoderCheck {
  /** ffmpeg encoder name, e.g. h264_nvenc. */
  name: string;
  family: EncoderFamily;
  /** Listed by `ffmpeg -encoders` (compiled in). */
  listed: boolean;
  /** Passed a real test encode on this host. */
  ok: boolean;
  /** First meaningful error line when it failed, or why it was skipped. */
  reason?: string;
  /** Highest of 2160p/1440p/1080p/720p at which a one-frame encode worked (video encoders that passed). */
  maxResolution?: string;
  /** Concurrent sessions that worked (hardware encoders). */
  maxSessions?: number;
  durationMs: number;
  /** Not tested: not compiled in, no device for its family, or excluded by the hwaccel setting (`reason` says which). */
  skipped?: boolean;
  /** Device the test used (a render node for VAAPI/QSV). */
  device?: string;
  /** Every device it passed on, when the probe tested several (render nodes); absent: only `device` is known. */
  devices?: string[];
  /** Verified together with the other software/audio encoders in one ffmpeg run; durationMs is that run's. */
  batched?: boolean;
}

export interface HwaccelCheck {
  name: string;
  listed: boolean;
  ok: boolean;
  reason?: string;
  durationMs: number;
  /** Not tested (not listed, no device, excluded by the hwaccel setting). */
  skipped?: boolean;
}

/**
 * A tone-mapping path a plan may use, by where its frames are: 'cpu' (zscale + tonemap), 'vaapi' (tonemap_vaapi on
 * VAAPI frames), 'qsv' (vpp_qsv tonemap on QSV frames, ffmpeg 7.1+), 'opencl' (tonemap_opencl on CPU frames
 * uploaded to an OpenCL GPU), 'opencl-vaapi' / 'opencl-qsv' (tonemap_opencl on VAAPI/QSV frames mapped to OpenCL),
 * 'libplacebo' (Vulkan, CPU frames uploaded).
 */
export type ToneMapperPath = 'cpu' | 'vaapi' | 'qsv' | 'opencl' | 'opencl-vaapi' | 'opencl-qsv' | 'libplacebo';

export interface ToneMapperCheck {
  name: ToneMapperPath;
  /** The filters it needs are in `ffmpeg -filters` (and vpp_qsv has its tonemap option). */
  listed: boolean;
  /** Tone mapped a few frames of a 10-bit BT.2020 PQ picture to 8-bit BT.709 on this host. */
  ok: boolean;
  /** First meaningful error line when it failed, or why it was skipped. */
  reason?: string;
  durationMs: number;
  /** Not tested: filter missing, no device for it, or hardware disabled (`reason` says which). */
  skipped?: boolean;
  /** The device it ran on: a render node, or the Vulkan/OpenCL device name ffmpeg chose. */
  device?: string;
  /**
   * The device is a CPU implementation (lavapipe/llvmpipe): it works, but is no faster than the CPU chain, so jobs
   * do not use it (capabilities/tone-mappers.ts usableToneMappers).
   */
  cpuDevice?: boolean;
}

export interface GpuInfo {
  vendor: string;
  model: string;
  /** Device handle usable by ffmpeg: a render node (/dev/dri/renderD128) or an NVIDIA index ("0"). */
  device?: string;
  utilizationPercent?: number;
}

export interface ProbeReport {
  capabilities: Capabilities;
  encoders: EncoderCheck[];
  hwaccels: HwaccelCheck[];
  /** Every tone-mapping path, verified or why not. Absent in a report from before this existed. */
  toneMappers?: ToneMapperCheck[];
  gpus: GpuInfo[];
  ffmpeg: { path: string; version: string };
  ffprobe: { path: string; version: string };
  host: { os: string; arch: string; cpuModel: string; cpuCores: number; ramTotalMb: number; piModel?: string };
  probedAt: string;
  durationMs: number;
  fromCache: boolean;
}

export interface CapabilityProber {
  /** Full probe (or the cached one when its key still matches and refresh is not asked). Throws ToolchainError when ffmpeg/ffprobe are missing or broken. */
  probe(opts?: { refresh?: boolean }): Promise<ProbeReport>;
  /** Re-test one hardware family after a device error at run time; returns the updated report. */
  reprobeFamily(family: EncoderFamily): Promise<ProbeReport>;
}
