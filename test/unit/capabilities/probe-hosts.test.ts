/**
 * The payload each kind of host declares. The GPUs cannot exist here, so ffmpeg is a fake CommandRunner that answers
 * like the real one on that host; everything else (listing parsing, skipping, ladders, sessions, payload) is real.
 */
import { describe, expect, it } from 'vitest';
import { createCapabilityProber } from '../../../src/capabilities/probe.js';
import { ToolchainError } from '../../../src/errors.js';
import {
  CPU_ONLY_HOST,
  INTEL_BOX,
  NVIDIA_DESKTOP,
  NVIDIA_WITHOUT_DRIVER,
  RASPBERRY_PI_4,
  createFakeFfmpeg,
  fakeProberDeps,
  testRuns,
  type EncodeRequest,
  type FakeOutcome,
} from '../../helpers/capability-fakes.js';

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

const NO_LIBCUDA = {
  stderr:
    '[h264_nvenc @ 0x55b307e7dac0] Cannot load libcuda.so.1\nError initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height\n',
};
const SESSION_CAP = {
  stderr: '[h264_nvenc @ 0x5600] OpenEncodeSessionEx failed: out of memory (10): (no details)\nConversion failed!\n',
};
const VAAPI_INIT = {
  stderr:
    '[AVHWDeviceContext @ 0x5600] Failed to initialise VAAPI connection: -1 (unknown libva error).\nDevice creation failed: -5.\n',
};
const MFX_SESSION = {
  stderr:
    "[AVHWDeviceContext @ 0x5600] Error creating a MFX session: -9.\nDevice creation failed: -1313558101.\nFailed to set value 'qsv=hw:hw,child_device=/dev/dri/renderD128' for option 'init_hw_device': Unknown error occurred\n",
};

/** An RTX 3060 on a consumer driver: NVENC works, capped at 3 sessions; no AV1 NVENC on Ampere. */
function nvidiaFfmpeg(req: EncodeRequest): FakeOutcome {
  if (req.encoder === 'av1_nvenc')
    return { stderr: '[av1_nvenc @ 0x5600] Codec not supported\n[av1_nvenc @ 0x5600] No capable devices found\n' };
  if (req.encoder?.endsWith('_nvenc') && req.sessions > 3) return SESSION_CAP;
  if (req.encoder?.endsWith('_vaapi') || req.hwaccel === 'vaapi') return VAAPI_INIT;
  return 'ok';
}

const NVIDIA_BUILD = {
  encoders: ['libx264', 'libx265', 'h264_nvenc', 'hevc_nvenc', 'av1_nvenc', 'h264_vaapi', 'aac'],
  hwaccels: ['vdpau', 'cuda', 'vaapi'],
};

/** What every simulated desktop below reports about itself (fake host and fake ffmpeg banner). */
const RYZEN_DESKTOP = {
  cpu_arch: 'x64',
  cpu_cores: 16,
  cpu_model: 'AMD Ryzen 7 5800X',
  ram_total_mb: 32000,
  ffmpeg_version: '6.1.1',
  worker_version: '1.2.3',
};

