/**
 * Finds the byte range of the I-frame that opens an HLS video segment, for I-frame playlists (RFC 8216 4.3.3.6):
 * - MPEG-TS: from the first packet of the first video PES (PAT -> PMT -> video PID) to the last packet of that PES
 *   on the video PID. Whatever precedes it (SDT, PAT, PMT) is the segment's Media Initialization Section, which the
 *   range must not include: a client takes it from the start of the resource up to the range (as in the RFC's own
 *   example, `#EXT-X-BYTERANGE:9400@376`).
 * - fMP4: the segment's first moof, the mdat header and the first sample's bytes (trun data offset and size); the
 *   init section comes from the playlist's EXT-X-MAP.
 * In both, the first picture's NAL units are checked to be intra (iframe-pictures.ts), so a segment that does not
 * open with a keyframe is refused rather than listed as one; AV1 (fMP4 only) must open with a shown KEY_FRAME
 * (iframe-av1.ts).
 * Pure functions over the head of a segment: `undefined` means "read more bytes"; bytes that make no sense throw an
 * Error saying why (the caller names the file).
 */

import { OBU_SEQUENCE_HEADER, obus, parseAv1Config, parseAv1SequenceHeader } from './av1-config.js';
import { av1KeyFrameProblem } from './iframe-av1.js';
import { annexBNalHeads, firstPictureProblem, lengthPrefixedNalHeads, type VideoCodec } from './iframe-pictures.js';

export type { VideoCodec } from './iframe-pictures.js';

/** Byte range of one I-frame inside its segment file. */
export interface IFrameRange {
  offset: number;
  length: number;
}

/** What the media segments of an fMP4 rendition rely on from its init section (moov). */
export interface Fmp4Track {
  trackId: number;
  codec: VideoCodec | 'av1';
  /** avc3/hev1 sample entries: parameter sets travel in the samples, not (only) in the init section. */
  inBandParameterSets: boolean;
  /** Bytes of each NAL unit's length prefix in the samples (avcC/hvcC lengthSizeMinusOne + 1; 0 for AV1). */
  nalLengthSize: number;
  /** AV1: the init section's sequence header says reduced_still_picture_header (every frame a shown key frame). */
  av1ReducedStillPictureHeader?: boolean;
  /** trex defaults, used when a fragment states neither. */
  defaultSampleSize?: number;
  defaultSampleFlags?: number;
}

const TS_PACKET = 188;
/** PMT stream_type of H.264 and HEVC video (ISO/IEC 13818-1 table 2-34). */
const TS_STREAM_TYPES: Record<number, VideoCodec> = { 0x1b: 'h264', 0x24: 'hevc' };

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number => b[i]! * 0x1000000 + ((b[i + 1]! << 16) | u16(b, i + 2));

/** A PSI section (PAT, PMT) from a payload that starts one: pointer_field skipped, CRC left out. */
function psiSection(payload: Uint8Array): Uint8Array {
  const at = 1 + payload[0]!;
  const length = ((payload[at + 1]! & 0x0f) << 8) | payload[at + 2]!;
  return payload.subarray(at, Math.min(payload.length, at + 3 + length - 4));
}

function pmtPidFromPat(s: Uint8Array): number | undefined {
  // Entries of 4 bytes after the 8-byte header: program_number (0 = network PID, skipped), PID.
  for (let i = 8; i + 4 <= s.length; i += 4) if (u16(s, i) !== 0) return u16(s, i + 2) & 0x1fff;
  return undefined;
}

function videoFromPmt(s: Uint8Array): { pid: number; codec: VideoCodec } | undefined {
  // After the 12-byte header and the program descriptors: stream_type, PID, ES_info_length, descriptors.
  for (let i = 12 + (u16(s, 10) & 0x0fff); i + 5 <= s.length; i += 5 + (u16(s, i + 3) & 0x0fff)) {
    const codec = TS_STREAM_TYPES[s[i]!];
    if (codec) return { pid: u16(s, i + 1) & 0x1fff, codec };
  }
  return undefined;
}

