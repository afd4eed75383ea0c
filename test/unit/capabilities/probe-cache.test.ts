/**
 * The probe cache in state_dir and the re-probe of one family after a device error at run time.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCapabilityProber } from '../../../src/capabilities/probe.js';
import {
  INTEL_BOX,
  NVIDIA_DESKTOP,
  createFakeFfmpeg,
  fakeProberDeps,
  testRuns,
  type EncodeRequest,
  type FakeOutcome,
} from '../../helpers/capability-fakes.js';

const BUILD = { encoders: ['libx264', 'h264_nvenc', 'aac'], hwaccels: ['cuda'] };

describe('capability cache', () => {
  it('a second probe with the same key comes from the cache: only the -version checks run', async () => {
    const fake = createFakeFfmpeg(BUILD);
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    const first = await createCapabilityProber(deps).probe();
    expect(first.fromCache).toBe(false);

    fake.calls.length = 0;
    // A new prober, as after a restart: it reads the file, not memory.
    const second = await createCapabilityProber(deps).probe();
    expect(second.fromCache).toBe(true);
    expect(second.capabilities).toEqual(first.capabilities);
    expect(fake.calls.map((c) => [c.command, ...c.args])).toEqual([
      ['ffmpeg', '-version'],
      ['ffprobe', '-version'],
    ]);
    const file = JSON.parse(await readFile(path.join(deps.config.state_dir, 'capabilities.json'), 'utf8'));
    expect(file.report.capabilities).toEqual(first.capabilities);
    expect(second.probedAt).toBe(first.probedAt);
  });

  it('a cache hit still reports the current RAM and GPU load', async () => {
    const fake = createFakeFfmpeg(BUILD);
    const { deps, setHost } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    await createCapabilityProber(deps).probe();
    fake.calls.length = 0;
    setHost({
      ...NVIDIA_DESKTOP,
      ramTotalMb: 64000,
      nvidiaSmi: [{ ...NVIDIA_DESKTOP.nvidiaSmi![0]!, utilizationPercent: 93 }],
    });
    const again = await createCapabilityProber(deps).probe();
    expect(again.fromCache).toBe(true);
    expect(again.capabilities.ram_total_mb).toBe(64000);
    expect(again.gpus[0]!.utilizationPercent).toBe(93);
    expect(testRuns(fake.calls)).toEqual([]);
  });

  it('refresh, a new ffmpeg version, a changed device list or setting each redo the tests', async () => {
    const fake = createFakeFfmpeg(BUILD);
    const { deps, setHost } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    await createCapabilityProber(deps).probe();

    expect((await createCapabilityProber(deps).probe({ refresh: true })).fromCache).toBe(false);

    setHost({ ...NVIDIA_DESKTOP, renderNodes: [...NVIDIA_DESKTOP.renderNodes, { path: '/dev/dri/renderD129' }] });
    expect((await createCapabilityProber(deps).probe()).fromCache).toBe(false);
    expect((await createCapabilityProber(deps).probe()).fromCache).toBe(true);

    const upgraded = createFakeFfmpeg({ ...BUILD, version: '7.0' });
    const after = await createCapabilityProber({ ...deps, runner: upgraded.runner }).probe();
    expect(after.fromCache).toBe(false);
    expect(after.capabilities.ffmpeg_version).toBe('7.0');

    const capped = await createCapabilityProber({
      ...deps,
      runner: upgraded.runner,
      config: { ...deps.config, max_resolution: '720p' },
    }).probe();
    expect(capped.fromCache).toBe(false);
    expect(capped.capabilities.max_resolution).toBe('720p');
  });

  it('an unreadable cache file is ignored and replaced', async () => {
    const fake = createFakeFfmpeg(BUILD);
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(deps.config.state_dir, { recursive: true });
    await writeFile(path.join(deps.config.state_dir, 'capabilities.json'), '{ not json');
    const report = await createCapabilityProber(deps).probe();
    expect(report.fromCache).toBe(false);
    expect((await createCapabilityProber(deps).probe()).fromCache).toBe(true);
  });
});

describe('reprobeFamily', () => {
  it('a GPU that disappeared is re-tested and dropped from the payload and the cache', async () => {
    let gpuGone = false;
    const run = (req: EncodeRequest): FakeOutcome =>
      gpuGone && (req.encoder?.endsWith('_nvenc') || req.hwaccel === 'cuda')
        ? {
            stderr:
              '[h264_nvenc @ 0x1] dl_fn->cuda_dl->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected\n',
          }
        : 'ok';
    const fake = createFakeFfmpeg({ ...BUILD, run });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
    const prober = createCapabilityProber(deps);
    const before = await prober.probe();
    expect(before.capabilities).toMatchObject({ has_gpu: true, supported_codecs: ['libx264', 'h264_nvenc', 'aac'] });

    gpuGone = true;
    fake.calls.length = 0;
    const after = await prober.reprobeFamily('nvidia');
    expect(after.capabilities).toMatchObject({
      supported_codecs: ['libx264', 'aac'],
      has_gpu: false,
      gpu_type: 'none',
      hw_decoders: [],
      max_encode_sessions: 0,
    });
    expect(after.encoders.find((e) => e.name === 'h264_nvenc')!.reason).toBe(
      'dl_fn->cuda_dl->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
    );
    // Only the NVIDIA family was tested again (libx264's result is kept).
    expect(new Set(testRuns(fake.calls).map((r) => r.encoder ?? r.hwaccel))).toEqual(new Set(['h264_nvenc', 'cuda']));
    const file = JSON.parse(await readFile(path.join(deps.config.state_dir, 'capabilities.json'), 'utf8'));
    expect(file.report.capabilities.has_gpu).toBe(false);
  });

  it('a family whose device node vanished is skipped on re-probe', async () => {
    const fake = createFakeFfmpeg({ encoders: ['libx264', 'h264_vaapi', 'aac'], hwaccels: ['vaapi'] });
    const { deps, setHost } = await fakeProberDeps(fake.runner, INTEL_BOX);
    const prober = createCapabilityProber(deps);
    expect((await prober.probe()).capabilities.gpu_type).toBe('intel');
    setHost({ ...INTEL_BOX, renderNodes: [] });
    const after = await prober.reprobeFamily('vaapi');
    expect(after.capabilities.supported_codecs).toEqual(['libx264', 'aac']);
    expect(after.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({
      skipped: true,
      reason: 'no /dev/dri render node',
    });
  });
});
