/**
 * The filter chains that turn an HDR picture (BT.2020, PQ or HLG) into 8-bit BT.709 SDR, one per tone mapper. Pure
 * strings, shared by the capability probe (capabilities/tone-mappers.ts runs each chain on a tiny HDR picture)
 * and the job's argv builders (transcode/args/*): what the probe verified is exactly what a job runs.
 *
 * Invariant of every chain: its output frames are 8-bit, BT.709 primaries/transfer/matrix, limited (tv) range,
 * tagged as such on the frames (BT709_FRAME_TAGS: from ffmpeg 7.1 on encoders read the frames' tags, not the
 * output options), without the source's HDR10 mastering-display / content-light side data (DROP_HDR_SIDE_DATA).
 * setparams and sidedata only touch frame properties, so they run on GPU frames as well as on CPU ones (checked
 * with Vulkan frames on ffmpeg 5.1).
 */

/** Which filter does the tone mapping. 'cpu' is zscale + tonemap; the others run on a GPU (or a CPU driver of one). */
export type ToneMapper = 'cpu' | 'vaapi' | 'qsv' | 'opencl' | 'libplacebo';

export type HdrKind = 'pq' | 'hlg';

/**
 * The colour tags of a tone-mapped picture, set on the frames themselves. From ffmpeg 7.1 on, the encoder takes
 * its colour description from the frames and the output -color_trc/-color_primaries options no longer override
 * it, so the tags must come from the filter graph to be right on every version from 5.1 to 9.0 (the output
 * options stay as well: harmless, and read by encoders on older versions). setparams only sets frame properties
 * (on 7.1+ it also declares the colour space and range to format negotiation, which the step before it already
 * produces, so nothing is converted); the option names are those of 5.1's setparams.
 */
export const BT709_FRAME_TAGS = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';

/**
 * Drops the source's HDR10 mastering-display and content-light-level metadata from the tone-mapped frames. From
 * ffmpeg 7.1 on the encoder also takes these from the frames: measured with 9.0.2, an SDR BT.709 output of an
 * HDR10 source otherwise carried the source's mdcv/clli boxes and SEI (5.1 did not). sidedata exists in 5.1.
 */
export const DROP_HDR_SIDE_DATA = [
  'sidedata=mode=delete:type=MASTERING_DISPLAY_METADATA',
  'sidedata=mode=delete:type=CONTENT_LIGHT_LEVEL',
];

const SDR_TAIL = [BT709_FRAME_TAGS, ...DROP_HDR_SIDE_DATA];

/**
 * The CPU chain: linearise with zscale (input tags given explicitly so badly tagged files still map), tone map
 * in float RGB with Hable (desat=0 keeps highlights saturated instead of washing them out), then back to BT.709
 * limited range 4:2:0. Needs libzimg (zscale): a minimal or Windows build without it cannot run this chain.
 */
