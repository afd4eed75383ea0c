/**
 * Whether the picture that opens a segment can be shown on its own, from its NAL units: an intra picture, with its
 * parameter sets at hand. A non-IDR I picture counts (NVENC and libx265 force keyframes as such unless told
 * `-forced-idr 1`; libx265 then writes a CRA): it decodes alone, which is all trick play needs.
 * Pure functions over bytes.
 */

export type VideoCodec = 'h264' | 'hevc';

/** Bytes of each NAL unit handed to the readers below: the header and the first syntax elements fit easily. */
const NAL_HEAD = 64;

/** Index of the next start code 00 00 01 at or after `from` whose first byte lies before `limit`, else -1. */
function startCodeAt(buf: Uint8Array, from: number, limit = buf.length): number {
  for (let i = from; i < limit && i + 3 <= buf.length; i++) {
    if (buf[i + 2]! > 1) i += 2;
    else if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) return i;
  }
  return -1;
}

/**
 * The head (first NAL_HEAD bytes at most) of each NAL unit of an Annex B byte stream, start codes removed. Lazy: a
 * reader that stops at the first picture never scans its slice data, which runs to megabytes in a 4K keyframe.
 */
export function* annexBNalHeads(buf: Uint8Array): Generator<Uint8Array> {
  for (let at = startCodeAt(buf, 0); at >= 0;) {
    const from = at + 3;
    const limit = Math.min(buf.length, from + NAL_HEAD);
    const next = startCodeAt(buf, from, limit);
    // A four-byte start code (00 00 00 01) leaves its leading zero at the end of the previous NAL unit.
    yield buf.subarray(from, next < 0 ? limit : buf[next - 1] === 0 ? next - 1 : next);
    at = next >= 0 ? next : startCodeAt(buf, limit);
  }
}

/** The head (first NAL_HEAD bytes at most) of each NAL unit of an MP4 sample, each prefixed by its length. */
export function* lengthPrefixedNalHeads(sample: Uint8Array, lengthSize: number): Generator<Uint8Array> {
  for (let p = 0; p + lengthSize <= sample.length;) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + sample[p + i]!;
    yield sample.subarray(p + lengthSize, p + lengthSize + Math.min(len, NAL_HEAD));
    p += lengthSize + len;
  }
}

/** ue(v) and u(n) reads over the first bytes of a NAL unit (emulation prevention bytes removed on the fly). */
function bitReader(nal: Uint8Array, skipBytes: number) {
  const bytes: number[] = [];
  for (let i = skipBytes, zeros = 0; i < nal.length && bytes.length < 32; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      zeros = 0;
      continue;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
    bytes.push(nal[i]!);
  }
  let pos = 0;
  const bit = (): number => {
    const byte = bytes[pos >> 3];
    if (byte === undefined) throw new RangeError('slice header ends early');
    return (byte >> (7 - (pos++ & 7))) & 1;
  };
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + bit();
    return v;
  };
  const ue = (): number => {
    let zeros = 0;
    while (bit() === 0) if (++zeros > 31) throw new RangeError('invalid Exp-Golomb code');
    return 2 ** zeros - 1 + bits(zeros);
  };
  return { bits, ue };
}

/** Parameter set NAL unit types a picture needs: H.264 SPS, PPS; HEVC VPS, SPS, PPS. */
const PARAMETER_SETS: Record<VideoCodec, Record<number, string>> = {
  h264: { 7: 'SPS', 8: 'PPS' },
  hevc: { 32: 'VPS', 33: 'SPS', 34: 'PPS' },
};

/**
 * Why the first picture of an access unit cannot be shown on its own, or undefined when it can: its first VCL NAL
 * unit must be an H.264 IDR slice or I slice, or an HEVC IRAP picture (IDR, CRA, BLA) or I slice; and, when the
 * parameter sets travel in-band (MPEG-TS, avc3/hev1 sample entries), they must come before it in the same access
 * unit (x264 with open GOP, for one, repeats them only on IDR pictures). SEI and delimiters are passed over.
 */
export function firstPictureProblem(
  nals: Iterable<Uint8Array>,
  codec: VideoCodec,
  inBandParameterSets: boolean,
): string | undefined {
  const seen = new Set<number>();
  let extraSliceHeaderBits = 0;
  try {
    for (const nal of nals) {
      if (nal.length === 0) continue;
      const type = codec === 'h264' ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f;
      seen.add(type);
      if (codec === 'hevc' && type === 34) {
        // PPS: pps_id, sps_id, dependent_slice_segments_enabled, output_flag_present, num_extra_slice_header_bits.
        const r = bitReader(nal, 2);
        r.ue();
        r.ue();
        r.bits(2);
        extraSliceHeaderBits = r.bits(3);
      }
      const vcl = codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
      if (!vcl) continue;
      const problem =
        codec === 'h264' ? h264SliceProblem(nal, type) : hevcSliceProblem(nal, type, extraSliceHeaderBits);
      if (problem || !inBandParameterSets) return problem;
      const missing = Object.entries(PARAMETER_SETS[codec]).filter(([t]) => !seen.has(Number(t)));
      if (missing.length === 0) return undefined;
      return `its first picture has no ${missing.map(([, name]) => name).join('/')} before it, so it cannot be decoded alone`;
    }
  } catch (err) {
    return (err as Error).message;
  }
  return 'no picture found in the first access unit';
}

function h264SliceProblem(nal: Uint8Array, type: number): string | undefined {
  if (type === 5) return undefined;
  const r = bitReader(nal, 1);
  r.ue(); // first_mb_in_slice
  const sliceType = r.ue() % 5;
  return sliceType === 2 || sliceType === 4 ? undefined : `H.264 slice type ${sliceType} (not I)`;
}

function hevcSliceProblem(nal: Uint8Array, type: number, extraSliceHeaderBits: number): string | undefined {
  if (type >= 16 && type <= 23) return undefined;
  const r = bitReader(nal, 2);
  // The first slice of a picture: first_slice_segment_in_pic_flag = 1, so no address or dependent flag follows.
  if (r.bits(1) !== 1) return `HEVC NAL type ${type} is not the first slice of its picture`;
  r.ue(); // slice_pic_parameter_set_id
  r.bits(extraSliceHeaderBits);
  return r.ue() === 2 ? undefined : `HEVC NAL type ${type} is not an I slice`;
}