/**
 * The first I-frame of an MPEG-TS segment; `complete` says `head` is the whole file. Only the first ES_HEAD bytes of
 * the PES payload are gathered for the picture check: the parameter sets, SEI and first slice header that open an
 * access unit come well within them, and the rest of a keyframe (megabytes in 4K) is only stepped over.
 */
export function tsIFrameRange(head: Uint8Array, complete: boolean): IFrameRange | undefined {
  if (head[0] !== 0x47) throw new Error('is not an MPEG-TS segment (no sync byte at 0)');
  let pmtPid: number | undefined;
  let video: { pid: number; codec: VideoCodec } | undefined;
  let start = -1;
  let end = -1;
  const es: Uint8Array[] = [];
  let esBytes = 0;
  for (let off = 0; off + TS_PACKET <= head.length; off += TS_PACKET) {
    if (head[off] !== 0x47) throw new Error(`loses MPEG-TS sync at byte ${off}`);
    const pid = ((head[off + 1]! & 0x1f) << 8) | head[off + 2]!;
    const unitStart = (head[off + 1]! & 0x40) !== 0;
    if (start >= 0 && pid === video!.pid && !unitStart) {
      // The common case by far: one more packet of the first picture.
      end = off + TS_PACKET;
      if (esBytes < ES_HEAD) esBytes += collect(head, off, es);
      continue;
    }
    const payload = payloadOf(head, off);
    if (pid === 0 && unitStart && payload && pmtPid === undefined) pmtPid = pmtPidFromPat(psiSection(payload));
    else if (pid === pmtPid && unitStart && payload && !video) video = videoFromPmt(psiSection(payload));
    else if (video && pid === video.pid && unitStart) {
      if (start >= 0) return intraTs(start, end, es, video.codec);
      // PES header: start code, stream_id, length (6 bytes), two flag bytes, header_data_length, header data.
      if (!payload || payload.length < 9 || u16(payload, 0) !== 0 || payload[2] !== 1) {
        throw new Error(`has a video packet at byte ${off} that does not start a PES`);
      }
      start = off;
      end = off + TS_PACKET;
      es.push(payload.subarray(9 + payload[8]!));
      esBytes += es[0]!.length;
    }
  }
  if (!complete) return undefined;
  if (pmtPid === undefined) throw new Error('has no program association table');
  if (!video) throw new Error('has no H.264 or HEVC video stream in its program map table');
  if (start < 0) throw new Error(`has no video PES on PID ${video.pid}`);
  return intraTs(start, end, es, video.codec);
}

/** Bytes of the first picture's elementary stream gathered for firstPictureProblem. */
const ES_HEAD = 256 * 1024;

/** The payload of the packet at `off` (after the header and any adaptation field), if it has one. */
function payloadOf(head: Uint8Array, off: number): Uint8Array | undefined {
  const afc = (head[off + 3]! >> 4) & 3;
  const from = off + 4 + (afc & 2 ? 1 + head[off + 4]! : 0);
  return afc & 1 && from < off + TS_PACKET ? head.subarray(from, off + TS_PACKET) : undefined;
}

function collect(head: Uint8Array, off: number, es: Uint8Array[]): number {
  const payload = payloadOf(head, off);
  if (payload) es.push(payload);
  return payload?.length ?? 0;
}

function intraTs(start: number, end: number, es: Uint8Array[], codec: VideoCodec): IFrameRange {
  const problem = firstPictureProblem(annexBNalHeads(Buffer.concat(es)), codec, true);
  if (problem) throw new Error(`does not start with an I-frame: ${problem}`);
  return { offset: start, length: end - start };
}

interface Box {
  type: string;
  start: number;
  /** First byte of the body (after size, type and any 64-bit size). */
  body: number;
  end: number;
}

/** The box at `at`, or undefined when its header is not in `buf`; sizes are checked against `limit`. */
function boxAt(buf: Uint8Array, at: number, limit: number): Box | undefined {
  if (at + 8 > buf.length) return undefined;
  let size = u32(buf, at);
  let body = at + 8;
  if (size === 1) {
    if (at + 16 > buf.length) return undefined;
    size = u32(buf, at + 8) * 2 ** 32 + u32(buf, at + 12);
    body = at + 16;
  } else if (size === 0) size = limit - at;
  if (size < body - at) throw new Error(`has a box of impossible size ${size} at byte ${at}`);
  const type = String.fromCharCode(buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!);
  return { type, start: at, body, end: at + size };
}

