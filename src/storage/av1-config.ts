/**
 * What a master playlist must declare of an AV1 rung, read from the AV1CodecConfigurationRecord (the av1C box of
 * the fMP4 init section; AV1-ISOBMFF 2.3) and the sequence header OBU it carries (AV1 spec 5.5): the codec string
 * "av01.P.LLT.DD" (AV1-ISOBMFF "Codecs Parameter String": profile, two-digit seq_level_idx, tier M/H, two-digit
 * bit depth; the optional fields after it are left out, which the spec allows and means their defaults: 4:2:0,
 * BT.709, studio range) and the coded picture size. Also the OBU walk the I-frame check uses on samples.
 * Pure functions over bytes; anything unexpected returns undefined (the caller falls back to ffprobe).
 */
import type { VideoParams } from './sps-parse.js';

/** OBU types (AV1 spec 6.2.2) the readers here look at. */
export const OBU_SEQUENCE_HEADER = 1;
export const OBU_FRAME_HEADER = 3;
export const OBU_FRAME = 6;

export interface Obu {
  type: number;
  /** The OBU's payload (after its header, extension byte and size field). */
  payload: Uint8Array;
}

/** leb128() (AV1 spec 4.10.5): the value and its length in bytes, or undefined when it runs off the buffer. */
function leb128(buf: Uint8Array, at: number): { value: number; length: number } | undefined {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = buf[at + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return undefined;
}

/**
 * The OBUs of a low-overhead bitstream (AV1 spec 5.2; what av1C configOBUs and ISOBMFF samples hold): each with
 * obu_has_size_field set, except possibly the last, which then runs to the end. Throws on a forbidden bit or a size
 * that overruns the buffer.
 */
export function* obus(buf: Uint8Array): Generator<Obu> {
  for (let p = 0; p < buf.length;) {
    const header = buf[p]!;
    if (header & 0x80) throw new Error(`has an OBU with its forbidden bit set at byte ${p}`);
    const type = (header >> 3) & 0x0f;
    let at = p + 1 + ((header >> 2) & 1); // obu_extension_flag adds one byte
    let end = buf.length;
    if (header & 0x02) {
      const size = leb128(buf, at);
      if (!size) throw new Error(`has an OBU whose size runs off the data at byte ${p}`);
      at += size.length;
      end = at + size.value;
    }
    if (end > buf.length || at > end) throw new Error(`has an OBU that overruns its sample at byte ${p}`);
    yield { type, payload: buf.subarray(at, end) };
    p = end;
  }
}

/** Reads bits MSB first; throws RangeError when the data runs out. */
function bitReader(buf: Uint8Array) {
  let pos = 0;
  const bit = (): number => {
    const byte = buf[pos >> 3];
    if (byte === undefined) throw new RangeError('sequence header ends early');
    return (byte >> (7 - (pos++ & 7))) & 1;
  };
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + bit();
    return v;
  };
  return { bit, bits };
}

export interface Av1SequenceHeader {
  profile: number;
  /** seq_level_idx of operating point 0 (0 = level 2.0, 31 = "no level": 2 + (idx >> 2) . (idx & 3)). */
  levelIdx: number;
  /** seq_tier of operating point 0 (1 = High). */
  tier: number;
  reducedStillPictureHeader: boolean;
  width: number;
  height: number;
}

