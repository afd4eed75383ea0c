/**
 * The exact argv of every family's test encode: what makes a test encode meaningful is its device arguments.
 */
import { describe, expect, it } from 'vitest';
import {
  ENCODER_CANDIDATES,
  findCandidate,
  JOB_VIDEO_ENCODERS,
  softwareEquivalentOf,
} from '../../../src/capabilities/encoder-table.js';
import {
  buildHwaccelTestArgs,
  buildSampleArgs,
  buildSessionTestArgs,
  buildTestEncodeArgs,
} from '../../../src/capabilities/encoders.js';

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
const INPUT_720 = ['-f', 'lavfi', '-i', 'color=c=black:s=1280x720:r=25'];
const TAIL = ['-frames:v', '1', '-f', 'null', '-'];
const R720 = { width: 1280, height: 720 };
const NODE = { renderNode: '/dev/dri/renderD128' };

const c = (name: string) => findCandidate(name)!;

describe('test-encode argv', () => {
  it('VAAPI: render node device, NV12 upload', () => {
    expect(buildTestEncodeArgs(c('hevc_vaapi'), R720, NODE)).toEqual([
      ...COMMON,
      '-init_hw_device',
      'vaapi=va:/dev/dri/renderD128',
      '-filter_hw_device',
      'va',
      ...INPUT_720,
      '-vf',
      'format=nv12,hwupload',
      '-c:v',
      'hevc_vaapi',
      ...TAIL,
    ]);
  });

  it('QSV: hardware session on the render node (Linux), none named on Windows', () => {
    const qsvOut = ['-vf', 'format=nv12,hwupload=extra_hw_frames=64,format=qsv', '-c:v', 'h264_qsv', ...TAIL];
    expect(buildTestEncodeArgs(c('h264_qsv'), R720, NODE)).toEqual([
      ...COMMON,
      '-init_hw_device',
      'qsv=hw:hw,child_device=/dev/dri/renderD128',
      '-filter_hw_device',
      'hw',
      ...INPUT_720,
      ...qsvOut,
    ]);
    expect(buildTestEncodeArgs(c('h264_qsv'), R720, {})).toEqual([
      ...COMMON,
      '-init_hw_device',
      'qsv=hw:hw',
      '-filter_hw_device',
      'hw',
      ...INPUT_720,
      ...qsvOut,
    ]);
  });

  it('V4L2 M2M: yuv420p input', () => {
    expect(buildTestEncodeArgs(c('h264_v4l2m2m'), { width: 1920, height: 1080 })).toEqual([
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1920x1080:r=25',
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'h264_v4l2m2m',
      ...TAIL,
    ]);
  });

  it('NVENC and AMF: plain, the encoder finds its device', () => {
    expect(buildTestEncodeArgs(c('hevc_nvenc'), R720)).toEqual([
      ...COMMON,
      ...INPUT_720,
      '-c:v',
      'hevc_nvenc',
      ...TAIL,
    ]);
    expect(buildTestEncodeArgs(c('h264_amf'), R720)).toEqual([...COMMON, ...INPUT_720, '-c:v', 'h264_amf', ...TAIL]);
  });

  it('software: speed options only', () => {
    expect(buildTestEncodeArgs(c('libx264'), R720)).toEqual([
      ...COMMON,
      ...INPUT_720,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      ...TAIL,
    ]);
  });

  it('aac: a tenth of a second of silence', () => {
    expect(buildTestEncodeArgs(c('aac'), R720)).toEqual([
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
      '-t',
      '0.1',
      '-c:a',
      'aac',
      '-f',
      'null',
      '-',
    ]);
  });

  it('sessions: N outputs of one input in one process, each bounded by its own -frames:v', () => {
    const args = buildSessionTestArgs(c('h264_nvenc'), 3, R720);
    const output = ['-map', '0:v', '-c:v', 'h264_nvenc', '-frames:v', '3', '-f', 'null', '-'];
    expect(args).toEqual([...COMMON, ...INPUT_720, ...output, ...output, ...output]);
  });

  it('hwaccel decodes keep frames on the device so a broken hwaccel cannot fall back to software', () => {
    expect(buildHwaccelTestArgs('vaapi', 's.mp4', NODE)).toEqual([
      ...COMMON,
      '-hwaccel',
      'vaapi',
      '-hwaccel_device',
      '/dev/dri/renderD128',
      '-hwaccel_output_format',
      'vaapi',
      '-i',
      's.mp4',
      '-f',
      'null',
      '-',
    ]);
    expect(buildHwaccelTestArgs('v4l2m2m', 's.mp4')).toEqual([
      ...COMMON,
      '-c:v',
      'h264_v4l2m2m',
      '-i',
      's.mp4',
      '-f',
      'null',
      '-',
    ]);
    expect(buildHwaccelTestArgs('qsv', 's.mp4', NODE)).toEqual([
      ...COMMON,
      '-qsv_device',
      '/dev/dri/renderD128',
      '-hwaccel',
      'qsv',
      '-hwaccel_output_format',
      'qsv',
      '-c:v',
      'h264_qsv',
      '-i',
      's.mp4',
      '-f',
      'null',
      '-',
    ]);
    expect(buildSampleArgs('x.mp4').at(-1)).toBe('x.mp4');
  });

  it('the catalogue covers the families and codecs of the issue', () => {
    expect(ENCODER_CANDIDATES.map((e) => `${e.name}:${e.family}:${e.codec}`)).toEqual([
      'libx264:software:h264',
      'libx265:software:hevc',
      'libsvtav1:software:av1',
      'libaom-av1:software:av1',
      'libvpx-vp9:software:vp9',
      'h264_nvenc:nvidia:h264',
      'hevc_nvenc:nvidia:hevc',
      'av1_nvenc:nvidia:av1',
      'h264_qsv:qsv:h264',
      'hevc_qsv:qsv:hevc',
      'av1_qsv:qsv:av1',
      'h264_vaapi:vaapi:h264',
      'hevc_vaapi:vaapi:hevc',
      'av1_vaapi:vaapi:av1',
      'h264_v4l2m2m:v4l2m2m:h264',
      'hevc_v4l2m2m:v4l2m2m:hevc',
      'h264_amf:amf:h264',
      'hevc_amf:amf:hevc',
      'aac:audio:aac',
    ]);
  });
});

describe('the encoders a job may name', () => {
  it('are the H.264/HEVC/AV1 video candidates (not libaom-av1), with their families', () => {
    expect(Object.fromEntries([...JOB_VIDEO_ENCODERS].map(([name, c]) => [name, c.family]))).toEqual({
      libx264: 'software',
      libx265: 'software',
      libsvtav1: 'software',
      h264_nvenc: 'nvidia',
      hevc_nvenc: 'nvidia',
      av1_nvenc: 'nvidia',
      h264_qsv: 'qsv',
      hevc_qsv: 'qsv',
      av1_qsv: 'qsv',
      h264_vaapi: 'vaapi',
      hevc_vaapi: 'vaapi',
      av1_vaapi: 'vaapi',
      h264_v4l2m2m: 'v4l2m2m',
      hevc_v4l2m2m: 'v4l2m2m',
      h264_amf: 'amf',
      hevc_amf: 'amf',
    });
    expect(softwareEquivalentOf('hevc_qsv')).toBe('libx265');
    expect(softwareEquivalentOf('h264_amf')).toBe('libx264');
    expect(softwareEquivalentOf('av1_nvenc')).toBe('libsvtav1');
    expect(softwareEquivalentOf('libsvtav1')).toBe('libsvtav1');
    expect(softwareEquivalentOf('libaom-av1')).toBeUndefined();
  });
});
