/**
 * av1C -> "av01.P.LLT.DD" and picture size (AV1-ISOBMFF "Codecs Parameter String"), the AV1 Apple-rules branch and
 * the key-frame check of AV1 samples, on hand-built bytes (the real libsvtav1 output is read in
 * test/integration/av1-segments.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkVideoCodec } from '../../../src/storage/apple-rules-codecs.js';
import { APPLE_LIMITS } from '../../../src/media/codec-levels.js';
import {
  av1CodecString,
  av1ParamsFromConfig,
  obus,
  parseAv1Config,
  parseAv1SequenceHeader,
} from '../../../src/storage/av1-config.js';
import { av1KeyFrameProblem } from '../../../src/storage/iframe-av1.js';
import { readVideoParams } from '../../../src/storage/segment-video.js';

/** MSB-first bit writer, padded with zero bits to whole bytes. */
function bitsToBytes(fields: Array<[value: number, bits: number]>): Uint8Array {
  const bits: number[] = [];
  for (const [v, n] of fields) for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(v / 2 ** i) % 2);
  while (bits.length % 8) bits.push(0);
  return Uint8Array.from({ length: bits.length / 8 }, (_, i) =>
    bits.slice(i * 8, i * 8 + 8).reduce((a, b) => a * 2 + b, 0),
  );
}

interface SeqOptions {
  profile?: number;
  levelIdx?: number;
  tier?: number;
  width: number;
  height: number;
  timing?: boolean;
}

/** A sequence_header_obu payload up to the frame size (what the readers look at), one operating point. */
function sequenceHeader(o: SeqOptions): Uint8Array {
  const levelIdx = o.levelIdx ?? 8;
  const wBits = Math.max(1, Math.ceil(Math.log2(o.width)));
  const hBits = Math.max(1, Math.ceil(Math.log2(o.height)));
  return bitsToBytes([
    [o.profile ?? 0, 3],
    [0, 1], // still_picture
    [0, 1], // reduced_still_picture_header
    [o.timing ? 1 : 0, 1], // timing_info_present_flag
    ...(o.timing
      ? ([
          [1, 32],
          [25, 32],
          [1, 1], // equal_picture_interval
          [1, 1], // uvlc() of 0: a single 1 bit
          [0, 1], // decoder_model_info_present_flag
        ] as Array<[number, number]>)
      : []),
    [0, 1], // initial_display_delay_present_flag
    [0, 5], // operating_points_cnt_minus_1
    [0, 12], // operating_point_idc
    [levelIdx, 5],
    ...(levelIdx > 7 ? ([[o.tier ?? 0, 1]] as Array<[number, number]>) : []),
    [wBits - 1, 4],
    [hBits - 1, 4],
    [o.width - 1, wBits],
    [o.height - 1, hBits],
  ]);
}

/** An OBU with obu_has_size_field set. */
function obu(type: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([(type << 3) | 0x02, payload.length, ...payload]);
}

/** An av1C box body: the 4-byte record header and the sequence header OBU as configOBUs. */
function av1C(o: SeqOptions & { bitDepth?: 8 | 10 | 12 }): Uint8Array {
  const depth = o.bitDepth ?? 8;
  const b2 = ((o.tier ?? 0) << 7) | (depth > 8 ? 0x40 : 0) | (depth === 12 ? 0x20 : 0) | 0x0c; // 4:2:0
  return Uint8Array.from([0x81, ((o.profile ?? 0) << 5) | (o.levelIdx ?? 8), b2, 0, ...obu(1, sequenceHeader(o))]);
}