/** Child boxes of a box already wholly inside `buf`. */
function* children(buf: Uint8Array, parent: Pick<Box, 'body' | 'end'>, skip = 0): Generator<Box> {
  for (let at = parent.body + skip; at < parent.end;) {
    const box = boxAt(buf, at, parent.end);
    if (!box || box.end > parent.end) throw new Error(`has a box that overruns its parent at byte ${at}`);
    yield box;
    at = box.end;
  }
}

function child(buf: Uint8Array, parent: Pick<Box, 'body' | 'end'>, type: string, skip = 0): Box | undefined {
  for (const box of children(buf, parent, skip)) if (box.type === type) return box;
  return undefined;
}

/** The video track of an fMP4 init section: track ID, codec, NAL length size and trex defaults. */
export function readFmp4Track(init: Uint8Array): Fmp4Track {
  const top = { body: 0, end: init.length };
  const moov = child(init, top, 'moov');
  if (!moov) throw new Error('has no moov box');
  for (const trak of children(init, moov)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(init, trak, 'mdia');
    const hdlr = mdia && child(init, mdia, 'hdlr');
    // hdlr: version/flags, pre_defined, then handler_type.
    if (!hdlr || String.fromCharCode(...init.subarray(hdlr.body + 8, hdlr.body + 12)) !== 'vide') continue;
    const tkhd = child(init, trak, 'tkhd');
    const minf = child(init, mdia, 'minf');
    const stbl = minf && child(init, minf, 'stbl');
    const stsd = stbl && child(init, stbl, 'stsd');
    // stsd: version/flags, entry_count, then sample entries; a visual sample entry has 78 bytes before its boxes.
    const entry = stsd && [...children(init, stsd, 8)][0];
    if (!tkhd || !entry) throw new Error('has a video track without a header or sample description');
    // tkhd: version/flags, creation and modification times (4 or 8 bytes each by version), then track_ID.
    const trackId = u32(init, tkhd.body + (init[tkhd.body] === 1 ? 20 : 12));
    const config = child(init, entry, 'avcC', 78) ?? child(init, entry, 'hvcC', 78) ?? child(init, entry, 'av1C', 78);
    if (!config) throw new Error(`has a video sample entry ${entry.type} that is neither H.264, HEVC nor AV1`);
    const codec = config.type === 'avcC' ? 'h264' : config.type === 'hvcC' ? 'hevc' : 'av1';
    const nalLengthSize = codec === 'av1' ? 0 : (init[config.body + (codec === 'h264' ? 4 : 21)]! & 3) + 1;
    const mvex = child(init, moov, 'mvex');
    const trex = mvex && [...children(init, mvex)].find((b) => b.type === 'trex' && u32(init, b.body + 4) === trackId);
    return {
      trackId,
      codec,
      inBandParameterSets: entry.type === 'avc3' || entry.type === 'hev1',
      nalLengthSize,
      ...(codec === 'av1' ? { av1ReducedStillPictureHeader: av1Reduced(init.subarray(config.body, config.end)) } : {}),
      // trex: version/flags, track_ID, sample_description_index, duration, size, flags.
      defaultSampleSize: trex && u32(init, trex.body + 16),
      defaultSampleFlags: trex && u32(init, trex.body + 20),
    };
  }
  throw new Error('has no video track');
}

/** Whether the av1C record's sequence header says reduced_still_picture_header; throws when the record is not AV1's. */
function av1Reduced(av1C: Uint8Array): boolean {
  const config = parseAv1Config(av1C);
  if (!config) throw new Error('has an av1C box that is not an AV1 codec configuration record');
  for (const obu of obus(config.configObus)) {
    if (obu.type === OBU_SEQUENCE_HEADER)
      return parseAv1SequenceHeader(obu.payload)?.reducedStillPictureHeader ?? false;
  }
  return false;
}

