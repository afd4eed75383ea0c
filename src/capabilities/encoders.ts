/**
 * The candidate encoders and the argv of their test encodes. Pure: nothing here runs a process, so every argv is
 * asserted as-is by unit tests on machines without the hardware.
 *
 * A test encode is one frame (or a tenth of a second of audio) of generated lavfi input, encoded to the null muxer:
 * it costs almost nothing, yet it opens the real encoder on the real device, which is what `-encoders` never does.
 */
import type { EncoderCandidate } from './encoder-table.js';
import type { EncoderFamily } from './types.js';

/** Devices a family's test encode needs; absent for families that find their device themselves (NVENC, AMF). */
export interface TestDevice {
  /** DRM render node for VAAPI, and the child device of QSV on Linux. */
  renderNode?: string;
}

// -nostdin: parallel ffmpeg processes must never fight over the terminal. -loglevel error: stderr then holds only
// real errors, so its first line is a useful reason.
const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'] as const;

/** Arguments placed before the input: hardware device initialisation. */
export function deviceArgs(family: EncoderFamily, device: TestDevice = {}): string[] {
  switch (family) {
    case 'vaapi':
      // Name the device "va" and let hwupload in the filter graph use it.
      return ['-init_hw_device', `vaapi=va:${device.renderNode ?? ''}`, '-filter_hw_device', 'va'];
    case 'qsv':
      // "hw" = MFX_IMPL_HARDWARE; on Linux child_device picks the render node (on Windows the SDK picks the adapter).
      return [
        '-init_hw_device',
        device.renderNode ? `qsv=hw:hw,child_device=${device.renderNode}` : 'qsv=hw:hw',
        '-filter_hw_device',
        'hw',
      ];
    default:
      return [];
  }
}

/** Output arguments of one encode (without the muxer/target). */
export function encodeOutputArgs(candidate: EncoderCandidate): string[] {
  switch (candidate.family) {
    case 'vaapi':
      // VAAPI encoders only take VAAPI surfaces: convert to NV12 in memory, then upload to the device.
      return ['-vf', 'format=nv12,hwupload', '-c:v', candidate.name];
    case 'qsv':
      // QSV needs a pool of surfaces larger than the encoder's own lookahead: extra_hw_frames avoids "not enough surfaces".
      return ['-vf', 'format=nv12,hwupload=extra_hw_frames=64,format=qsv', '-c:v', candidate.name];
    case 'v4l2m2m':
      // The Pi's bcm2835 M2M encoder accepts yuv420p (and nv12), not the yuv444p that colour sources may negotiate.
      return ['-pix_fmt', 'yuv420p', '-c:v', candidate.name];
    case 'audio':
      return ['-c:a', candidate.name];
    default:
      return ['-c:v', candidate.name, ...(candidate.speedArgs ?? [])];
  }
}

function videoInput(width: number, height: number): string[] {
  // Black frames generated in-process: no file, no decoder involved in the test.
  return ['-f', 'lavfi', '-i', `color=c=black:s=${width}x${height}:r=25`];
}

/** One test encode: one frame at width x height (audio: 0.1 s of silence). */
export function buildTestEncodeArgs(
  candidate: EncoderCandidate,
  size: { width: number; height: number },
  device: TestDevice = {},
): string[] {
  if (candidate.family === 'audio') {
    return [
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
      '-t',
      '0.1',
      ...encodeOutputArgs(candidate),
      '-f',
      'null',
      '-',
    ];
  }
  return [
    ...COMMON,
    ...deviceArgs(candidate.family, device),
    ...videoInput(size.width, size.height),
    ...encodeOutputArgs(candidate),
    '-frames:v',
    '1',
    '-f',
    'null',
    '-',
  ];
}

/**
 * N encoder sessions open at the same time in ONE ffmpeg process: the same input mapped to N outputs. Every output
 * opens its own encoder before the first frame is written, so a driver session cap fails the whole command.
 * -frames:v is an output option and must follow every output, or the other outputs would never end.
 */