describe('capability probe on simulated hosts', () => {
  it('NVIDIA desktop: NVENC and CUDA declared, sessions capped at what the driver allows', async () => {
    const fake = createFakeFfmpeg({ ...NVIDIA_BUILD, run: nvidiaFfmpeg });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    const report = await createCapabilityProber(deps).probe();

    expect(report.capabilities).toEqual({
      supported_codecs: ['libx264', 'libx265', 'h264_nvenc', 'hevc_nvenc', 'aac'],
      has_gpu: true,
      gpu_type: 'nvidia',
      max_resolution: '2160p',
      ...RYZEN_DESKTOP,
      hw_decoders: ['cuda'],
      max_encode_sessions: 3,
    });
    const h264 = report.encoders.find((e) => e.name === 'h264_nvenc')!;
    expect(h264).toMatchObject({ ok: true, maxResolution: '2160p', maxSessions: 3 });
    expect(report.encoders.find((e) => e.name === 'av1_nvenc')).toMatchObject({
      ok: false,
      reason: 'Codec not supported',
    });
    expect(report.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({
      ok: false,
      reason: 'Failed to initialise VAAPI connection: -1 (unknown libva error).',
    });
    // 5 and 4 sessions fail, 3 work: stepped down in one process per try.
    const sessionTries = testRuns(fake.calls).filter((r) => r.encoder === 'h264_nvenc' && r.sessions > 1);
    expect(sessionTries.map((r) => r.sessions)).toEqual([5, 4, 3]);
    expect(report.gpus).toEqual([
      { vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 3060', device: '0', utilizationPercent: 7 },
    ]);
    // NVENC needs no device arguments: exact argv of its 720p verification.
    expect(fake.calls.map((c) => c.args)).toContainEqual([
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1280x720:r=25',
      '-c:v',
      'h264_nvenc',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
    ]);
    expect(fake.calls.map((c) => c.args)).toContainEqual([
      ...COMMON,
      '-hwaccel',
      'cuda',
      '-hwaccel_output_format',
      'cuda',
      '-i',
      expect.stringMatching(/probe-sample\.mp4$/),
      '-f',
      'null',
      '-',
    ]);
  });

  it('data-centre NVIDIA (H100/H200: NVDEC, no NVENC): software encoders declared, cuda decode kept', async () => {
    // The real stderr of h264_nvenc on an H200 (device check, bench/gpu-results.md).
    const NO_NVENC = {
      stderr: '[h264_nvenc @ 0x5600] OpenEncodeSessionEx failed: unsupported device (2): (no details)\n',
    };
    const fake = createFakeFfmpeg({
      ...NVIDIA_BUILD,
      run: (req) => (req.encoder?.endsWith('_nvenc') ? NO_NVENC : nvidiaFfmpeg(req)),
    });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    const report = await createCapabilityProber(deps).probe();
    expect(report.capabilities).toMatchObject({
      supported_codecs: ['libx264', 'libx265', 'aac'],
      has_gpu: false,
      gpu_type: 'nvidia',
      hw_decoders: ['cuda'],
      max_encode_sessions: 0,
    });
    expect(report.encoders.find((e) => e.name === 'h264_nvenc')).toMatchObject({
      ok: false,
      reason: 'OpenEncodeSessionEx failed: unsupported device (2): (no details)',
    });
  });

  it('Intel box: VAAPI on /dev/dri/renderD128 works, QSV fails with its reason', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'h264_qsv', 'hevc_qsv', 'h264_vaapi', 'hevc_vaapi', 'av1_vaapi', 'aac'],
      hwaccels: ['vaapi', 'qsv'],
      run: (req) => {
        if (req.encoder?.endsWith('_qsv') || req.hwaccel === 'qsv') return MFX_SESSION;
        if (req.encoder === 'av1_vaapi') return { stderr: '[av1_vaapi @ 0x5600] No usable encoding profile found.\n' };
        return 'ok';
      },
    });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_BOX);
    const report = await createCapabilityProber(deps).probe();

    expect(report.capabilities).toEqual({
      supported_codecs: ['libx264', 'h264_vaapi', 'hevc_vaapi', 'aac'],
      has_gpu: true,
      gpu_type: 'intel',
      max_resolution: '2160p',
      cpu_arch: 'x64',
      cpu_cores: 6,
      cpu_model: 'Intel Core i5-8500T',
      ram_total_mb: 16000,
      hw_decoders: ['vaapi'],
      max_encode_sessions: 5,
      ffmpeg_version: '6.1.1',
      worker_version: '1.2.3',
    });
    expect(report.encoders.find((e) => e.name === 'h264_qsv')).toMatchObject({
      ok: false,
      listed: true,
      reason: 'Error creating a MFX session: -9.',
    });
    expect(report.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({
      ok: true,
      device: '/dev/dri/renderD128',
      maxResolution: '2160p',
    });
    expect(report.hwaccels.find((h) => h.name === 'qsv')).toMatchObject({ ok: false });
    const args = fake.calls.map((c) => c.args);
    expect(args).toContainEqual([
      ...COMMON,
      '-init_hw_device',
      'vaapi=va:/dev/dri/renderD128',
      '-filter_hw_device',
      'va',
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1280x720:r=25',
      '-vf',
      'format=nv12,hwupload',
      '-c:v',
      'h264_vaapi',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
    ]);
    expect(args).toContainEqual([
      ...COMMON,
      '-init_hw_device',
      'qsv=hw:hw,child_device=/dev/dri/renderD128',
      '-filter_hw_device',
      'hw',
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1280x720:r=25',
      '-vf',
      'format=nv12,hwupload=extra_hw_frames=64,format=qsv',
      '-c:v',
      'h264_qsv',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
    ]);
    // A failed verification ends that encoder's tests: no resolution ladder after it.
    expect(testRuns(fake.calls).filter((r) => r.encoder === 'h264_qsv')).toHaveLength(1);
  });

  it('Raspberry Pi 4: h264_v4l2m2m declared up to 1080p, HEVC encoder absent in hardware', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'h264_v4l2m2m', 'hevc_v4l2m2m', 'h264_omx', 'aac'],
      hwaccels: ['drm'],
      decoders: ['h264', 'h264_v4l2m2m'],
      run: (req) => {
        if (req.encoder === 'hevc_v4l2m2m')
          return {
            stderr:
              "[hevc_v4l2m2m @ 0x1] Could not find a valid device\n[hevc_v4l2m2m @ 0x1] can't configure encoder\n",
          };
        if (req.encoder === 'h264_v4l2m2m' && (req.width ?? 0) > 1920)
          return { stderr: '[h264_v4l2m2m @ 0x1] ioctl(VIDIOC_STREAMON) failure : 22, Invalid argument\n' };
        return 'ok';
      },
    });
    const { deps } = await fakeProberDeps(fake.runner, RASPBERRY_PI_4);
    const report = await createCapabilityProber(deps).probe();

    expect(report.capabilities).toEqual({
      supported_codecs: ['libx264', 'h264_v4l2m2m', 'aac'],
      has_gpu: true,
      gpu_type: 'raspberrypi',
      // libx264 has no device ceiling; max_resolution (config) is how a Pi owner keeps 4K away.
      max_resolution: '2160p',
      cpu_arch: 'arm64',
      cpu_cores: 4,
      cpu_model: 'ARM Cortex-A72',
      ram_total_mb: 3800,
      hw_decoders: ['v4l2m2m'],
      max_encode_sessions: 5,
      ffmpeg_version: '6.1.1',
      worker_version: '1.2.3',
    });
    expect(report.encoders.find((e) => e.name === 'h264_v4l2m2m')).toMatchObject({ ok: true, maxResolution: '1080p' });
    expect(report.encoders.find((e) => e.name === 'hevc_v4l2m2m')).toMatchObject({
      ok: false,
      reason: 'Could not find a valid device',
    });
    const ladder = testRuns(fake.calls).filter((r) => r.encoder === 'h264_v4l2m2m' && r.sessions === 1);
    expect(ladder.map((r) => r.height)).toEqual([720, 2160, 1440, 1080]);
    expect(fake.calls.map((c) => c.args)).toContainEqual([
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1280x720:r=25',
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'h264_v4l2m2m',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
    ]);
    expect(report.encoders.some((e) => e.name === 'h264_omx')).toBe(false);
    expect(report.host.piModel).toBe('Raspberry Pi 4 Model B Rev 1.4');
  });

  it('NVENC listed but the driver is missing: not declared, with "Cannot load libcuda.so.1" as the reason', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'h264_nvenc', 'hevc_nvenc', 'aac'],
      hwaccels: ['cuda'],
      run: (req) => (req.encoder?.endsWith('_nvenc') || req.hwaccel === 'cuda' ? NO_LIBCUDA : 'ok'),
    });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_WITHOUT_DRIVER);
    const report = await createCapabilityProber(deps).probe();

    expect(report.capabilities).toEqual({
      supported_codecs: ['libx264', 'aac'],
      has_gpu: false,
      gpu_type: 'none',
      max_resolution: '2160p',
      ...RYZEN_DESKTOP,
      hw_decoders: [],
      max_encode_sessions: 0,
    });
    for (const name of ['h264_nvenc', 'hevc_nvenc']) {
      expect(report.encoders.find((e) => e.name === name)).toMatchObject({
        listed: true,
        ok: false,
        reason: 'Cannot load libcuda.so.1',
      });
      expect(report.encoders.find((e) => e.name === name)!.skipped).toBeUndefined();
    }
    expect(report.hwaccels.find((h) => h.name === 'cuda')).toMatchObject({
      ok: false,
      reason: 'Cannot load libcuda.so.1',
    });
  });

  it('a test encode that hangs is killed at probe_timeout and reported, the others still count', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'h264_vaapi', 'hevc_vaapi', 'aac'],
      hwaccels: [],
      run: (req) => (req.encoder === 'h264_vaapi' ? 'hang' : 'ok'),
    });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_BOX, { probe_timeout: 300 });
    const report = await createCapabilityProber(deps).probe();

    expect(report.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({
      ok: false,
      reason: 'timed out after 300ms',
    });
    expect(report.capabilities).toMatchObject({
      supported_codecs: ['libx264', 'hevc_vaapi', 'aac'],
      has_gpu: true,
      gpu_type: 'intel',
      max_encode_sessions: 5,
    });
  });

  it('ffmpeg missing: a ToolchainError naming the path and the key to set', async () => {
    const fake = createFakeFfmpeg({ encoders: [], missing: true });
    const { deps } = await fakeProberDeps(fake.runner, CPU_ONLY_HOST, { ffmpeg_path: '/opt/nope/ffmpeg' });
    const err = await createCapabilityProber(deps)
      .probe()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as Error).message).toBe(
      'ffmpeg not found at "/opt/nope/ffmpeg" (/opt/nope/ffmpeg: not found): install ffmpeg or set ffmpeg_path (or WORKER_FFMPEG_PATH) to the full path of a working ffmpeg',
    );
  });

  it('hwaccel=none restricts the probe to software: no hardware test runs at all', async () => {
    const fake = createFakeFfmpeg({ ...NVIDIA_BUILD, run: nvidiaFfmpeg });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP, { hwaccel: 'none' });
    const report = await createCapabilityProber(deps).probe();

    expect(report.capabilities).toEqual({
      supported_codecs: ['libx264', 'libx265', 'aac'],
      has_gpu: false,
      gpu_type: 'none',
      max_resolution: '2160p',
      ...RYZEN_DESKTOP,
      hw_decoders: [],
      max_encode_sessions: 0,
    });
    expect(new Set(testRuns(fake.calls).flatMap((r) => r.encoders))).toEqual(new Set(['libx264', 'libx265', 'aac']));
    expect(report.encoders.find((e) => e.name === 'h264_nvenc')).toMatchObject({
      skipped: true,
      reason: 'hardware disabled by hwaccel=none',
    });
  });

  it('hwaccel=vaapi uses only that family even where QSV would work', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'h264_qsv', 'h264_vaapi', 'aac'],
      hwaccels: ['vaapi', 'qsv'],
    });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_BOX, { hwaccel: 'vaapi' });
    const report = await createCapabilityProber(deps).probe();
    expect(report.capabilities.supported_codecs).toEqual(['libx264', 'h264_vaapi', 'aac']);
    expect(report.capabilities.hw_decoders).toEqual(['vaapi']);
    expect(report.encoders.find((e) => e.name === 'h264_qsv')).toMatchObject({
      skipped: true,
      reason: 'not used: hwaccel=vaapi in the configuration',
    });
  });

  it('max_resolution caps what is declared', async () => {
    const fake = createFakeFfmpeg({ ...NVIDIA_BUILD, run: nvidiaFfmpeg });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP, { max_resolution: '1080p' });
    const report = await createCapabilityProber(deps).probe();
    expect(report.capabilities.max_resolution).toBe('1080p');
    // The per-encoder detail still says what the hardware can do.
    expect(report.encoders.find((e) => e.name === 'h264_nvenc')!.maxResolution).toBe('2160p');
  });

  it('software encoders are verified in one ffmpeg run; when that fails each is tested alone for its reason', async () => {
    const fake = createFakeFfmpeg({
      encoders: ['libx264', 'libx265', 'libsvtav1', 'aac'],
      run: (req) =>
        req.encoder === 'libsvtav1' ? { stderr: 'Svt[error]: Instance 1: Failed to allocate memory\n' } : 'ok',
    });
    const { deps } = await fakeProberDeps(fake.runner, CPU_ONLY_HOST);
    const report = await createCapabilityProber(deps).probe();
    expect(report.capabilities.supported_codecs).toEqual(['libx264', 'libx265', 'aac']);
    expect(report.encoders.find((e) => e.name === 'libsvtav1')).toMatchObject({
      ok: false,
      reason: 'Svt[error]: Instance 1: Failed to allocate memory',
    });
    const runs = testRuns(fake.calls).map((r) => r.encoders);
    expect(runs[0]).toEqual(['libx264', 'libx265', 'libsvtav1', 'aac']);
    expect(runs.slice(1).sort()).toEqual([['aac'], ['libsvtav1'], ['libx264'], ['libx265']]);

    const healthy = createFakeFfmpeg({ encoders: ['libx264', 'libx265', 'aac'] });
    const fast = await createCapabilityProber((await fakeProberDeps(healthy.runner, CPU_ONLY_HOST)).deps).probe();
    expect(testRuns(healthy.calls)).toHaveLength(1);
    expect(fast.encoders.find((e) => e.name === 'libx265')).toMatchObject({
      ok: true,
      batched: true,
      maxResolution: '2160p',
    });
    expect(healthy.calls.at(-1)!.args).toEqual([
      ...COMMON,
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=1280x720:r=25',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=48000:cl=stereo',
      '-map',
      '0:v',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
      '-map',
      '0:v',
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'log-level=error',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
      '-map',
      '1:a',
      '-c:a',
      'aac',
      '-t',
      '0.1',
      '-f',
      'null',
      '-',
    ]);
  });

  it('absent devices are skipped without a test, with the reason', async () => {
    const fake = createFakeFfmpeg({
      ...NVIDIA_BUILD,
      encoders: [...NVIDIA_BUILD.encoders, 'h264_qsv', 'h264_v4l2m2m'],
    });
    const { deps } = await fakeProberDeps(fake.runner, CPU_ONLY_HOST);
    const report = await createCapabilityProber(deps).probe();
    const reasons = Object.fromEntries(report.encoders.filter((e) => e.skipped).map((e) => [e.name, e.reason]));
    expect(reasons).toMatchObject({
      h264_nvenc: 'no NVIDIA GPU found (no nvidia-smi, no /dev/nvidia*, none listed)',
      h264_vaapi: 'no /dev/dri render node',
      h264_qsv: 'no /dev/dri render node',
      h264_v4l2m2m: 'no /dev/video* V4L2 device',
      libsvtav1: 'not compiled into this ffmpeg (absent from ffmpeg -encoders)',
    });
    expect(new Set(testRuns(fake.calls).flatMap((r) => r.encoders))).toEqual(new Set(['libx264', 'libx265', 'aac']));
    expect(report.capabilities).toMatchObject({ has_gpu: false, gpu_type: 'none', max_encode_sessions: 0 });
  });
});