/** sample_is_non_sync_sample, and sample_depends_on = 1 (depends on other samples): not an I-frame. */
const isSyncSample = (flags: number): boolean => (flags & 0x10000) === 0 && ((flags >>> 24) & 3) !== 1;

/** The first I-frame of an fMP4 media segment (its first moof + mdat header + first sample). */
export function fmp4IFrameRange(head: Uint8Array, complete: boolean, track: Fmp4Track): IFrameRange | undefined {
  const limit = complete ? head.length : Number.MAX_SAFE_INTEGER;
  let moof: Box | undefined;
  for (let at = 0; !moof;) {
    const box = boxAt(head, at, limit);
    if (!box) return needMore(complete, 'ends before its first moof box');
    if (box.type === 'mdat') throw new Error('has an mdat box before any moof box');
    if (box.type === 'moof') moof = box;
    at = box.end;
  }
  if (moof.end > head.length) return needMore(complete, 'ends inside its moof box');
  const traf = [...children(head, moof)].find((b) => {
    const tfhd = b.type === 'traf' ? child(head, b, 'tfhd') : undefined;
    return tfhd && u32(head, tfhd.body + 4) === track.trackId;
  });
  const tfhd = traf && child(head, traf, 'tfhd');
  const trun = traf && child(head, traf, 'trun');
  if (!tfhd || !trun) throw new Error(`has no track fragment run for video track ${track.trackId}`);

  // tfhd: flags, track_ID, then the optional fields in flag order (ISO/IEC 14496-12 8.8.7).
  const tf = u32(head, tfhd.body) & 0xffffff;
  let p = tfhd.body + 8;
  let base = moof.start;
  if (tf & 0x01) {
    base = u32(head, p) * 2 ** 32 + u32(head, p + 4);
    p += 8;
  }
  if (tf & 0x02) p += 4;
  if (tf & 0x08) p += 4;
  const tfhdSize = tf & 0x10 ? u32(head, p) : undefined;
  if (tf & 0x10) p += 4;
  const tfhdFlags = tf & 0x20 ? u32(head, p) : undefined;

  // trun: flags, sample_count, [data_offset], [first_sample_flags], then per sample duration, size, flags, cto.
  const rf = u32(head, trun.body) & 0xffffff;
  if (u32(head, trun.body + 4) === 0) throw new Error('has a track fragment run without samples');
  p = trun.body + 8;
  const dataOffset = rf & 0x01 ? u32(head, p) | 0 : 0;
  if (rf & 0x01) p += 4;
  const firstFlags = rf & 0x04 ? u32(head, p) : undefined;
  if (rf & 0x04) p += 4;
  if (rf & 0x100) p += 4;
  const size = rf & 0x200 ? u32(head, p) : (tfhdSize ?? track.defaultSampleSize);
  if (rf & 0x200) p += 4;
  const flags = firstFlags ?? (rf & 0x400 ? u32(head, p) : (tfhdFlags ?? track.defaultSampleFlags ?? 0));
  if (!size) throw new Error('states no size for its first sample');
  if (!isSyncSample(flags)) throw new Error('does not start with a sync sample (trun/tfhd sample flags)');

  const dataStart = base + dataOffset;
  const mdat = dataStart >= moof.end ? boxAt(head, moof.end, limit) : undefined;
  if (!mdat || mdat.type !== 'mdat' || dataStart < mdat.body || dataStart + size > mdat.end) {
    if (!mdat && !complete) return undefined;
    throw new Error('has a first sample outside the mdat box that follows its moof');
  }
  if (dataStart + size > head.length) return needMore(complete, 'ends inside its first sample');
  const sample = head.subarray(dataStart, dataStart + size);
  const problem =
    track.codec === 'av1'
      ? av1KeyFrameProblem(sample, track.av1ReducedStillPictureHeader)
      : firstPictureProblem(
          lengthPrefixedNalHeads(sample, track.nalLengthSize),
          track.codec,
          track.inBandParameterSets,
        );
  if (problem) throw new Error(`does not start with an I-frame: ${problem}`);
  return { offset: moof.start, length: dataStart + size - moof.start };
}

function needMore(complete: boolean, what: string): undefined {
  if (complete) throw new Error(what);
  return undefined;
}
