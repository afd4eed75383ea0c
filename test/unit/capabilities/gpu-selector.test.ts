/**
 * Per-job GPU choice with an injected runner (nvidia-smi), file reader (sysfs) and clock, and what reaches the
 * ffmpeg argv for each family.
 */
import { describe, expect, it } from 'vitest';
import {
  createGpuSelector,
  parseNvidiaUsage,
  UNKNOWN_BUSY_PERCENT,
  type GpuSelectorDeps,
} from '../../../src/capabilities/gpu-selector.js';
import type { EncoderCheck, GpuInfo, ProbeReport } from '../../../src/capabilities/types.js';
import type { CommandRunner, RunResult } from '../../../src/exec/runner.js';
import { buildFfmpegArgs } from '../../../src/transcode/args/index.js';
import { planTranscode } from '../../../src/transcode/plan.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

const QUERY = ['--query-gpu=index,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'];

function probeWith(gpus: GpuInfo[], encoders: Partial<EncoderCheck>[]): ProbeReport {
  return {
    gpus,
    encoders: encoders.map((e) => ({ listed: true, ok: true, durationMs: 1, family: 'nvidia', name: 'x', ...e })),
    hwaccels: [],
  } as unknown as ProbeReport;
}

const TWO_NVIDIA = probeWith(
  [
    // Readings from the start-up probe: GPU 0 looked idle then.
    { vendor: 'NVIDIA', model: 'RTX A4000', device: '0', utilizationPercent: 2 },
    { vendor: 'NVIDIA', model: 'RTX A4000', device: '1', utilizationPercent: 40 },
  ],
  [{ name: 'h264_nvenc', family: 'nvidia' }],
);

const OK: RunResult = { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1 };

function fakeSmi(answer: Partial<RunResult> | (() => Partial<RunResult>)) {
  const calls: { command: string; args: readonly string[]; timeoutMs?: number }[] = [];
  const runner: CommandRunner = async (command, args, opts = {}) => {
    calls.push({ command, args, timeoutMs: opts.timeoutMs });
    return { ...OK, ...(typeof answer === 'function' ? answer() : answer) };
  };
  return { runner, calls };
}

function logSpy() {
  const warnings: { obj: unknown; msg: string }[] = [];
  const log = {
    info() {},
    debug() {},
    warn(obj: unknown, msg: string) {
      warnings.push({ obj, msg });
    },
  } as unknown as GpuSelectorDeps['log'];
  return { log, warnings };
}

function selector(over: Partial<GpuSelectorDeps> = {}) {
  let clock = 1000;
  const { log, warnings } = logSpy();
  const s = createGpuSelector({
    config: { vaapi_device: '' },
    runner: fakeSmi({}).runner,
    log,
    nvidiaSmiPath: '/usr/bin/nvidia-smi',
    now: () => clock++,
    readFile: async (f) => {
      throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
    },
    ...over,
  });
  return { s, warnings };
}

describe('parseNvidiaUsage', () => {
  it('reads index, utilization and memory; [N/A] stays unknown; junk lines are skipped', () => {
    expect(parseNvidiaUsage('0, 85, 7000, 8192\n1, 3, [N/A], [N/A]\nNo devices were found\n\n')).toEqual([
      { index: '0', utilizationPercent: 85, memoryUsedMb: 7000, memoryTotalMb: 8192 },
      { index: '1', utilizationPercent: 3 },
    ]);
    expect(parseNvidiaUsage('0, [N/A], 1, 2\n')).toEqual([]);
  });
});