export function cpuToneMapChain(hdr: HdrKind): string[] {
  const tin = hdr === 'hlg' ? 'arib-std-b67' : 'smpte2084';
  return [
    `zscale=tin=${tin}:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
    'format=yuv420p',
    ...SDR_TAIL,
  ];
}

/** tonemap_vaapi on VAAPI frames (PQ only: it refuses other transfers). Writes t/m/p into the frames itself. */
export function vaapiToneMapChain(): string[] {
  return ['tonemap_vaapi=format=nv12:t=bt709:m=bt709:p=bt709', ...SDR_TAIL];
}

/**
 * vpp_qsv's tone mapping on QSV frames: the `tonemap` option exists from ffmpeg 7.1 on (the probe reads
 * `-h filter=vpp_qsv`). Intel's VPP maps HDR10 (PQ) only, so HLG takes another mapper.
 */
export function qsvToneMapChain(): string[] {
  // out_color_* (there wherever tonemap is: 6.1+) make VPP's output colour explicit; setparams tags the frames.
  return [
    'vpp_qsv=tonemap=1:format=nv12:out_color_matrix=bt709:out_color_primaries=bt709:out_color_transfer=bt709',
    ...SDR_TAIL,
  ];
}

/** tonemap_opencl itself: Hable as in the CPU chain, straight to 8-bit NV12 BT.709 limited range. PQ and HLG. */
export const TONEMAP_OPENCL = 'tonemap_opencl=tonemap=hable:desat=0:t=bt709:m=bt709:p=bt709:r=tv:format=nv12';

/**
 * tonemap_opencl on frames already on a VAAPI or QSV device (Intel): mapped to OpenCL without a copy through the
 * device's OpenCL interop (derive_device), tone mapped, mapped back for the VAAPI/QSV scaler and encoder.
 */
export function openclOnDeviceChain(device: 'vaapi' | 'qsv'): string[] {
  return [
    'hwmap=derive_device=opencl:mode=read',
    TONEMAP_OPENCL,
    `hwmap=derive_device=${device}:mode=write:reverse=1${device === 'qsv' ? ':extra_hw_frames=16' : ''}`,
    ...SDR_TAIL,
  ];
}

/**
 * tonemap_opencl on CPU frames (NVIDIA, AMD and other OpenCL GPUs; the filter device is an OpenCL device): upload
 * as P010 (the only input tonemap_opencl takes), tone map, download 8-bit NV12.
 */
export function openclOnCpuFramesChain(): string[] {
  return ['format=p010le', 'hwupload', TONEMAP_OPENCL, 'hwdownload', 'format=nv12', ...SDR_TAIL];
}

/**
 * libplacebo on CPU frames (the filter device is a Vulkan device): ffmpeg 5.1's libplacebo takes Vulkan frames
 * only, so upload, tone map and scale in one pass (to the largest rung: only the small frame comes back), download
 * 8-bit 4:2:0. Hable as in the CPU chain; libplacebo's peak detection stays on (its default).
 */
export function libplaceboOnCpuFramesChain(size?: { width: number; height: number }): string[] {
  const wh = size ? `w=${size.width}:h=${size.height}:` : '';
  return [
    'hwupload',
    `libplacebo=${wh}tonemapping=hable:colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv:format=yuv420p`,
    'hwdownload',
    'format=yuv420p',
    ...(size ? ['setsar=1'] : []),
    ...SDR_TAIL,
  ];
}

/** Filters each tone mapper needs from `ffmpeg -filters` (besides the chain's common setparams/sidedata). */
export const TONE_MAPPER_FILTERS: Record<ToneMapper, readonly string[]> = {
  cpu: ['zscale', 'tonemap'],
  vaapi: ['tonemap_vaapi'],
  qsv: ['vpp_qsv'],
  opencl: ['tonemap_opencl', 'hwupload', 'hwmap'],
  libplacebo: ['libplacebo', 'hwupload'],
};

/** Transfers each mapper handles: tonemap_vaapi and Intel's VPP map HDR10 (PQ) only. */
export function mapperHandles(mapper: ToneMapper, hdr: HdrKind): boolean {
  return hdr === 'pq' || (mapper !== 'vaapi' && mapper !== 'qsv');
}

/** The filter device a CPU-frame GPU chain uploads to. */
export type UploadDevice = { kind: 'vulkan'; cudaIndex?: string } | { kind: 'opencl' };

/**
 * Global options that create the upload device. Vulkan on an NVIDIA host is derived from the CUDA device the job
 * decodes/encodes on (same GPU, matched by UUID), not Vulkan's own index: lavapipe or another GPU may come first
 * in Vulkan's list. OpenCL takes the first GPU device (device_type=gpu: never a CPU driver such as pocl).
 */
export function uploadDeviceArgs(device: UploadDevice): string[] {
  if (device.kind === 'opencl') return ['-init_hw_device', 'opencl=ocl:,device_type=gpu', '-filter_hw_device', 'ocl'];
  if (device.cudaIndex !== undefined)
    return [
      '-init_hw_device',
      `cuda=cu:${device.cudaIndex}`,
      '-init_hw_device',
      'vulkan=vk@cu',
      '-filter_hw_device',
      'vk',
    ];
  return ['-init_hw_device', 'vulkan=vk', '-filter_hw_device', 'vk'];
}
