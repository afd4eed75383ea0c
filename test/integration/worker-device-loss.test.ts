/**
 * Hardware that disappears at run time, end to end through the real worker (createApp: Worker + job executor +
 * the app's device-error wiring) against the scriptable test orchestrator:
 *   NVENC works at start -> registered with h264_nvenc -> the GPU vanishes -> the next NVENC job fails with a
 *   device error -> that job completes in software -> the NVIDIA family is re-probed before any other job -> the
 *   worker re-registers without NVENC -> the following NVENC job is planned in software from the start.
 * Fakes only for the GPU: the prober's CommandRunner (capability-fakes) and an NVENC-emulating ffmpeg wrapper
 * (gpu-emulation); ffprobe, ffmpeg (libx264), the NAS and HTTP are real.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { createCapabilityProber } from '../../src/capabilities/probe.js';
import type { CapabilityProber } from '../../src/capabilities/types.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { Job } from '../../src/protocol/schemas.js';
import { createFakeFfmpeg, fakeProberDeps, NVIDIA_DESKTOP, type FakeOutcome } from '../helpers/capability-fakes.js';
import {
  NVENC_DEVICE_GONE_STDERR,
  videoEncodersOf,
  writeNvencEmulatingFfmpeg,
  type EmulatedNvenc,
} from '../helpers/gpu-emulation.js';
import { FFMPEG, FFPROBE, makeSource, makeTempDir, removeDir } from '../helpers/media.js';
import { startTestOrchestrator, type RecordedRequest, type TestOrchestrator } from '../helpers/orchestrator.js';

let root: string;
let orch: TestOrchestrator;
let app: App | undefined;
let gpu: EmulatedNvenc;
/** What the prober's fake ffmpeg sees: the same GPU as the job's ffmpeg wrapper. */
let gpuPresent = true;
/** Worker-side events and orchestrator requests, in the order they happened. */
let timeline: string[];

beforeEach(async () => {
  root = await makeTempDir('tw-devloss-');
  orch = await startTestOrchestrator();
  gpuPresent = true;
  timeline = [];
  orch.hook('*', (req: RecordedRequest) => {
    const body = req.body as { current_job_id?: string } | undefined;
    if (req.route === 'register') timeline.push('register');
    if (req.route === 'progress' || req.route === 'finalize') timeline.push(`${req.route}:${req.jobId}`);
    if (req.route === 'sync' && body?.current_job_id) timeline.push(`sync:${body.current_job_id}`);
  });
});

afterEach(async () => {
  await app?.stop();
  app = undefined;
  await orch.close();
  await removeDir(root);
});

function nvencJob(jobId: string, dest: string): Job {
  return {
    job_id: jobId,
    input: { source_url: 'in/src.mp4' },
    outputs: [
      { resolution: '320x180', bitrate: '300k', codec: 'h264_nvenc', dest_path: `out/${dest}/180p` },
      { resolution: '214x120', bitrate: '150k', codec: 'h264_nvenc', dest_path: `out/${dest}/120p` },
    ],
    hls_settings: { segment_time: 1 },
  };
}

async function startWorker(extraEnv: Record<string, string> = {}): Promise<void> {
  const nas = path.join(root, 'nas');
  await mkdir(path.join(nas, 'in'), { recursive: true });
  await makeSource(path.join(nas, 'in'), { name: 'src.mp4', width: 320, height: 180, duration: 1 });
  gpu = await writeNvencEmulatingFfmpeg(root, FFMPEG);
  const config = loadConfig({
    cwd: root,
    args: [],
    env: {
      WORKER_ORCHESTRATOR_URL: orch.url,
      WORKER_ID: 'gpu-box',
      WORKER_NAS_MOUNT_PATH: nas,
      WORKER_TEMP_DIR: path.join(root, 'tmp'),
      WORKER_STATE_DIR: path.join(root, 'state'),
      WORKER_FFMPEG_PATH: gpu.ffmpegPath,
      WORKER_FFPROBE_PATH: FFPROBE,
      WORKER_X264_PRESET: 'ultrafast',
      WORKER_SYNC_INTERVAL: '200',
      WORKER_PROGRESS_INTERVAL: '200',
      WORKER_HTTP_HOST: '127.0.0.1',
      WORKER_HTTP_PORT: '0',
      WORKER_LOG_LEVEL: 'silent',
      ...extraEnv,
    },
  });
  // The prober: real probing logic on an NVIDIA desktop whose ffmpeg answers through a fake runner.
  const fake = createFakeFfmpeg({
    encoders: ['libx264', 'libx265', 'h264_nvenc', 'hevc_nvenc', 'aac'],
    run: (req): FakeOutcome =>
      req.encoder?.endsWith('_nvenc') && !gpuPresent ? { stderr: NVENC_DEVICE_GONE_STDERR } : 'ok',
  });
  const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
  const real = createCapabilityProber(deps);
  const prober: CapabilityProber = {
    probe: (opts) => real.probe(opts),
    async reprobeFamily(family) {
      timeline.push(`reprobe:${family}`);
      return real.reprobeFamily(family);
    },
  };
  app = createApp(config, createLogger({ level: 'silent' }), {
    prober,
    hostLoad: async () => ({ cpuPercent: 0, ramPercent: 0 }),
    retry: { startMs: 50, maxMs: 200 },
  });
  await app.start();
}

