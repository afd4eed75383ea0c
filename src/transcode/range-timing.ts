/**
 * The timing of a *range run* (issue 12): one ffmpeg run that encodes segments [start, end) of a film so that its
 * segments are indistinguishable from the uninterrupted run's (same first PTS to the tick, same frames, same audio
 * packets). Pure maths, measured in docs/design/resume-and-split-seams.md ("Recommended implementation"):
 *
 *   Z   = time of the first frame at or after K*T (K*T at 25 fps; ceil(K*T*fps)/fps at 24000/1001)
 *   n_k = index of the first coded audio packet of HLS segment k in the uninterrupted run = ceil(k*T*48000/F)
 *         (packet 0 is the encoder's priming packet, so n_k starts at sample n_k*F - priming)
 *   S   = the input seek: >= 0.256 s of audio pre-roll before the earliest audio start, on the 64 ms grid (3072
 *         samples: a multiple of AAC's 1024 and AC-3's 1536, exact in microseconds), so the new encoders' packets
 *         fall on the reference grid
 *   Pv  = Z - S: the video is trimmed to Z and every stream's zero moved to Z
 *   N   = n_K - S*48000/F packets dropped per audio rendition (the new priming packet + pre-roll); M = n_KE - n_K kept
 *
 * Known limit (measured 2026-12-06): ffmpeg 7.1 and 9.0 place the first audio sample after an accurate -ss by the
 * container's packet timestamps. Where those are not sample-exact (Matroska's 1 ms clock with 1024-sample AAC or
 * FLAC frames), the run's audio lands up to half a millisecond off (8 samples measured; no click, the AAC overlap
 * cross-fades it) and may end one packet later (an extra tiny audio tail segment on the film's last range). 5.1 is
 * exact there, and every version is exact for sample-exact timestamps (MP4, AC-3/E-AC-3 in Matroska, 96 ms FLAC).
 *
 * Invariant: the caller chose the audio's start K' on the audio alignment step (media/segment-grid.ts), so n_K'*F is
 * where the uninterrupted run's frame grid puts segment K', and the hls muxer's cuts, counted from the run's first
 * packet, fall where the uninterrupted run's do for every later segment; another K' still gives a clean seam, but
 * later audio segments may be one frame off (design doc, "Boundaries"). The video start K >= K' and the end may be
 * any segment: the video output cuts at every forced keyframe, which sit on the film's grid, and the audio's end is
 * a packet count. A resume and a part off the step start their audio at K' (segments K'..K-1 of the audio are made
 * again: a resume replaces them, a part leaves them out) - measured exact in test/integration/range-seams.test.ts.
 */
import { AUDIO_FRAME_SAMPLES } from '../media/segment-grid.js';
import type { AudioCodec } from './types.js';

/** Segment indices, end exclusive (undefined = to the film's end). */
export interface SegmentRange {
  start: number;
  end?: number;
  /**
   * Where the audio renditions start, when earlier than the video's start (a resume: the video continues from the
   * last segment every rendition finished, K, but the audio only from the last one on the audio alignment step at
   * or before it, K' <= K: see the invariant above). Absent = start. A part job's range has none.
   */
  audioStart?: number;
}

const RATE = 48_000;
/** Samples the encoder emits before the first real one (one packet with negative pts): measured with framecrc. */
export const PRIMING_SAMPLES: Record<AudioCodec, number> = { aac: 1024, ac3: 256, eac3: 256 };
/** The input seek grid: 64 ms, a multiple of every audio frame size and a whole number of microseconds. */
const SEEK_GRID_SAMPLES = 3072;
/** The rate an unstated source rate is checked as: 44.1 kHz needs the coarsest grid of the rates in use. */
const UNSTATED_RATE = 44_100;

/**
 * The input seek grid (in 48 kHz samples) for source audio tracks at these rates: 64 ms, or the smallest multiple of
 * it that is a whole number of samples of every track (320 ms for 44.1 kHz and its family; 320 ms is whole samples
 * of every rate that is a multiple of 25 Hz, which all rates in use are). The accurate seek then cuts every track on
 * one of its own samples, so its audio resampled to 48 kHz has the uninterrupted run's phase (measured exact in
 * test/integration/range-seams.test.ts); a seek between two source samples would move the run's audio by a
 * fraction of a sample.
 */
export function seekGridSamples(rates: readonly (number | undefined)[]): number {
  const whole = (m: number) => rates.every((r) => (m * (r ?? UNSTATED_RATE)) % RATE === 0);
  // 125 x 64 ms = 8 s: whole samples of any integer rate that divides 48000 x 125 (44.056 kHz needs all of it).
  for (let k = 1; k <= 125; k++) if (whole(k * SEEK_GRID_SAMPLES)) return k * SEEK_GRID_SAMPLES;
  return 5 * SEEK_GRID_SAMPLES;
}
/** Audio pre-roll before the seam, measured clean from 0.107 s on (design doc, Q2). */
const PREROLL_SAMPLES = 0.256 * RATE;
/** Input read past a part's end, so the audio encoder has real samples after the last kept packet. */
const POSTROLL_SEC = 0.2;

