/**
 * When the first picture of a staged HLS video segment is presented, on the 90 kHz clock that X-TIMESTAMP-MAP
 * speaks, read in-process from the bytes ffmpeg wrote (no ffprobe):
 *  - MPEG-TS: the PTS in the PES headers of the video PID (PAT -> PMT -> first video stream);
 *  - fMP4: tfdt baseMediaDecodeTime plus each sample's duration and composition offset (trun, tfhd and trex
 *    defaults) in the init section's timescale, then the init's edit list.
 * The earliest presentation time of the segment's samples is returned, not the first sample's: they differ only
 * for pictures that come before the keyframe in presentation order, which a segment that opens with a closed GOP
 * does not have.
 *
 * Edit lists. Chromium's MSE (media/formats/mp4/track_run_iterator.cc) applies only a first edit with
 * media_time >= 0 and ignores an edit list that opens with an empty edit; the ISO reading (Firefox, Apple) adds the
 * empty edit's duration and subtracts the media edit's media_time. ffmpeg's hls muxer writes [empty edit of d,
 * media edit at d] for B-frame video in cfr mode, where both readings agree; with vfr they differ, so both are
 * returned and the caller can warn.
 */
import { readFile } from 'node:fs/promises';

const TS_PACKET = 188;
const PTS_WRAP = 2 ** 33;
/** PMT stream types of video (ISO/IEC 13818-1 table 2-34 and registered extensions). */
const VIDEO_STREAM_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x20, 0x24, 0x33, 0x42, 0xd1, 0xea]);

export interface SampleTime {
  /** Presentation and decode timestamps in 90 kHz ticks (fMP4 converted from the track's timescale). */
  pts90k: number;
  dts90k: number;
}

export interface Fmp4Times {
  samples: SampleTime[];
  /** 90 kHz shift the edit list applies to presentation times, as Chromium reads it and as ISO 14496-12 does. */
  editShiftChromium90k: number;
  editShiftIso90k: number;
}

/** The earliest presentation time among samples, 33-bit wrap taken into account (relative to the first one). */
export function earliestPts(samples: readonly SampleTime[]): number | undefined {
  if (samples.length === 0) return undefined;
  const ref = samples[0]!.pts90k;
  let min = 0;
  for (const s of samples) {
    let d = s.pts90k - ref;
    if (d > PTS_WRAP / 2) d -= PTS_WRAP;
    else if (d < -PTS_WRAP / 2) d += PTS_WRAP;
    min = Math.min(min, d);
  }
  return ref + min;
}

// ---------------------------------------------------------------- MPEG-TS

function readTimestamp(b: Uint8Array, at: number): number {
  // 33 bits over 5 bytes with marker bits; arithmetic instead of bit operators, which stop at 32 bits.
  return (
    ((b[at]! >> 1) & 0x07) * 2 ** 30 +
    ((b[at + 1]! << 7) | (b[at + 2]! >> 1)) * 2 ** 15 +
    ((b[at + 3]! << 7) | (b[at + 4]! >> 1))
  );
}

