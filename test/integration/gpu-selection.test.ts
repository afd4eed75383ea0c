/**
 * Per-job GPU choice through the real job executor: nvidia-smi is an injected runner (two GPUs), ffmpeg is the
 * real one behind an NVENC-emulating wrapper (test/helpers/gpu-emulation.ts) that records the argv it was given.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuSelector, type GpuSelectorDeps } from '../../src/capabilities/gpu-selector.js';
import type { CommandRunner, RunResult } from '../../src/exec/runner.js';
import { videoEncodersOf, writeNvencEmulatingFfmpeg, type EmulatedNvenc } from '../helpers/gpu-emulation.js';
import { FFMPEG, makeSource, makeTempDir, removeDir } from '../helpers/media.js';
import { makeProbeReport } from '../helpers/probe-report.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

/** Two NVIDIA GPUs; at probe time GPU 0 looked idle (so it is "the probe's choice"). */
const PROBE = makeProbeReport({
  encoders: ['libx264', 'libx265', 'h264_nvenc', 'aac'],
  gpus: [
    { vendor: 'NVIDIA', model: 'RTX A4000', device: '0', utilizationPercent: 1 },
    { vendor: 'NVIDIA', model: 'RTX A4000', device: '1', utilizationPercent: 55 },
  ],
});

const OK: RunResult = { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1 };

function smiRunner(answer: Partial<RunResult>): { runner: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: async (command, args) => {
      calls.push([command, ...args]);
      return { ...OK, ...answer };
    },
  };
}

let h: PipelineHarness;
let gpu: EmulatedNvenc;
let scratch: string;
beforeAll(async () => {
  scratch = await makeTempDir('tw-gpu-');
  gpu = await writeNvencEmulatingFfmpeg(scratch, FFMPEG);
  h = await createPipelineHarness({ WORKER_FFMPEG_PATH: gpu.ffmpegPath });
  const src = await makeSource(scratch, { name: 'src.mp4', width: 320, height: 180, duration: 1 });
  await copyFile(src, path.join(h.nas, 'movies', 'src.mp4'));
});
afterAll(async () => {
  await h?.cleanup();
  if (scratch) await removeDir(scratch);
});

function nvencJob(dest: string) {
  const job = ladderJob('movies/src.mp4', [
    ['320x180', '300k', `out/${dest}/180p`],
    ['214x120', '150k', `out/${dest}/120p`],
  ]);
  for (const o of job.outputs) o.codec = 'h264_nvenc';
  return job;
}

async function runWith(selectorDeps: Partial<GpuSelectorDeps>, dest: string) {
  const warnings: string[] = [];
  const log = {
    info() {},
    debug() {},
    warn: (_o: unknown, msg: string) => void warnings.push(msg),
  } as unknown as GpuSelectorDeps['log'];
  const gpuSelector = createGpuSelector({
    config: h.config,
    runner: smiRunner({}).runner,
    log,
    nvidiaSmiPath: 'nvidia-smi',
    ...selectorDeps,
  });
  const before = (await gpu.calls()).length;
  const r = await h.run(nvencJob(dest), { probe: PROBE, deps: { gpuSelector } });
  if (!r.ok) throw r.error;
  const argv = (await gpu.calls()).slice(before);
  expect(argv).toHaveLength(1);
  return { result: r.result, argv: argv[0]!, warnings };
}

const valuesOf = (argv: string[], prefix: string) =>
  argv.flatMap((a, i) => (a.startsWith(prefix) ? [`${a} ${argv[i + 1]}`] : []));

describe.skipIf(process.platform === 'win32')('GPU choice per job (two NVIDIA GPUs)', () => {
  it('GPU 1 is less busy now: every NVENC session of the job runs on GPU 1, and the metrics say so', async () => {
    const smi = smiRunner({ stdout: '0, 92, 7100, 16376\n1, 4, 300, 16376\n' });
    const { result, argv, warnings } = await runWith({ runner: smi.runner }, 'busy0');
    expect(smi.calls).toEqual([
      ['nvidia-smi', '--query-gpu=index,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
    ]);
    expect(videoEncodersOf(argv)).toEqual(['h264_nvenc', 'h264_nvenc']);
    expect(valuesOf(argv, '-gpu')).toEqual(['-gpu:v:0 1', '-gpu:v:1 1']);
    expect(result.metrics).toMatchObject({
      gpu_device: '1',
      gpu_family: 'nvidia',
      encoders: { 'out/busy0/180p': 'h264_nvenc', 'out/busy0/120p': 'h264_nvenc' },
    });
    expect(warnings).toEqual([]);
  });

  it("nvidia-smi times out: the probe's choice (GPU 0) is used, logged, and the job still completes", async () => {
    const smi = smiRunner({ exitCode: undefined, timedOut: true });
    const { result, argv, warnings } = await runWith({ runner: smi.runner }, 'smi-timeout');
    expect(smi.calls).toHaveLength(1);
    expect(valuesOf(argv, '-gpu')).toEqual(['-gpu:v:0 0', '-gpu:v:1 0']);
    expect(result.metrics).toMatchObject({ gpu_device: '0', gpu_family: 'nvidia' });
    expect(warnings).toEqual(["cannot read GPU utilization; using the probe's choice"]);
  });
});
