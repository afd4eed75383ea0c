/**
 * Finds the video sequence parameter set at the start of an HLS segment and reads it (sps-parse.ts): the avcC /
 * hvcC box of an fMP4 init section, or the first video PES of an MPEG-TS segment (PAT -> PMT -> video PID, TS
 * packet headers and the PES header removed, so an SPS split across two 188-byte packets still reads whole). AV1
 * (fMP4 only) from the av1C box and its sequence header OBU (av1-config.ts).
 * Bytes in, facts out: no process, no ffprobe.
 */
import { av1ParamsFromConfig } from './av1-config.js';
import { parseH264Sps, parseHevcSps, type VideoParams } from './sps-parse.js';

export type { VideoParams } from './sps-parse.js';

const TS_PACKET = 188;
/** PMT stream_type of H.264 and HEVC video (ISO/IEC 13818-1 table 2-34). */
const STREAM_H264 = 0x1b;
const STREAM_HEVC = 0x24;
/** Enough elementary stream bytes to hold the parameter sets that open the first access unit. */
const MAX_ES_BYTES = 64 * 1024;

type VideoKind = 'h264' | 'hevc';

/** Size and codec string of the first video stream in `head` (the first bytes of a segment or init section). */
export function readVideoParams(head: Uint8Array): VideoParams | undefined {
  return isTransportStream(head) ? fromTransportStream(head) : fromMp4(head);
}

function isTransportStream(buf: Uint8Array): boolean {
  return buf.length >= TS_PACKET && buf[0] === 0x47 && (buf.length < 2 * TS_PACKET || buf[TS_PACKET] === 0x47);
}

function indexOfFourCc(buf: Uint8Array, fourCc: string, from = 0): number {
  const [a, b, c, d] = [...fourCc].map((ch) => ch.charCodeAt(0));
  for (let i = from; i + 4 <= buf.length; i++) {
    if (buf[i] === a && buf[i + 1] === b && buf[i + 2] === c && buf[i + 3] === d) return i;
  }
  return -1;
}

/**
 * The SPS inside an avcC or hvcC decoder configuration record, or the av1C record (the box body follows its
 * four-character code).
 */
