/**
 * Device-error classification (looksLikeDeviceError): the cue for the software retry and the re-probe of the family.
 * Real stderr lines of ffmpeg 5.1-7.x hardware failures, and failures that are the job's fault, which must not
 * make the worker distrust its GPU.
 */
import { describe, expect, it } from 'vitest';
import { looksLikeDeviceError, StderrTail } from '../../../src/transcode/stderr-tail.js';

const DEVICE: Record<string, string[]> = {
  nvenc: [
    '[h264_nvenc @ 0x55d0c0a2e240] Cannot load libcuda.so.1',
    '[hevc_nvenc @ 0x55d0c0a2e240] Cannot load libnvidia-encode.so.1',
    '[h264_nvenc @ 0x55d0c0a2e240] dl_fn->cuda_dl->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
    '[h264_nvenc @ 0x55d0c0a2e240] cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
    '[h264_nvenc @ 0x55d0c0a2e240] No capable devices found',
    '[h264_nvenc @ 0x55d0c0a2e240] Requested GPU 1, but only 1 GPUs are available!',
    '[h264_nvenc @ 0x55d0c0a2e240] No NVENC capable devices found',
    '[h264_nvenc @ 0x55d0c0a2e240] OpenEncodeSessionEx failed: out of memory (10): (no details)',
    '[h264_nvenc @ 0x55d0c0a2e240] Driver does not support the required nvenc API version. Required: 12.0 Found: 11.1',
    '[h264_nvenc @ 0x55d0c0a2e240] dl_fn->cuda_dl->cuCtxCreate(&ctx->cu_context_internal, 0, cu_device) failed -> CUDA_ERROR_OUT_OF_MEMORY: out of memory',
  ],
  cuda: [
    '[AVHWDeviceContext @ 0x55d0c0a2e240] cu->cuInit(0) failed -> CUDA_ERROR_UNKNOWN: unknown error',
    'Device creation failed: -542398533.',
    '[h264 @ 0x55d0c0a2e240] No device available for decoder: device type cuda needed for codec h264.',
    'Failed setup for format cuda: hwaccel initialisation returned error.',
  ],
  vaapi: [
    '[AVHWDeviceContext @ 0x55d0c0a2e240] Failed to initialise VAAPI connection: -1 (unknown libva error).',
    '[AVHWDeviceContext @ 0x55d0c0a2e240] No VA display found for device /dev/dri/renderD128.',
    "Failed to set value 'vaapi=va:/dev/dri/renderD128' for option 'init_hw_device': Input/output error",
    '[h264_vaapi @ 0x55d0c0a2e240] Failed to sync surface 0x4: 1 (operation failed).',
    '[AVHWDeviceContext @ 0x55d0c0a2e240] vaInitialize failed: unknown libva error',
  ],
  qsv: [
    '[AVHWDeviceContext @ 0x55d0c0a2e240] Error creating a MFX session: -9.',
    '[h264_qsv @ 0x55d0c0a2e240] Error initializing an internal MFX session: unsupported (-3)',
    "Failed to set value 'qsv=hw:hw,child_device=/dev/dri/renderD128' for option 'init_hw_device': Unknown error occurred",
    '[h264_qsv @ 0x55d0c0a2e240] Error during encoding: device failed (-17)',
    '[hevc_qsv @ 0x55d0c0a2e240] Error during encoding: hardware device was lost (-16)',
  ],
  v4l2m2m: ['[h264_v4l2m2m @ 0x55d0c0a2e240] Could not find a valid device'],
};

const NOT_DEVICE = [
  'Invalid data found when processing input',
  '/mnt/nas/movies/a.mkv: No such file or directory',
  '[h264_nvenc @ 0x55d0c0a2e240] InitializeEncoder failed: invalid param (8): Invalid Level.',
  "[h264_nvenc @ 0x55d0c0a2e240] Provided device doesn't support required NVENC features",
  '[libx264 @ 0x55d0c0a2e240] height not divisible by 2 (320x181)',
  '[hls @ 0x55d0c0a2e240] Failed to open file /tmp/tw/jobs/j/0/seg_000.ts',
  'Error while decoding stream #0:0: Invalid data found when processing input',
  '[h264_vaapi @ 0x55d0c0a2e240] No usable encoding profile found.',
];

describe('looksLikeDeviceError', () => {
  for (const [family, lines] of Object.entries(DEVICE)) {
    it(`${family}: device and driver failures`, () => {
      for (const line of lines) expect(looksLikeDeviceError(line), line).toBe(true);
    });
  }

  it('job-level failures (bad input, bad parameters, storage) are not device errors', () => {
    for (const line of NOT_DEVICE) expect(looksLikeDeviceError(line), line).toBe(false);
  });

  it('is found in a whole stderr even when later lines scroll it out of the tail', () => {
    const tail = new StderrTail(2);
    tail.push(`ffmpeg version 5.1.6\n${DEVICE.qsv![0]}\n`);
    tail.push('Device creation failed: -1313558101.\nFailed to set value\nError parsing global options\n');
    tail.end();
    expect(tail.deviceError).toBe(true);
    expect(tail.text()).not.toContain('MFX session');
  });
});
