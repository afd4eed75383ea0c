/**
 * Reads what the master playlist must declare (coded picture size after cropping, RFC 6381 codec string) straight
 * from a video stream's sequence parameter set: H.264 (ITU-T H.264 7.3.2.1.1) and HEVC (ITU-T H.265 7.3.2.2).
 * Pure functions over bytes, so verification needs no ffprobe process per rendition (each costs ~70 ms of
 * start-up). Anything unexpected returns undefined and the caller falls back to ffprobe.
 */

export interface VideoParams {
  codec: string;
  width: number;
  height: number;
}

/** Reads bits MSB first, with Exp-Golomb codes; throws RangeError when the data runs out. */
class BitReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  bit(): number {
    const byte = this.buf[this.pos >> 3];
    if (byte === undefined) throw new RangeError('parameter set ends early');
    const b = (byte >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) this.bit();
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError('invalid Exp-Golomb code');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v): signed Exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : -(k / 2);
  }
}

/** NAL unit payload without its emulation prevention bytes (00 00 03 -> 00 00). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** [SubWidthC, SubHeightC] of a chroma_format_idc (monochrome and separate colour planes: 1, 1). */
function chromaSubsampling(chromaFormatIdc: number, separatePlanes: boolean): [number, number] {
  if (separatePlanes) return [1, 1];
  return chromaFormatIdc === 1 ? [2, 2] : chromaFormatIdc === 2 ? [2, 1] : [1, 1];
}

/** The H.264 profiles whose SPS carries chroma format, bit depth and scaling lists. */
const H264_HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    if (next !== 0) last = next;
  }
}

/** An H.264 SPS NAL unit (header byte included, emulation prevention bytes still in). */
export function parseH264Sps(nal: Uint8Array): VideoParams | undefined {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) return undefined;
  const codec = `avc1.${hex2(nal[1]!)}${hex2(nal[2]!)}${hex2(nal[3]!)}`;
  try {
    const r = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profile = r.bits(8);
    r.skip(16); // constraint flags, level_idc
    r.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    let separatePlanes = false;
    if (H264_HIGH_PROFILES.has(profile)) {
      chromaFormatIdc = r.ue();
      if (chromaFormatIdc === 3) separatePlanes = r.bit() === 1;
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.skip(1); // qpprime_y_zero_transform_bypass_flag
      if (r.bit()) {
        for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.skip(1);
      r.se();
      r.se();
      const cycle = r.ue();
      for (let i = 0; i < cycle; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.skip(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.bit();
    if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
    r.skip(1); // direct_8x8_inference_flag
    let [left, right, top, bottom] = [0, 0, 0, 0];
    if (r.bit()) [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const chromaArrayType = separatePlanes ? 0 : chromaFormatIdc;
    const [subW, subH] = chromaSubsampling(chromaArrayType, false);
    const cropX = chromaArrayType === 0 ? 1 : subW;
    const cropY = (chromaArrayType === 0 ? 1 : subH) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropX * (left + right);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (top + bottom);
    return width > 0 && height > 0 ? { codec, width, height } : undefined;
  } catch {
    return undefined;
  }
}

/** An HEVC SPS NAL unit (2-byte header included, emulation prevention bytes still in). */
export function parseHevcSps(nal: Uint8Array): VideoParams | undefined {
  if (nal.length < 3 || ((nal[0]! >> 1) & 0x3f) !== 33) return undefined;
  try {
    const r = new BitReader(unescapeRbsp(nal.subarray(2)));
    r.skip(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = r.bits(3);
    r.skip(1); // sps_temporal_id_nesting_flag
    // profile_tier_level(1, maxSubLayersMinus1): the general part is what the codec string is made of.
    const profileSpace = r.bits(2);
    const tier = r.bit();
    const profileIdc = r.bits(5);
    const compat = r.bits(32);
    const constraints: number[] = [];
    for (let i = 0; i < 6; i++) constraints.push(r.bits(8));
    const levelIdc = r.bits(8);
    const subProfile: number[] = [];
    const subLevel: number[] = [];
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      subProfile.push(r.bit());
      subLevel.push(r.bit());
    }
    if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1));
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      if (subProfile[i]) r.skip(88);
      if (subLevel[i]) r.skip(8);
    }
    r.ue(); // sps_seq_parameter_set_id
    const chromaFormatIdc = r.ue();
    const separatePlanes = chromaFormatIdc === 3 && r.bit() === 1;
    const picWidth = r.ue();
    const picHeight = r.ue();
    let [left, right, top, bottom] = [0, 0, 0, 0];
    if (r.bit()) [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const [subW, subH] = chromaSubsampling(chromaFormatIdc, separatePlanes);
    const width = picWidth - subW * (left + right);
    const height = picHeight - subH * (top + bottom);
    if (width <= 0 || height <= 0) return undefined;
    return { codec: hevcCodecFromPtl(profileSpace, tier, profileIdc, compat, constraints, levelIdc), width, height };
  } catch {
    return undefined;
  }
}

/**
 * "hvc1.[A-C]P.C.{L|H}LL.B0..." (ISO/IEC 14496-15 E.3): profile space + profile, the 32 compatibility flags in
 * reverse bit order as hex, tier + level, then the six constraint bytes with trailing zero bytes left out.
 */
function hevcCodecFromPtl(
  space: number,
  tier: number,
  profileIdc: number,
  compat: number,
  constraints: number[],
  levelIdc: number,
): string {
  let reversed = 0;
  for (let i = 0; i < 32; i++) if ((compat >>> i) & 1) reversed |= 1 << (31 - i);
  const bytes = [...constraints];
  while (bytes.length > 0 && bytes.at(-1) === 0) bytes.pop();
  const parts = [
    `${['', 'A', 'B', 'C'][space]}${profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${tier ? 'H' : 'L'}${levelIdc}`,
    ...bytes.map(hex2),
  ];
  return `hvc1.${parts.join('.')}`;
}