const codecsOf = (r: RecordedRequest) =>
  (r.body as { capabilities: { supported_codecs: string[] } }).capabilities.supported_codecs;

describe.skipIf(process.platform === 'win32')('a GPU that disappears at run time', () => {
  it('fails over the job in software, re-probes NVIDIA before the next job, re-registers without NVENC', async () => {
    await startWorker();
    const first = await orch.waitForRequest('register', { timeoutMs: 15_000 });
    expect(codecsOf(first)).toEqual(['libx264', 'libx265', 'h264_nvenc', 'hevc_nvenc', 'aac']);
    expect(first.body.capabilities).toMatchObject({ has_gpu: true, gpu_type: 'nvidia' });

    // The GPU falls off the bus. Both jobs are queued at once, so the worker could take the second one right after
    // the first: it must re-probe and re-register in between.
    gpuPresent = false;
    await gpu.setGpuPresent(false);
    await orch.enqueue(nvencJob('lost-gpu', 'a'));
    await orch.enqueue(nvencJob('after-loss', 'b'));

    const lost = await orch.waitForJob('lost-gpu', ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    const lostFinalize = orch.lastRequest('finalize')!;
    expect(lost.status).toBe('COMPLETED');
    expect(lostFinalize.body.metrics.encoders).toEqual({ 'out/a/180p': 'libx264', 'out/a/120p': 'libx264' });
    expect(lostFinalize.body.metrics.software_fallback).toMatch(/^ffmpeg failed with exit code 1/);

    const after = await orch.waitForJob('after-loss', ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(after.status).toBe('COMPLETED');
    const afterFinalize = orch.requestsTo('finalize', (r) => r.jobId === 'after-loss').at(-1)!;
    // Planned in software from the start: no failed NVENC attempt, so no fallback either.
    expect(afterFinalize.body.metrics.encoders).toEqual({ 'out/b/180p': 'libx264', 'out/b/120p': 'libx264' });
    expect(afterFinalize.body.metrics.software_fallback).toBeUndefined();
    expect(afterFinalize.body.metrics.gpu_device).toBeUndefined();

    // ffmpeg runs: NVENC (device error), the software retry, then the second job in software only.
    const runs = (await gpu.calls()).map(videoEncodersOf);
    expect(runs).toEqual([
      ['h264_nvenc', 'h264_nvenc'],
      ['libx264', 'libx264'],
      ['libx264', 'libx264'],
    ]);

    // The re-registration tells the truth: no NVENC, no GPU.
    const registrations = orch.requestsTo('register');
    expect(registrations).toHaveLength(2);
    expect(codecsOf(registrations[1]!)).toEqual(['libx264', 'libx265', 'aac']);
    expect(registrations[1]!.body.capabilities).toMatchObject({ has_gpu: false, gpu_type: 'none' });

    // Order: the first job ends, NVIDIA is re-probed, the worker re-registers, and only then the next job runs.
    const at = (e: string) => timeline.indexOf(e);
    expect(timeline.filter((e) => e.startsWith('reprobe:'))).toEqual(['reprobe:nvidia']);
    expect(at('finalize:lost-gpu')).toBeGreaterThanOrEqual(0);
    expect(at('reprobe:nvidia')).toBeGreaterThan(at('progress:lost-gpu'));
    expect(timeline.lastIndexOf('register')).toBeGreaterThan(at('reprobe:nvidia'));
    const firstAfter = timeline.findIndex((e) => e.endsWith(':after-loss'));
    expect(firstAfter).toBeGreaterThan(timeline.lastIndexOf('register'));
    expect(app!.worker.status().capabilities?.supported_codecs).toEqual(['libx264', 'libx265', 'aac']);

    // What an operator's Prometheus sees: one device error on NVIDIA, one job saved by the software retry.
    const metrics = await app!.metrics.registry.metrics();
    expect(metrics).toMatch(/^transcode_worker_device_errors_total\{family="nvidia"\} 1$/m);
    expect(metrics).toMatch(/^transcode_worker_software_fallbacks_total 1$/m);
  }, 120_000);

  it('without software fallback the job FAILS with the device error, and the worker still re-registers', async () => {
    // Same scenario, allow_software_fallback off: the job cannot be saved, the next ones must not be doomed.
    await startWorker({ WORKER_ALLOW_SOFTWARE_FALLBACK: 'false' });
    const first = await orch.waitForRequest('register', { timeoutMs: 15_000 });
    gpuPresent = false;
    await gpu.setGpuPresent(false);
    await orch.enqueue(nvencJob('doomed', 'c'));
    const doomed = await orch.waitForJob('doomed', ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(doomed.status).toBe('FAILED');
    const fin = orch.lastRequest('finalize')!;
    expect(fin.body.error_msg).toMatch(/^ffmpeg failed with exit code 1:\n/);
    expect(fin.body.error_msg).toContain('CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected');
    const second = await orch.waitForRequest('register', { afterSeq: first.seq, timeoutMs: 15_000 });
    expect(codecsOf(second)).toEqual(['libx264', 'libx265', 'aac']);
  }, 120_000);
});