/** PTS/DTS of a PES header at the start of `pes`, or undefined when the header is incomplete or has none. */
function pesTimes(pes: Uint8Array): SampleTime | undefined {
  if (pes.length < 9 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  const flags = pes[7]! >> 6;
  if ((flags & 2) === 0 || pes.length < 14) return undefined;
  const pts = readTimestamp(pes, 9);
  const dts = flags === 3 && pes.length >= 19 ? readTimestamp(pes, 14) : pts;
  return { pts90k: pts, dts90k: dts };
}

/** Timestamps of every video PES that starts in the transport stream `buf`, in stream order. */
export function tsVideoTimes(buf: Uint8Array): SampleTime[] {
  let pmtPid = -1;
  let videoPid = -1;
  const out: SampleTime[] = [];
  let pending: Uint8Array | undefined;
  const flush = () => {
    const t = pending && pesTimes(pending);
    if (t) out.push(t);
    pending = undefined;
  };
  for (let off = 0; off + TS_PACKET <= buf.length; off += TS_PACKET) {
    if (buf[off] !== 0x47) break;
    const pid = ((buf[off + 1]! & 0x1f) << 8) | buf[off + 2]!;
    const start = (buf[off + 1]! & 0x40) !== 0;
    const afc = (buf[off + 3]! >> 4) & 3;
    if ((afc & 1) === 0) continue;
    const from = off + 4 + (afc & 2 ? 1 + buf[off + 4]! : 0);
    if (from >= off + TS_PACKET) continue;
    const payload = buf.subarray(from, off + TS_PACKET);
    if (pid === 0 && start && pmtPid < 0) pmtPid = patPmtPid(payload);
    else if (pid === pmtPid && start && videoPid < 0) videoPid = pmtVideoPid(payload);
    else if (pid === videoPid) {
      if (start) {
        flush();
        pending = payload;
      } else if (pending && pending.length < 19) {
        // A PES header split over two packets (a long adaptation field before it): join just enough of it.
        pending = Uint8Array.from([...pending, ...payload.subarray(0, 19 - pending.length)]);
      }
      if (pending && pending.length >= 19) flush();
    }
  }
  flush();
  return out;
}

/** Body of the PSI section a payload starts (pointer_field skipped), or undefined. */
function section(payload: Uint8Array, tableId: number): Uint8Array | undefined {
  const at = 1 + (payload[0] ?? 0);
  if (payload[at] !== tableId) return undefined;
  const len = ((payload[at + 1]! & 0x0f) << 8) | payload[at + 2]!;
  // Section body after the 3-byte header, CRC (last 4 bytes) left out.
  return payload.subarray(at + 3, Math.min(payload.length, at + 3 + len - 4));
}

function patPmtPid(payload: Uint8Array): number {
  const s = section(payload, 0x00);
  if (!s) return -1;
  for (let p = 5; p + 4 <= s.length; p += 4) {
    const program = (s[p]! << 8) | s[p + 1]!;
    if (program !== 0) return ((s[p + 2]! & 0x1f) << 8) | s[p + 3]!;
  }
  return -1;
}

function pmtVideoPid(payload: Uint8Array): number {
  const s = section(payload, 0x02);
  if (!s || s.length < 9) return -1;
  let p = 9 + (((s[7]! & 0x0f) << 8) | s[8]!);
  while (p + 5 <= s.length) {
    const type = s[p]!;
    const pid = ((s[p + 1]! & 0x1f) << 8) | s[p + 2]!;
    if (VIDEO_STREAM_TYPES.has(type)) return pid;
    p += 5 + (((s[p + 3]! & 0x0f) << 8) | s[p + 4]!);
  }
  return -1;
}

// ---------------------------------------------------------------- ISO BMFF

interface Box {
  type: string;
  body: Uint8Array;
}

function* boxes(buf: Uint8Array): Generator<Box> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 8 <= buf.length) {
    let size = view.getUint32(off);
    let header = 8;
    if (size === 1 && off + 16 <= buf.length) {
      size = Number(view.getBigUint64(off + 8));
      header = 16;
    } else if (size === 0) size = buf.length - off;
    if (size < header || off + size > buf.length) return;
    yield {
      type: String.fromCharCode(...buf.subarray(off + 4, off + 8)),
      body: buf.subarray(off + header, off + size),
    };
    off += size;
  }
}

const child = (b: Uint8Array, type: string) => [...boxes(b)].find((x) => x.type === type)?.body;
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
const i32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(at);
const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at));
const i64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(at));

interface VideoTrack {
  id: number;
  timescale: number;
  defaultDuration: number;
  /** Edit list entries: duration in the movie timescale, media_time in the track's (-1 = empty edit). */
  edits: Array<{ duration: number; mediaTime: number }>;
  movieTimescale: number;
}

/** The video track of an init section (moov): id, timescale, edit list, trex default sample duration. */
function videoTrackOf(init: Uint8Array): VideoTrack | undefined {
  const moov = child(init, 'moov');
  if (!moov) return undefined;
  const mvhd = child(moov, 'mvhd');
  const movieTimescale = mvhd ? u32(mvhd, mvhd[0] === 1 ? 20 : 12) : 1000;
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(trak.body, 'mdia');
    const hdlr = mdia && child(mdia, 'hdlr');
    const mdhd = mdia && child(mdia, 'mdhd');
    const tkhd = child(trak.body, 'tkhd');
    if (!hdlr || !mdhd || !tkhd || String.fromCharCode(...hdlr.subarray(8, 12)) !== 'vide') continue;
    const id = u32(tkhd, tkhd[0] === 1 ? 20 : 12);
    const timescale = u32(mdhd, mdhd[0] === 1 ? 20 : 12);
    const edts = child(trak.body, 'edts');
    const elst = edts && child(edts, 'elst');
    const edits: VideoTrack['edits'] = [];
    if (elst) {
      const v1 = elst[0] === 1;
      const n = u32(elst, 4);
      for (let k = 0, p = 8; k < n && p + (v1 ? 20 : 12) <= elst.length; k++, p += v1 ? 20 : 12) {
        edits.push(
          v1
            ? { duration: u64(elst, p), mediaTime: i64(elst, p + 8) }
            : { duration: u32(elst, p), mediaTime: i32(elst, p + 4) },
        );
      }
    }
    const mvex = child(moov, 'mvex');
    const trex = mvex && [...boxes(mvex)].find((b) => b.type === 'trex' && u32(b.body, 4) === id)?.body;
    return { id, timescale, edits, movieTimescale, defaultDuration: trex ? u32(trex, 12) : 0 };
  }
  return undefined;
}