describe('AV1 codec configuration record', () => {
  it('writes av01.P.LLT.DD with two-digit level and bit depth', () => {
    expect(av1CodecString({ profile: 0, levelIdx: 8, tier: 0, bitDepth: 8 })).toBe('av01.0.08M.08');
    expect(av1CodecString({ profile: 0, levelIdx: 13, tier: 1, bitDepth: 10 })).toBe('av01.0.13H.10');
    expect(av1CodecString({ profile: 2, levelIdx: 0, tier: 0, bitDepth: 12 })).toBe('av01.2.00M.12');
  });

  it('reads profile, level, tier and bit depth from av1C and the size from its sequence header', () => {
    const body = av1C({ levelIdx: 9, width: 1920, height: 1080 });
    expect(parseAv1Config(body)).toMatchObject({ profile: 0, levelIdx: 9, tier: 0, bitDepth: 8 });
    expect(av1ParamsFromConfig(body)).toEqual({ codec: 'av01.0.09M.08', width: 1920, height: 1080 });
    const hdr = av1C({ levelIdx: 12, tier: 1, bitDepth: 10, width: 3840, height: 2160, timing: true });
    expect(av1ParamsFromConfig(hdr)).toEqual({ codec: 'av01.0.12H.10', width: 3840, height: 2160 });
  });

  it('parses the sequence header past timing info (level 0, no tier bit)', () => {
    const seq = parseAv1SequenceHeader(sequenceHeader({ levelIdx: 0, width: 320, height: 180, timing: true }));
    expect(seq).toEqual({
      profile: 0,
      levelIdx: 0,
      tier: 0,
      reducedStillPictureHeader: false,
      width: 320,
      height: 180,
    });
  });

  it('refuses a record that is not version 1, or whose sequence header disagrees or is missing', () => {
    const body = av1C({ levelIdx: 8, width: 1280, height: 720 });
    expect(av1ParamsFromConfig(Uint8Array.from([0x80, ...body.subarray(1)]))).toBeUndefined();
    const disagree = Uint8Array.from(body);
    disagree[1] = 9; // record says level 9, the sequence header 8
    expect(av1ParamsFromConfig(disagree)).toBeUndefined();
    expect(av1ParamsFromConfig(body.subarray(0, 4))).toBeUndefined();
    expect(av1ParamsFromConfig(body.subarray(0, 8))).toBeUndefined(); // OBU size runs off the data
  });

  it('is found inside an init section by readVideoParams (box size bounds the record)', () => {
    const body = av1C({ levelIdx: 4, width: 640, height: 360 });
    const box = Uint8Array.from([0, 0, 0, 8 + body.length, ...Buffer.from('av1C'), ...body]);
    const init = Uint8Array.from([...Buffer.from('....av01'), ...box, 0, 0, 0, 0]);
    expect(readVideoParams(init)).toEqual({ codec: 'av01.0.04M.08', width: 640, height: 360 });
  });

  it('walks OBUs with and without size fields, and with an extension byte', () => {
    const list = [
      ...obus(Uint8Array.from([0x12, 0x00, ...obu(1, Uint8Array.from([1, 2, 3])), (6 << 3) | 0x04, 0x00, 0xaa, 0xbb])),
    ];
    expect(list.map((o) => [o.type, [...o.payload]])).toEqual([
      [2, []],
      [1, [1, 2, 3]],
      [6, [0xaa, 0xbb]],
    ]);
    expect(() => [...obus(Uint8Array.from([0x0a, 0x05, 0x00]))]).toThrow(/overruns/);
  });
});

/** A frame OBU whose uncompressed header starts with show_existing_frame, frame_type, show_frame. */
function frame(frameType: number, show = 1, showExisting = 0): Uint8Array {
  return obu(
    6,
    bitsToBytes([
      [showExisting, 1],
      [frameType, 2],
      [show, 1],
      [0, 12],
    ]),
  );
}

describe('av1KeyFrameProblem (the first frame of a segment)', () => {
  const seq = obu(1, sequenceHeader({ width: 320, height: 180 }));
  const td = Uint8Array.from([0x12, 0x00]);

  it('accepts a shown KEY_FRAME after a temporal delimiter and sequence header', () => {
    expect(av1KeyFrameProblem(Uint8Array.from([...td, ...seq, ...frame(0)]))).toBeUndefined();
  });

  it('refuses inter, intra-only, hidden and repeated frames', () => {
    expect(av1KeyFrameProblem(frame(1))).toMatch(/INTER_FRAME, not a KEY_FRAME/);
    expect(av1KeyFrameProblem(frame(2))).toMatch(/INTRA_ONLY_FRAME/);
    expect(av1KeyFrameProblem(frame(0, 0))).toMatch(/not shown/);
    expect(av1KeyFrameProblem(frame(0, 1, 1))).toMatch(/show_existing_frame/);
    expect(av1KeyFrameProblem(Uint8Array.from([...td, ...seq]))).toMatch(/no frame/);
  });

  it('takes any frame under a reduced still picture header as a shown key frame', () => {
    expect(av1KeyFrameProblem(frame(1), true)).toBeUndefined();
  });
});

describe('Apple rules on av01 strings', () => {
  const ctx = { segmentType: 'fmp4' as const, width: 3840, height: 2160, frameRate: 60 };

  it('accepts a well-formed av01 string in fMP4, with no level ceiling', () => {
    expect(checkVideoCodec('av01.0.13M.10', 'v0/stream.m3u8', ctx, APPLE_LIMITS)).toEqual([]);
    expect(checkVideoCodec('av01.0.08M.08.0.110.01.01.01.0', 'v0', ctx, APPLE_LIMITS)).toEqual([]);
  });

  it('refuses a malformed av01 string and AV1 in MPEG-TS', () => {
    const bad = checkVideoCodec('av01.0.8M.8', 'v0', ctx, APPLE_LIMITS);
    expect(bad.map((v) => [v.rule, v.message])).toEqual([
      ['video-codec-string', '"av01.0.8M.8" is not an av01.P.LLT.DD codec string'],
    ]);
    const ts = checkVideoCodec('av01.0.08M.08', 'v0', { ...ctx, segmentType: 'ts' }, APPLE_LIMITS);
    expect(ts.map((v) => v.rule)).toEqual(['video-codec-string']);
  });
});