/** An exact frame rate num/den: integers, n*1000/1001 (NTSC rates) or a small fraction; else the float itself. */
export function frameRateOf(fps: number): { num: number; den: number } {
  if (!(fps > 0)) throw new Error(`a range run needs a constant frame rate, not ${fps}`);
  const near = (x: number) => Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x);
  if (near(fps)) return { num: Math.round(fps), den: 1 };
  if (near((fps * 1001) / 1000)) return { num: Math.round((fps * 1001) / 1000) * 1000, den: 1001 };
  for (let den = 2; den <= 1000; den++) if (near(fps * den)) return { num: Math.round(fps * den), den };
  return { num: fps, den: 1 };
}

/** Time of the first frame at or after t on the grid of fps (frames start at 0). */
export function firstFrameAtOrAfter(t: number, fps: number): number {
  const { num, den } = frameRateOf(fps);
  // A tolerance of a micro-frame: K*T*fps is an exact integer at integer rates but a float product here.
  const frames = Math.ceil((t * num) / den - 1e-6);
  return (frames * den) / num;
}

/** Audio codecs and their packet maths, one entry per audio rendition in plan order. */
export interface AudioTiming {
  codec: AudioCodec;
  frame: number;
  priming: number;
  /** Packets dropped at the start of the run (priming + pre-roll); 0 at start 0. */
  drop: number;
  /** Packets kept after the drop, for a range with an end. */
  keep?: number;
}

/** Everything a range run's argv needs, in seconds unless said otherwise. */
export interface RangeTiming {
  /** The video's first segment (K) and the audio's (K' <= K: SegmentRange.audioStart). */
  start: number;
  audioStart: number;
  end?: number;
  /** Input seek (0 at start 0: no -ss). */
  seek: number;
  /** First frame time at or after start*T: the run's zero. */
  z: number;
  /** Video trim start and the shift of the video: Z - S. */
  pv: number;
  /** The audio's zero (Z' for K'; Z when K' = K) and its shift Z' - S. */
  za: number;
  pa: number;
  /**
   * aresample first_pts: -round(Pa*48000). libswresample counts first_pts in samples of its INPUT rate (measured on
   * 5.1: first_pts=-16128 on a 44.1 kHz track started the run 30 ms early), so the range run resamples a track that
   * is not at 48 kHz first and applies this on 48 kHz audio (args/range.ts).
   */
  audioFirstPts: number;
  /**
   * Video trim start, relative to the seek point: half a frame before Z (absent at K = 0). The uninterrupted run's
   * constant frame rate puts a source frame at output frame round(pts * fps), so a source whose picture starts a
   * little after 0 (an ffmpeg-made file with AAC starts its video 21 ms late) has its frame for Z up to half a frame
   * early: trimming at Z itself would give that frame to the previous range too (measured: a one-frame extra
   * segment). Half a frame before the boundary selects exactly the frames the uninterrupted run puts after it.
   */
  trimStart?: number;
  /** End of the video trim (relative to the seek point, half a frame before Z_end) and the input -t, with an end. */
  trimEnd?: number;
  inputDuration?: number;
  /** The shift the uninterrupted run's muxer applied to the whole TS output: the largest priming (0 without audio). */
  primingShift: number;
  /** -output_ts_offset of the video output. */
  videoOffset: number;
  /** -output_ts_offset of the audio output(s), per audio rendition (equal for every rendition in TS). */
  audioOffsets: number[];
  /** Shift of the forced keyframe grid: Z - K*T (the filter graph's t counts from Z). */
  keyShift: number;
  audio: AudioTiming[];
}

/** n_k: the first packet of HLS audio segment k in the uninterrupted run (packet 0 = the priming packet). */
function firstPacketOf(k: number, segmentTime: number, frame: number): number {
  return Math.ceil(Math.round(k * segmentTime * RATE) / frame - 1e-9);
}

/**
 * Where every MPEG-TS ladder's timeline starts (-output_ts_offset of a fresh run; a range run adds Z to it). Left to
 * itself, the muxer shifts the whole output by the most negative first timestamp of its streams: the AAC priming
 * (21 ms), but also the video encoder's B-frame delay (2 frames with libx264's presets from superfast on), which
 * depends on the encoder and cannot be known by a run that starts in the middle (measured: a resumed run 62 ms early
 * at 23.976 fps). One second is above any encoder's delay, so no run is ever shifted and every run places a frame
 * at exactly 1 + its time in the film. fMP4 needs none: the mov muxer keeps its own consistent timeline.
 */
export const TS_TIMELINE_START_SEC = 1;

export interface RangeTimingInput {
  segmentTime: number;
  fps: number;
  segmentType: 'ts' | 'fmp4';
  audioCodecs: readonly AudioCodec[];
  /** The source sample rate of each audio rendition's track (undefined: not stated); absent: all 48 kHz. */
  audioSourceRates?: readonly (number | undefined)[];
  hasVideo: boolean;
}

