/**
 * Pure pieces: ffmpeg output parsers, the reason picker, nvidia-smi parsing, GPU choice, skip reasons and caps.
 */
import { describe, expect, it } from 'vitest';
import { chooseLeastBusyGpu, familySkipReason, gpuTypeOf, listGpus } from '../../../src/capabilities/devices.js';
import {
  formatDuration,
  parseCodecList,
  parseHwaccels,
  parseVersion,
  pickReason,
} from '../../../src/capabilities/ffmpeg-output.js';
import { parseNvidiaSmi } from '../../../src/capabilities/host.js';
import { capResolution, highestResolution } from '../../../src/capabilities/payload.js';
import type { GpuInfo } from '../../../src/capabilities/types.js';
import { CPU_ONLY_HOST, INTEL_BOX, NVIDIA_DESKTOP } from '../../helpers/capability-fakes.js';

describe('ffmpeg output parsers', () => {
  it('reads versions, encoder tables and hwaccels', () => {
    expect(parseVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026\n', 'ffmpeg')).toBe('5.1.9-0+deb12u1');
    expect(parseVersion('garbage', 'ffmpeg')).toBeUndefined();
    const table =
      'Encoders:\n V..... = Video\n A..... = Audio\n ------\n V....D libx264   libx264 H.264\n A..... aac  AAC\n';
    expect([...parseCodecList(table)]).toEqual(['libx264', 'aac']);
    expect([...parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\n\n')]).toEqual(['vdpau', 'cuda']);
  });

  it('picks the first meaningful stderr line, skipping banner and stream noise', () => {
    const stderr = [
      'ffmpeg version 6.1 Copyright (c) 2000-2023 the FFmpeg developers',
      '  built with gcc 12',
      "Input #0, lavfi, from 'color=c=black':",
      '  Stream #0:0: Video: wrapped_avframe',
      'Stream mapping:',
      '  Stream #0:0 -> #0:0 (wrapped_avframe (native) -> h264 (h264_nvenc))',
      '[h264_nvenc @ 0x55b307e7dac0] Cannot load libcuda.so.1',
      'Error initializing output stream 0:0 -- Error while opening encoder',
    ].join('\n');
    expect(pickReason(stderr)).toBe('Cannot load libcuda.so.1');
    expect(pickReason('[x @ 0x1] No usable encoding profile found.\n')).toBe('No usable encoding profile found.');
    expect(pickReason('\n\n')).toBeUndefined();
    expect(formatDuration(300)).toBe('300ms');
    expect(formatDuration(15000)).toBe('15s');
  });

  it('parses nvidia-smi CSV', () => {
    expect(parseNvidiaSmi('0, NVIDIA GeForce RTX 3060, GPU-aa, 12\n1, Tesla T4, GPU-bb, [N/A]\n')).toEqual([
      { index: '0', name: 'NVIDIA GeForce RTX 3060', uuid: 'GPU-aa', utilizationPercent: 12 },
      { index: '1', name: 'Tesla T4', uuid: 'GPU-bb' },
    ]);
  });
});

describe('devices', () => {
  const gpus: GpuInfo[] = [
    { vendor: 'NVIDIA', model: 'A', device: '0', utilizationPercent: 80 },
    { vendor: 'NVIDIA', model: 'B', device: '1', utilizationPercent: 5 },
    { vendor: 'NVIDIA', model: 'C', device: '2' },
    { vendor: 'Intel', model: 'iGPU', device: '/dev/dri/renderD128' },
    { vendor: 'AMD', model: 'dGPU', device: '/dev/dri/renderD129', utilizationPercent: 1 },
  ];

  it('chooses the least busy device the family can select', () => {
    expect(chooseLeastBusyGpu(gpus, 'nvidia')?.device).toBe('1');
    expect(chooseLeastBusyGpu(gpus, 'vaapi')?.device).toBe('/dev/dri/renderD129');
    expect(chooseLeastBusyGpu(gpus.slice(2, 3), 'nvidia')?.device).toBe('2');
    expect(chooseLeastBusyGpu(gpus, 'v4l2m2m')).toBeUndefined();
    expect(chooseLeastBusyGpu([], 'nvidia')).toBeUndefined();
  });

  it('lists NVIDIA GPUs by index and others by render node', () => {
    expect(listGpus(INTEL_BOX)).toEqual([
      { vendor: 'Intel', model: 'UHD Graphics 630', device: '/dev/dri/renderD128' },
    ]);
    expect(listGpus(NVIDIA_DESKTOP).map((g) => g.device)).toEqual(['0']);
    expect(listGpus(CPU_ONLY_HOST)).toEqual([]);
  });

  it('gives skip reasons per platform', () => {
    const cfg = { hwaccel: 'auto', vaapi_device: '' } as const;
    expect(familySkipReason('vaapi', { ...CPU_ONLY_HOST, platform: 'win32' }, cfg)).toBe('VAAPI exists on Linux only');
    expect(familySkipReason('amf', CPU_ONLY_HOST, cfg)).toBe('AMF is used on Windows only');
    expect(
      familySkipReason(
        'amf',
        {
          ...CPU_ONLY_HOST,
          platform: 'win32',
          graphics: [{ vendor: 'Advanced Micro Devices, Inc.', model: 'RX 6600' }],
        },
        cfg,
      ),
    ).toBeUndefined();
    // "Intel Corporation" must not read as ATI/AMD.
    expect(familySkipReason('amf', { ...INTEL_BOX, platform: 'win32' }, cfg)).toBe('no AMD GPU found');
    expect(
      familySkipReason('vaapi', CPU_ONLY_HOST, { hwaccel: 'auto', vaapi_device: '/dev/dri/renderD130' }),
    ).toBeUndefined();
    expect(familySkipReason('software', CPU_ONLY_HOST, { hwaccel: 'none', vaapi_device: '' })).toBeUndefined();
  });

  it('maps a passing VAAPI family to the render node vendor', () => {
    expect(gpuTypeOf('vaapi', INTEL_BOX, '')).toBe('intel');
    expect(
      gpuTypeOf('vaapi', { ...INTEL_BOX, renderNodes: [{ path: '/dev/dri/renderD128', vendorId: '0x1002' }] }, ''),
    ).toBe('amd');
    expect(gpuTypeOf('v4l2m2m', CPU_ONLY_HOST, '')).toBe('none');
  });
});

describe('resolutions', () => {
  it('takes the highest and applies the cap', () => {
    expect(highestResolution(['720p', '2160p', undefined, '1080p'])).toBe('2160p');
    expect(highestResolution([])).toBeUndefined();
    expect(capResolution('2160p', '1080p')).toBe('1080p');
    expect(capResolution('720p', '1080p')).toBe('720p');
    expect(capResolution('1440p', 'auto')).toBe('1440p');
  });
});
