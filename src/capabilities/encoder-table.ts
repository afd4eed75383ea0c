/**
 * The one table of encoders: each name ffmpeg knows it by, the hardware family that runs it and the format it
 * produces. The capability probe tests these candidates; a job may name the H.264, HEVC and AV1 video ones (AV1 in
 * fMP4 segments only; VP9 and the slow AV1 encoders are refused: see job-fields.ts); the dev orchestrator's fit check
 * and the encoder choice read families and software equivalents from here. Adding an encoder or a family starts here.
 */
import type { EncoderFamily } from './types.js';

export type VideoCodec = 'h264' | 'hevc' | 'av1' | 'vp9';

export interface EncoderCandidate {
  name: string;
  family: EncoderFamily;
  codec: VideoCodec | 'aac';
  /** Extra output options that make a software test encode fast (never options that change what is supported). */
  speedArgs?: readonly string[];
  /** Probed and reported, but never a job's encoder (too slow for a ladder): libaom-av1. */
  probeOnly?: true;
}

/** Order matters: supported_codecs keeps it, and within a family the first passing encoder is used for the session probe. */
export const ENCODER_CANDIDATES: readonly EncoderCandidate[] = [
  { name: 'libx264', family: 'software', codec: 'h264', speedArgs: ['-preset', 'ultrafast'] },
  // x265 prints its whole configuration at info level on stderr; silence it so a failure reason is a real error.
  {
    name: 'libx265',
    family: 'software',
    codec: 'hevc',
    speedArgs: ['-preset', 'ultrafast', '-x265-params', 'log-level=error'],
  },
  // Preset 8 exists in every SVT-AV1 release ffmpeg supports (the range grew from 0-8 to 0-13 over time).
  { name: 'libsvtav1', family: 'software', codec: 'av1', speedArgs: ['-preset', '8'] },
  // Real-time usage with cpu-used 8 (the wrapper's maximum in ffmpeg 5.x): the default "good" mode takes ~13 s for one 4K frame.
  // A job's AV1 goes to libsvtav1 (the software equivalent of the hardware AV1 encoders): libaom is many times slower.
  {
    name: 'libaom-av1',
    family: 'software',
    codec: 'av1',
    speedArgs: ['-usage', 'realtime', '-cpu-used', '8'],
    probeOnly: true,
  },
  // Real-time deadline without lookahead: the default takes about a second per 4K frame.
  {
    name: 'libvpx-vp9',
    family: 'software',
    codec: 'vp9',
    speedArgs: ['-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0'],
  },
  { name: 'h264_nvenc', family: 'nvidia', codec: 'h264' },
  { name: 'hevc_nvenc', family: 'nvidia', codec: 'hevc' },
  { name: 'av1_nvenc', family: 'nvidia', codec: 'av1' },
  { name: 'h264_qsv', family: 'qsv', codec: 'h264' },
  { name: 'hevc_qsv', family: 'qsv', codec: 'hevc' },
  { name: 'av1_qsv', family: 'qsv', codec: 'av1' },
  { name: 'h264_vaapi', family: 'vaapi', codec: 'h264' },
  { name: 'hevc_vaapi', family: 'vaapi', codec: 'hevc' },
  { name: 'av1_vaapi', family: 'vaapi', codec: 'av1' },
  { name: 'h264_v4l2m2m', family: 'v4l2m2m', codec: 'h264' },
  { name: 'hevc_v4l2m2m', family: 'v4l2m2m', codec: 'hevc' },
  { name: 'h264_amf', family: 'amf', codec: 'h264' },
  { name: 'hevc_amf', family: 'amf', codec: 'hevc' },
  { name: 'aac', family: 'audio', codec: 'aac' },
];

export const HARDWARE_FAMILIES: readonly EncoderFamily[] = ['nvidia', 'qsv', 'vaapi', 'amf', 'v4l2m2m'];

export function isHardwareFamily(family: EncoderFamily): boolean {
  return family !== 'software' && family !== 'audio';
}

export function findCandidate(name: string): EncoderCandidate | undefined {
  return ENCODER_CANDIDATES.find((c) => c.name === name);
}

/**
 * The formats a job's video renditions may use: what HLS players decode. H.264 travels in MPEG-TS or fMP4; HEVC and
 * AV1 only in fMP4 (the plan switches the whole ladder to fMP4 when a rung is HEVC or AV1).
 */
const JOB_VIDEO_CODECS: ReadonlySet<VideoCodec | 'aac'> = new Set(['h264', 'hevc', 'av1']);

/** Video encoders a job may ask for, with the family that runs them, in table order. */
export const JOB_VIDEO_ENCODERS: ReadonlyMap<string, EncoderCandidate> = new Map(
  ENCODER_CANDIDATES.filter((c) => JOB_VIDEO_CODECS.has(c.codec) && !c.probeOnly).map((c) => [c.name, c]),
);

/**
 * The software encoder producing the same format as a job's video encoder (itself when it is software), or
 * undefined for a name a job may not use.
 */
export function softwareEquivalentOf(encoder: string): string | undefined {
  const codec = JOB_VIDEO_ENCODERS.get(encoder)?.codec;
  return [...JOB_VIDEO_ENCODERS.values()].find((c) => c.family === 'software' && c.codec === codec)?.name;
}