export function rangeTiming(o: RangeTimingInput, range: SegmentRange): RangeTiming {
  const { segmentTime: T, fps } = o;
  const { start: K, end: KE } = range;
  const KA = range.audioStart ?? K;
  if (!Number.isInteger(K) || K < 0) throw new Error(`a range starts at a segment index >= 0, not ${K}`);
  if (KE !== undefined && (!Number.isInteger(KE) || KE <= K))
    throw new Error(`a range [${K}, ${KE}) must end after it starts`);
  if (!Number.isInteger(KA) || KA < 0 || KA > K)
    throw new Error(`the audio of a range [${K}, ${KE ?? 'end'}) cannot start at segment ${KA}`);
  const primingShift = Math.max(0, ...o.audioCodecs.map((c) => PRIMING_SAMPLES[c])) / RATE;
  const zeroOf = (k: number) => (k === 0 ? 0 : o.hasVideo ? firstFrameAtOrAfter(k * T, fps) : k * T);
  const z = zeroOf(K);
  const za = zeroOf(KA);
  // Seek: 0.256 s before the earliest audio packet start of segment K', down to the seek grid (64 or 320 ms).
  let seekSamples = 0;
  if (K > 0) {
    const audioStarts = o.audioCodecs.map((c) => {
      const f = AUDIO_FRAME_SAMPLES[c];
      return firstPacketOf(KA, T, f) * f - PRIMING_SAMPLES[c];
    });
    const earliest = Math.min(Math.round(z * RATE), ...audioStarts);
    const grid = seekGridSamples(o.audioSourceRates ?? []);
    seekSamples = Math.max(0, Math.floor((earliest - PREROLL_SAMPLES) / grid) * grid);
  }
  const seek = seekSamples / RATE;
  const pv = z - seek;
  const pa = za - seek;
  const audio = o.audioCodecs.map((codec): AudioTiming => {
    const frame = AUDIO_FRAME_SAMPLES[codec];
    const nK = KA === 0 ? 0 : firstPacketOf(KA, T, frame);
    const drop = nK - seekSamples / frame;
    return {
      codec,
      frame,
      priming: PRIMING_SAMPLES[codec],
      drop,
      ...(KE !== undefined ? { keep: firstPacketOf(KE, T, frame) - nK } : {}),
    };
  });
  const zEnd = KE === undefined ? undefined : o.hasVideo ? firstFrameAtOrAfter(KE * T, fps) : KE * T;
  const fmp4 = o.segmentType === 'fmp4';
  const half = 0.5 / fps;
  // TS: the uninterrupted run's muxer shifted the whole output by the largest priming (avoid_negative_ts); a range
  // run from K > 0 has no negative packet left (the priming packet is dropped), so both outputs add it themselves.
  // At K = 0 the audio keeps its priming packet and gets the same automatic shift; only the video output needs it.
  // fMP4 (with movflags=+frag_discont): video at Z, each audio stream at Z + its own priming (the edit list's).
  const videoOffset = fmp4 ? z : z + TS_TIMELINE_START_SEC;
  const audioOffsets = audio.map((a) => (fmp4 ? (KA === 0 ? 0 : za + a.priming / RATE) : za + TS_TIMELINE_START_SEC));
  return {
    start: K,
    audioStart: KA,
    ...(KE !== undefined ? { end: KE } : {}),
    seek,
    z,
    pv,
    za,
    pa,
    audioFirstPts: pa > 0 ? -Math.round(pa * RATE) : 0,
    ...(K > 0 && o.hasVideo ? { trimStart: pv - half } : {}),
    ...(zEnd !== undefined
      ? { trimEnd: zEnd - seek - (o.hasVideo ? half : 0), inputDuration: zEnd - seek + POSTROLL_SEC }
      : {}),
    primingShift,
    videoOffset,
    audioOffsets,
    keyShift: z - K * T,
    audio,
  };
}

/** Seconds as ffmpeg reads them: at most 6 decimals (microseconds), no trailing zeros, no "-0". */
export function secondsArg(sec: number): string {
  const s = Number(sec.toFixed(6));
  return String(Object.is(s, -0) ? 0 : s);
}

/** The audio drop expression of one rendition for `-bsf:a noise=drop=...` (packet counter: version independent). */
export function audioDropExpr(a: AudioTiming): string | undefined {
  const parts: string[] = [];
  if (a.drop > 0) parts.push(`lt(n\\,${a.drop})`);
  if (a.keep !== undefined) parts.push(`gte(n\\,${a.drop + a.keep})`);
  return parts.length > 0 ? parts.join('+') : undefined;
}

/** The forced-keyframe expression of a range run: the uninterrupted run's grid seen from the run's zero Z. */
export function rangeKeyframeExpr(segmentTime: number, keyShift: number): string {
  const shift = Number(keyShift.toFixed(6));
  return shift > 0 ? `expr:gte(t,n_forced*${segmentTime}-${secondsArg(shift)})` : `expr:gte(t,n_forced*${segmentTime})`;
}