export function buildSessionTestArgs(
  candidate: EncoderCandidate,
  sessions: number,
  size: { width: number; height: number },
  device: TestDevice = {},
): string[] {
  const args = [...COMMON, ...deviceArgs(candidate.family, device), ...videoInput(size.width, size.height)];
  for (let i = 0; i < sessions; i++) {
    args.push('-map', '0:v', ...encodeOutputArgs(candidate), '-frames:v', '3', '-f', 'null', '-');
  }
  return args;
}

/**
 * All software and audio candidates verified in ONE process: one 720p frame per video encoder and a tenth of a
 * second of AAC, each its own output. Starting ffmpeg (loading a hundred shared libraries) costs more than
 * encoding one small frame, so this halves the probe's CPU time on a CPU-only host. Any failure fails the run,
 * and then each candidate is tested on its own to find which one and why.
 */
export function buildBatchTestArgs(
  candidates: readonly EncoderCandidate[],
  size: { width: number; height: number },
): string[] {
  const video = candidates.filter((c) => c.family !== 'audio');
  const audio = candidates.filter((c) => c.family === 'audio');
  const args: string[] = [...COMMON];
  if (video.length) args.push(...videoInput(size.width, size.height));
  if (audio.length) args.push('-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo');
  for (const c of video) args.push('-map', '0:v', ...encodeOutputArgs(c), '-frames:v', '1', '-f', 'null', '-');
  const audioInput = video.length ? 1 : 0;
  for (const c of audio) args.push('-map', `${audioInput}:a`, ...encodeOutputArgs(c), '-t', '0.1', '-f', 'null', '-');
  return args;
}

/** Tiny H.264 sample that the hwaccel test decodes: two frames, baseline-friendly 4:2:0 every decoder accepts. */
export function buildSampleArgs(target: string): string[] {
  return [
    ...COMMON,
    '-y',
    ...videoInput(320, 240),
    '-frames:v',
    '2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    target,
  ];
}

export const HWACCEL_CANDIDATES = ['cuda', 'qsv', 'vaapi', 'v4l2m2m'] as const;
export type HwaccelName = (typeof HWACCEL_CANDIDATES)[number];

/** The encoder family a hwaccel belongs to (what hwaccel config and device checks reason about). */
export const HWACCEL_FAMILY: Record<HwaccelName, EncoderFamily> = {
  cuda: 'nvidia',
  qsv: 'qsv',
  vaapi: 'vaapi',
  v4l2m2m: 'v4l2m2m',
};

/**
 * Decode the sample with the hwaccel and keep the frames on the device: with -hwaccel_output_format, a hwaccel that
 * cannot initialise is an error instead of a silent fallback to software decoding.
 */
export function buildHwaccelTestArgs(hwaccel: HwaccelName, sample: string, device: TestDevice = {}): string[] {
  switch (hwaccel) {
    case 'v4l2m2m':
      // V4L2 M2M is a decoder, not a hwaccel: select it by name.
      return [...COMMON, '-c:v', 'h264_v4l2m2m', '-i', sample, '-f', 'null', '-'];
    case 'vaapi':
      return [
        ...COMMON,
        '-hwaccel',
        'vaapi',
        ...(device.renderNode ? ['-hwaccel_device', device.renderNode] : []),
        '-hwaccel_output_format',
        'vaapi',
        '-i',
        sample,
        '-f',
        'null',
        '-',
      ];
    case 'qsv':
      return [
        ...COMMON,
        ...(device.renderNode ? ['-qsv_device', device.renderNode] : []),
        '-hwaccel',
        'qsv',
        '-hwaccel_output_format',
        'qsv',
        // QSV decoding goes through the h264_qsv decoder; the native decoder has no QSV hwaccel.
        '-c:v',
        'h264_qsv',
        '-i',
        sample,
        '-f',
        'null',
        '-',
      ];
    case 'cuda':
      return [...COMMON, '-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda', '-i', sample, '-f', 'null', '-'];
  }
}