/** The start of sequence_header_obu() (AV1 spec 5.5.1): profile, operating point 0 and the maximum frame size. */
export function parseAv1SequenceHeader(payload: Uint8Array): Av1SequenceHeader | undefined {
  try {
    const r = bitReader(payload);
    const profile = r.bits(3);
    r.bit(); // still_picture
    const reduced = r.bit() === 1;
    let levelIdx: number;
    let tier = 0;
    if (reduced) levelIdx = r.bits(5);
    else {
      let decoderModelInfo = false;
      let bufferDelayBits = 0;
      if (r.bit()) {
        // timing_info(): num_units_in_display_tick, time_scale, equal_picture_interval [num_ticks_per_picture].
        r.bits(32);
        r.bits(32);
        if (r.bit()) uvlc(r);
        decoderModelInfo = r.bit() === 1;
        if (decoderModelInfo) {
          // decoder_model_info(): buffer_delay_length_minus_1, num_units_in_decoding_tick, two more lengths.
          bufferDelayBits = r.bits(5) + 1;
          r.bits(32);
          r.bits(10);
        }
      }
      const initialDisplayDelay = r.bit() === 1;
      const points = r.bits(5) + 1;
      levelIdx = 0;
      for (let i = 0; i < points; i++) {
        r.bits(12); // operating_point_idc
        const idx = r.bits(5);
        const t = idx > 7 ? r.bit() : 0;
        if (i === 0) [levelIdx, tier] = [idx, t];
        if (decoderModelInfo && r.bit()) {
          // operating_parameters_info(): decoder and encoder buffer delays, low_delay_mode_flag.
          r.bits(bufferDelayBits);
          r.bits(bufferDelayBits);
          r.bit();
        }
        if (initialDisplayDelay && r.bit()) r.bits(4);
      }
    }
    const widthBits = r.bits(4) + 1;
    const heightBits = r.bits(4) + 1;
    const width = r.bits(widthBits) + 1;
    const height = r.bits(heightBits) + 1;
    return { profile, levelIdx, tier, reducedStillPictureHeader: reduced, width, height };
  } catch {
    return undefined;
  }
}

/** uvlc() (AV1 spec 4.10.3), read only to be stepped over. */
function uvlc(r: ReturnType<typeof bitReader>): void {
  let zeros = 0;
  while (r.bit() === 0) if (++zeros >= 32) return;
  r.bits(zeros);
}

export interface Av1Config {
  profile: number;
  levelIdx: number;
  tier: number;
  bitDepth: 8 | 10 | 12;
  monochrome: boolean;
  /** The configOBUs: the sequence header (and any metadata OBUs) the samples rely on. */
  configObus: Uint8Array;
}

/** The AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3): the av1C box body. */
export function parseAv1Config(body: Uint8Array): Av1Config | undefined {
  // marker (1) + version (7) must be 0x81; then seq_profile(3) seq_level_idx_0(5); then tier, high_bitdepth,
  // twelve_bit, monochrome, chroma subsampling x/y, chroma_sample_position(2); then the presentation delay byte.
  if (body.length < 4 || body[0] !== 0x81) return undefined;
  const b2 = body[2]!;
  const highBitdepth = (b2 & 0x40) !== 0;
  const twelveBit = (b2 & 0x20) !== 0;
  return {
    profile: body[1]! >> 5,
    levelIdx: body[1]! & 0x1f,
    tier: b2 >> 7,
    bitDepth: highBitdepth ? (twelveBit ? 12 : 10) : 8,
    monochrome: (b2 & 0x10) !== 0,
    configObus: body.subarray(4),
  };
}

const two = (n: number): string => String(n).padStart(2, '0');

/** "av01.0.08M.08": profile, seq_level_idx as two digits, tier (M/H), bit depth as two digits. */
export function av1CodecString(c: Pick<Av1Config, 'profile' | 'levelIdx' | 'tier' | 'bitDepth'>): string {
  return `av01.${c.profile}.${two(c.levelIdx)}${c.tier ? 'H' : 'M'}.${two(c.bitDepth)}`;
}

/**
 * Codec string and picture size from an av1C box body: the record's fields give the string, the sequence header in
 * its configOBUs the size (max_frame_width/height, which ffmpeg's encoders set to the coded size). Undefined when
 * the record or its sequence header cannot be read, or when the two disagree on profile or level.
 */
export function av1ParamsFromConfig(body: Uint8Array): VideoParams | undefined {
  const config = parseAv1Config(body);
  if (!config) return undefined;
  let seq: Av1SequenceHeader | undefined;
  try {
    for (const obu of obus(config.configObus)) {
      if (obu.type === OBU_SEQUENCE_HEADER) {
        seq = parseAv1SequenceHeader(obu.payload);
        break;
      }
    }
  } catch {
    return undefined;
  }
  if (!seq || seq.profile !== config.profile || seq.levelIdx !== config.levelIdx) return undefined;
  return { codec: av1CodecString(config), width: seq.width, height: seq.height };
}