describe('NVIDIA: fresh nvidia-smi reading before each job', () => {
  it('picks the least busy GPU now (GPU 1), with the exact query and a short timeout', async () => {
    const smi = fakeSmi({ stdout: '0, 85, 7000, 8192\n1, 3, 400, 8192\n' });
    const { s, warnings } = selector({ runner: smi.runner, queryTimeoutMs: 1500 });
    const choice = await s.choose('nvidia', ['h264_nvenc'], TWO_NVIDIA);
    expect(choice).toEqual({
      family: 'nvidia',
      device: '1',
      reason: 'least busy by nvidia-smi',
      utilizationPercent: 3,
    });
    expect(smi.calls).toEqual([{ command: '/usr/bin/nvidia-smi', args: QUERY, timeoutMs: 1500 }]);
    expect(warnings).toEqual([]);
  });

  it('equal utilization: less memory in use wins, then the GPU used least recently (round robin)', async () => {
    const byMemory = selector({ runner: fakeSmi({ stdout: '0, 0, 3000, 8192\n1, 0, 900, 8192\n' }).runner }).s;
    expect((await byMemory.choose('nvidia', [], TWO_NVIDIA))?.device).toBe('1');

    const { s } = selector({ runner: fakeSmi({ stdout: '0, 0, 500, 8192\n1, 0, 500, 8192\n' }).runner });
    const picks = [];
    for (let i = 0; i < 4; i++) picks.push((await s.choose('nvidia', [], TWO_NVIDIA))?.device);
    expect(picks).toEqual(['0', '1', '0', '1']);
  });

  for (const [what, answer, logged] of [
    [
      'exits non-zero',
      { exitCode: 9, stderr: 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\n' },
      /exited with code 9: NVIDIA-SMI has failed/,
    ],
    ['times out', { exitCode: undefined, timedOut: true }, /did not answer within 2000 ms/],
    ['cannot start', { exitCode: undefined, spawnError: 'nvidia-smi: not found' }, /nvidia-smi: not found/],
    ['prints nothing usable', { stdout: 'No devices were found\n' }, /no GPU readings/],
  ] as const) {
    it(`query ${what}: falls back to the probe's choice (GPU 0) and logs why`, async () => {
      const { s, warnings } = selector({ runner: fakeSmi(answer).runner });
      const choice = await s.choose('nvidia', ['h264_nvenc'], TWO_NVIDIA);
      expect(choice).toMatchObject({ device: '0', reason: "probe's choice (no fresh utilization reading)" });
      expect(warnings).toHaveLength(1);
      expect(String((warnings[0]!.obj as { reason: string }).reason)).toMatch(logged);
    });
  }

  it('a runner that throws is a failed query too, never a failed job', async () => {
    const runner: CommandRunner = async () => {
      throw new Error('EMFILE: too many open files');
    };
    const { s, warnings } = selector({ runner });
    expect((await s.choose('nvidia', [], TWO_NVIDIA))?.device).toBe('0');
    expect(warnings).toHaveLength(1);
  });

  it('only GPUs the probe listed count: a GPU that appeared since is ignored', async () => {
    const { s } = selector({ runner: fakeSmi({ stdout: '0, 50, 1, 8\n1, 60, 1, 8\n2, 0, 0, 8\n' }).runner });
    expect((await s.choose('nvidia', [], TWO_NVIDIA))?.device).toBe('0');
  });

  it('one GPU: no query at all; no NVIDIA GPU listed: no device (NVENC picks its own)', async () => {
    const smi = fakeSmi({ stdout: '0, 1, 1, 8\n' });
    const { s } = selector({ runner: smi.runner });
    const one = probeWith([TWO_NVIDIA.gpus[0]!], [{ name: 'h264_nvenc' }]);
    expect(await s.choose('nvidia', [], one)).toMatchObject({ device: '0', reason: 'the only verified GPU' });
    expect(await s.choose('nvidia', [], probeWith([], []))).toBeUndefined();
    expect(await s.choose('nvidia', [], undefined)).toBeUndefined();
    expect(smi.calls).toEqual([]);
  });

  it('families without a device choice get none', async () => {
    const { s } = selector();
    expect(await s.choose('v4l2m2m', ['h264_v4l2m2m'], TWO_NVIDIA)).toBeUndefined();
    expect(await s.choose('software', ['libx264'], TWO_NVIDIA)).toBeUndefined();
  });
});

const NODES = ['/dev/dri/renderD128', '/dev/dri/renderD129'];
const TWO_NODES = probeWith(
  [
    { vendor: 'Intel', model: 'UHD 770', device: NODES[0] },
    { vendor: 'AMD', model: 'RX 6600', device: NODES[1] },
  ],
  [
    { name: 'h264_vaapi', family: 'vaapi', device: NODES[0], devices: [...NODES] },
    // HEVC passed on the AMD card only.
    { name: 'hevc_vaapi', family: 'vaapi', device: NODES[1], devices: [NODES[1]!] },
  ],
);

function sysfs(busy: Record<string, string>) {
  const reads: string[] = [];
  const readFile = async (file: string) => {
    reads.push(file);
    const v = busy[file];
    if (v === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return v;
  };
  return { readFile, reads };
}

describe('VAAPI/QSV: render nodes', () => {
  it('a configured vaapi_device always wins (nothing is read)', async () => {
    const fs = sysfs({});
    const { s } = selector({ config: { vaapi_device: '/dev/dri/renderD130' }, readFile: fs.readFile });
    for (const family of ['vaapi', 'qsv'] as const)
      expect(await s.choose(family, ['h264_vaapi'], TWO_NODES)).toMatchObject({
        device: '/dev/dri/renderD130',
        reason: 'vaapi_device in the configuration',
      });
    expect(fs.reads).toEqual([]);
  });

  it('two nodes: the lower gpu_busy_percent wins', async () => {
    const fs = sysfs({
      '/sys/class/drm/renderD128/device/gpu_busy_percent': '71\n',
      '/sys/class/drm/renderD129/device/gpu_busy_percent': '4\n',
    });
    const { s } = selector({ readFile: fs.readFile });
    expect(await s.choose('vaapi', ['h264_vaapi'], TWO_NODES)).toEqual({
      family: 'vaapi',
      device: NODES[1],
      reason: 'least busy by gpu_busy_percent',
      utilizationPercent: 4,
    });
    expect(fs.reads.sort()).toEqual([
      '/sys/class/drm/renderD128/device/gpu_busy_percent',
      '/sys/class/drm/renderD129/device/gpu_busy_percent',
    ]);
  });

  it(`a node without a reading (Intel) counts as ${UNKNOWN_BUSY_PERCENT} % busy`, async () => {
    const idleAmd = sysfs({ '/sys/class/drm/renderD129/device/gpu_busy_percent': '10' });
    expect((await selector({ readFile: idleAmd.readFile }).s.choose('vaapi', [], TWO_NODES))?.device).toBe(NODES[1]);
    const loadedAmd = sysfs({ '/sys/class/drm/renderD129/device/gpu_busy_percent': '90' });
    expect((await selector({ readFile: loadedAmd.readFile }).s.choose('vaapi', [], TWO_NODES))?.device).toBe(NODES[0]);
  });

  it('no readings at all: least recently used, so jobs alternate', async () => {
    const { s } = selector();
    const picks = [];
    for (let i = 0; i < 3; i++) picks.push((await s.choose('vaapi', ['h264_vaapi'], TWO_NODES))?.reason);
    expect(picks[0]).toBe('least recently used (no busy reading)');
    const devices = [];
    for (let i = 0; i < 4; i++)
      devices.push(
        (
          await s.choose(
            'qsv',
            [],
            probeWith(TWO_NODES.gpus, [{ name: 'h264_qsv', family: 'qsv', devices: [...NODES] }]),
          )
        )?.device,
      );
    expect(devices).toEqual([NODES[0], NODES[1], NODES[0], NODES[1]]);
  });

  it('only nodes where every encoder of the job passed: an HEVC job goes to the AMD node', async () => {
    const fs = sysfs({ '/sys/class/drm/renderD128/device/gpu_busy_percent': '0' });
    const { s } = selector({ readFile: fs.readFile });
    expect(await s.choose('vaapi', ['hevc_vaapi', 'h264_vaapi'], TWO_NODES)).toMatchObject({
      device: NODES[1],
      reason: 'the only verified render node',
    });
  });

  it('a probe that tested one node (no devices list): that node', async () => {
    const { s } = selector();
    const one = probeWith(TWO_NODES.gpus, [{ name: 'h264_vaapi', family: 'vaapi', device: NODES[0] }]);
    expect((await s.choose('vaapi', [], one))?.device).toBe(NODES[0]);
  });
});

describe('the chosen device reaches the ffmpeg argv', () => {
  const source = makeSourceInfo();
  const argvOn = (encoder: string, device: string, hwaccels: string[] = []) =>
    buildFfmpegArgs(
      planTranscode(
        makeValidatedJob(ladderOf(encoder)),
        source,
        makePlanOptions({ verified: [encoder, 'libx264'], hwaccels, hwDevice: device }),
      ),
    );
  const after = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

  it('NVIDIA GPU 1: NVDEC on device 1 and every NVENC session on GPU 1', () => {
    const full = argvOn('h264_nvenc', '1', ['cuda']);
    expect(after(full, '-hwaccel_device')).toEqual(['1']);
    expect(after(full, '-gpu:v:0')).toEqual(['1']);
    expect(after(full, '-gpu:v:2')).toEqual(['1']);
    // CPU decode: NVENC opens the device itself, so -gpu is what selects it.
    const cpu = argvOn('h264_nvenc', '1');
    expect(cpu).not.toContain('-hwaccel_device');
    expect([0, 1, 2].map((i) => after(cpu, `-gpu:v:${i}`)[0])).toEqual(['1', '1', '1']);
  });

  it('a render node is never given to NVENC as a GPU index', () => {
    expect(argvOn('h264_nvenc', '/dev/dri/renderD128').some((a) => a.startsWith('-gpu'))).toBe(false);
  });

  it('VAAPI: the chosen node is the one device initialised', () => {
    expect(after(argvOn('h264_vaapi', NODES[1]!), '-init_hw_device')).toEqual([`vaapi=va:${NODES[1]}`]);
  });

  it('QSV: the node is the QSV child device, with or without QSV decode', () => {
    expect(after(argvOn('h264_qsv', NODES[1]!), '-init_hw_device')).toEqual([`qsv=hw:hw,child_device=${NODES[1]}`]);
    const decode = argvOn('h264_qsv', NODES[1]!, ['qsv']);
    expect(after(decode, '-qsv_device')).toEqual([NODES[1]]);
    // One QSV device only: the encoder takes the decoder's frames (and their device).
    expect(decode).not.toContain('-init_hw_device');
  });
});