function fromMp4(buf: Uint8Array): VideoParams | undefined {
  const avcC = indexOfFourCc(buf, 'avcC');
  if (avcC >= 0) {
    // configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSequenceParameterSets.
    const at = avcC + 4;
    if (buf[at] !== 1 || ((buf[at + 5] ?? 0) & 0x1f) === 0) return undefined;
    const len = ((buf[at + 6] ?? 0) << 8) | (buf[at + 7] ?? 0);
    return parseH264Sps(buf.subarray(at + 8, at + 8 + len));
  }
  const av1C = indexOfFourCc(buf, 'av1C');
  if (av1C >= 4) {
    // The box size (the four bytes before the type) bounds the record and its configOBUs.
    const size = ((buf[av1C - 4]! << 24) | (buf[av1C - 3]! << 16) | (buf[av1C - 2]! << 8) | buf[av1C - 1]!) >>> 0;
    if (size < 12 || av1C - 4 + size > buf.length) return undefined;
    return av1ParamsFromConfig(buf.subarray(av1C + 4, av1C - 4 + size));
  }
  const hvcC = indexOfFourCc(buf, 'hvcC');
  if (hvcC < 0) return undefined;
  let p = hvcC + 4;
  if (buf[p] !== 1) return undefined;
  // 22 bytes of general profile/tier/level and stream facts, then the arrays of parameter set NAL units.
  p += 22;
  const arrays = buf[p++] ?? 0;
  for (let a = 0; a < arrays && p + 3 <= buf.length; a++) {
    const type = buf[p]! & 0x3f;
    const count = (buf[p + 1]! << 8) | buf[p + 2]!;
    p += 3;
    for (let n = 0; n < count && p + 2 <= buf.length; n++) {
      const len = (buf[p]! << 8) | buf[p + 1]!;
      if (type === 33) return parseHevcSps(buf.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
  }
  return undefined;
}

/** Payload of each TS packet (after the 4-byte header and any adaptation field), with its PID. */
function* tsPayloads(buf: Uint8Array): Generator<{ pid: number; start: boolean; payload: Uint8Array }> {
  for (let off = 0; off + TS_PACKET <= buf.length; off += TS_PACKET) {
    if (buf[off] !== 0x47) return;
    const pid = ((buf[off + 1]! & 0x1f) << 8) | buf[off + 2]!;
    const start = (buf[off + 1]! & 0x40) !== 0;
    const afc = (buf[off + 3]! >> 4) & 3;
    if ((afc & 1) === 0) continue;
    const from = off + 4 + (afc & 2 ? 1 + buf[off + 4]! : 0);
    if (from < off + TS_PACKET) yield { pid, start, payload: buf.subarray(from, off + TS_PACKET) };
  }
}

/** A PSI section (PAT, PMT) from a payload that starts one: pointer_field skipped, CRC left out. */
function psiSection(payload: Uint8Array): Uint8Array | undefined {
  const at = 1 + payload[0]!;
  if (at + 3 > payload.length) return undefined;
  const length = ((payload[at + 1]! & 0x0f) << 8) | payload[at + 2]!;
  return payload.subarray(at, Math.min(payload.length, at + 3 + length - 4));
}

function fromTransportStream(buf: Uint8Array): VideoParams | undefined {
  let pmtPid = -1;
  let video: { pid: number; kind: VideoKind } | undefined;
  const es: Uint8Array[] = [];
  let esBytes = 0;
  for (const { pid, start, payload } of tsPayloads(buf)) {
    if (pid === 0 && start && pmtPid < 0) {
      const s = psiSection(payload);
      // Entries of 4 bytes after the 8-byte header: program_number (0 = network PID, skipped), PID.
      for (let i = 8; s && i + 4 <= s.length; i += 4) {
        if (((s[i]! << 8) | s[i + 1]!) !== 0) {
          pmtPid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
          break;
        }
      }
    } else if (pid === pmtPid && start && !video) {
      const s = psiSection(payload);
      if (!s || s.length < 12) continue;
      // After the 12-byte header and the program descriptors: stream_type, PID, ES_info_length, descriptors.
      let i = 12 + (((s[10]! & 0x0f) << 8) | s[11]!);
      while (i + 5 <= s.length) {
        const type = s[i]!;
        const esPid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
        if (type === STREAM_H264 || type === STREAM_HEVC) {
          video = { pid: esPid, kind: type === STREAM_H264 ? 'h264' : 'hevc' };
          break;
        }
        i += 5 + (((s[i + 3]! & 0x0f) << 8) | s[i + 4]!);
      }
    } else if (video && pid === video.pid) {
      if (start) {
        // PES header: start code, stream_id, length (6 bytes), two flag bytes, header_data_length, header data.
        if (payload.length < 9 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return undefined;
        es.push(payload.subarray(9 + payload[8]!));
      } else if (es.length > 0) es.push(payload);
      esBytes += es.at(-1)?.length ?? 0;
      if (esBytes >= MAX_ES_BYTES) break;
    }
  }
  if (!video || es.length === 0) return undefined;
  return fromAnnexB(Buffer.concat(es), video.kind);
}

/** The first SPS NAL unit of an Annex B byte stream (start code 00 00 01), up to the next start code. */
function fromAnnexB(buf: Uint8Array, kind: VideoKind): VideoParams | undefined {
  for (let i = 0; i + 4 < buf.length; i++) {
    if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1) continue;
    const header = buf[i + 3]!;
    const isSps = kind === 'h264' ? (header & 0x1f) === 7 : ((header >> 1) & 0x3f) === 33;
    if (!isSps) continue;
    let end = i + 3;
    while (end + 2 < buf.length && !(buf[end] === 0 && buf[end + 1] === 0 && buf[end + 2] === 1)) end++;
    const nal = buf.subarray(i + 3, end + 2 < buf.length ? end : buf.length);
    return kind === 'h264' ? parseH264Sps(nal) : parseHevcSps(nal);
  }
  return undefined;
}