/** Sample times of the video track in one media segment (every moof), with the init's edit list shifts. */
export function fmp4VideoTimes(init: Uint8Array, segment: Uint8Array): Fmp4Times | undefined {
  const track = videoTrackOf(init);
  if (!track || track.timescale === 0) return undefined;
  const to90k = (t: number) => (t * 90_000) / track.timescale;
  const samples: SampleTime[] = [];
  for (const moof of boxes(segment)) {
    if (moof.type !== 'moof') continue;
    for (const traf of boxes(moof.body)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(traf.body, 'tfhd');
      if (!tfhd || u32(tfhd, 4) !== track.id) continue;
      const tfhdFlags = u32(tfhd, 0) & 0xffffff;
      // Optional tfhd fields in order: base_data_offset (8), sample_description_index (4), default duration (4).
      const durAt = 8 + (tfhdFlags & 0x01 ? 8 : 0) + (tfhdFlags & 0x02 ? 4 : 0);
      const defaultDuration = tfhdFlags & 0x08 ? u32(tfhd, durAt) : track.defaultDuration;
      const tfdt = child(traf.body, 'tfdt');
      let dts = tfdt ? (tfdt[0] === 1 ? u64(tfdt, 4) : u32(tfdt, 4)) : 0;
      for (const trun of boxes(traf.body)) {
        if (trun.type !== 'trun') continue;
        const b = trun.body;
        const flags = u32(b, 0) & 0xffffff;
        const count = u32(b, 4);
        let p = 8 + (flags & 0x01 ? 4 : 0) + (flags & 0x04 ? 4 : 0);
        const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
        for (let k = 0; k < count && p + stride <= b.length; k++) {
          let q = p;
          const duration = flags & 0x100 ? u32(b, q) : defaultDuration;
          if (flags & 0x100) q += 4;
          if (flags & 0x200) q += 4;
          if (flags & 0x400) q += 4;
          const cts = flags & 0x800 ? (b[0] === 0 ? u32(b, q) : i32(b, q)) : 0;
          samples.push({ pts90k: to90k(dts + cts), dts90k: to90k(dts) });
          dts += duration;
          p += stride;
        }
      }
    }
  }
  const firstMedia = track.edits.findIndex((e) => e.mediaTime >= 0);
  const dwell = track.edits.slice(0, Math.max(0, firstMedia)).reduce((s, e) => s + e.duration, 0);
  const isoShift =
    firstMedia < 0 ? 0 : (dwell * track.timescale) / track.movieTimescale - track.edits[firstMedia]!.mediaTime;
  const first = track.edits[0];
  const chromiumShift = first && first.mediaTime >= 0 ? -first.mediaTime : 0;
  return { samples, editShiftChromium90k: to90k(chromiumShift), editShiftIso90k: to90k(isoShift) };
}

// ---------------------------------------------------------------- files

/**
 * The earliest presentation time of the first video segment on the 90 kHz clock players map WebVTT to. fMP4 needs
 * the init section; its edit list is applied the way Chromium applies it (see the file comment).
 */
export async function readFirstPts90k(segmentFile: string, kind: 'ts' | 'fmp4', initFile?: string): Promise<number> {
  const segment = await readFile(segmentFile);
  let pts: number | undefined;
  if (kind === 'ts') {
    pts = earliestPts(tsVideoTimes(segment));
  } else {
    if (!initFile) throw new Error(`an fMP4 segment (${segmentFile}) needs its init section to be timed`);
    const times = fmp4VideoTimes(await readFile(initFile), segment);
    const first = times && earliestPts(times.samples);
    pts = first === undefined ? undefined : first + times!.editShiftChromium90k;
  }
  if (pts === undefined) throw new Error(`no video timestamp found in ${segmentFile}`);
  return pts;
}
