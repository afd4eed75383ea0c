/**
 * Verifies every tone-mapping path a plan may use, with a real run: a few frames of a tiny 10-bit BT.2020 PQ
 * picture through the very chain a job would run (media/tone-map-chains.ts), on the device it would run on. A
 * path is tested only where its filters exist in this build and a device for it is present, so a host without a
 * GPU pays for one CPU run (about 0.1 s). Every outcome is data (ok + reason), never an exception.
 */
import type { Config } from '../config.js';
import type { CommandRunner } from '../exec/runner.js';
import {
  cpuToneMapChain,
  libplaceboOnCpuFramesChain,
  openclOnCpuFramesChain,
  openclOnDeviceChain,
  qsvToneMapChain,
  TONE_MAPPER_FILTERS,
  uploadDeviceArgs,
  vaapiToneMapChain,
  type ToneMapper,
} from '../media/tone-map-chains.js';
import { familySkipReason, hasNvidia, pickRenderNode } from './devices.js';
import { formatDuration, pickReason } from './ffmpeg-output.js';
import type { HostSnapshot } from './host.js';
import type { ToneMapperCheck, ToneMapperPath } from './types.js';
import { mapLimit } from '../util/pool.js';

/** Every path, in the order the report lists them. */
export const TONE_MAPPER_PATHS: readonly ToneMapperPath[] = [
  'cpu',
  'vaapi',
  'qsv',
  'opencl-vaapi',
  'opencl-qsv',
  'libplacebo',
  'opencl',
];

/** The filter chain each verified path runs (the OpenCL paths differ only in where their device comes from). */
export const MAPPER_OF: Readonly<Record<ToneMapperPath, ToneMapper>> = {
  cpu: 'cpu',
  vaapi: 'vaapi',
  qsv: 'qsv',
  'opencl-vaapi': 'opencl',
  'opencl-qsv': 'opencl',
  opencl: 'opencl',
  libplacebo: 'libplacebo',
};

/** Three frames of a 256x144 picture: enough to start every filter and push frames through. */
export const HDR_TEST_SOURCE = 'testsrc2=s=256x144:r=25:d=0.12';

/**
 * Makes the test frames 10-bit BT.2020 PQ, tagged on the frames as a decoder tags them. Inside the tested graph, not
 * the lavfi source: frames leaving a lavfi input lose their colour tags, and zscale then finds "no path between
 * colorspaces" (the output primaries default to the input frame's).
 */
export const HDR_TEST_FRAMES = [
  'format=yuv420p10le',
  'setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc:range=tv',
];

export interface ToneMapperProbeInput {
  /** `ffmpeg -filters`. */
  filters: ReadonlySet<string>;
  /** Options of vpp_qsv (`-h filter=vpp_qsv`); empty when it is not listed. */
  vppQsvOptions: ReadonlySet<string>;
  host: HostSnapshot;
  config: Pick<Config, 'hwaccel' | 'vaapi_device'>;
  /**
   * Also try Vulkan/OpenCL on a host with no GPU, so a CPU driver (lavapipe) is exercised; tests use it. Without
   * it such a host skips them: a CPU driver is never faster than the CPU chain.
   */
  tryWithoutGpu?: boolean;
}

interface Planned {
  args: string[];
  device?: string;
}

type Decision = Planned | { skip: string; listed: boolean };

function missingFilters(path: ToneMapperPath, filters: ReadonlySet<string>): string[] {
  return TONE_MAPPER_FILTERS[MAPPER_OF[path]].filter((f) => !filters.has(f));
}

/** The test run: device options, the HDR picture, the chain, and no output but a null sink. */
function testArgs(deviceArgs: string[], chain: string[]): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    // Each line tagged with its level: errors are told apart from the device listing (verbose) read below.
    '-loglevel',
    'level+verbose',
    ...deviceArgs,
    '-f',
    'lavfi',
    '-i',
    HDR_TEST_SOURCE,
    '-vf',
    [...HDR_TEST_FRAMES, ...chain].join(','),
    '-f',
    'null',
    '-',
  ];
}

/** A device-frame chain tested on uploaded frames: upload as P010, the chain, download 8-bit NV12. */
function onDevice(chain: string[], qsv = false): string[] {
  return ['format=p010le', qsv ? 'hwupload=extra_hw_frames=16' : 'hwupload', ...chain, 'hwdownload', 'format=nv12'];
}

function vaapiDevice(node: string): string[] {
  return ['-init_hw_device', `vaapi=va:${node}`, '-filter_hw_device', 'va'];
}

/** QSV over the render node's VAAPI device on Linux (as the jobs' QSV device), the default adapter on Windows. */
function qsvDevice(host: HostSnapshot, node: string | undefined): string[] {
  if (host.platform === 'linux' && node)
    return ['-init_hw_device', `vaapi=va:${node}`, '-init_hw_device', 'qsv=qs@va', '-filter_hw_device', 'qs'];
  return ['-init_hw_device', 'qsv=qs:hw', '-filter_hw_device', 'qs'];
}

function anyGpu(host: HostSnapshot): boolean {
  return hasNvidia(host) || host.renderNodes.length > 0 || host.graphics.length > 0;
}

/** The first NVIDIA index: Vulkan is derived from that CUDA device, as in a job (uploadDeviceArgs). */
function cudaIndexOf(host: HostSnapshot): string | undefined {
  if (!hasNvidia(host)) return undefined;
  return host.nvidiaSmi?.[0]?.index ?? '0';
}

function decide(path: ToneMapperPath, input: ToneMapperProbeInput): Decision {
  const { host, config } = input;
  const missing = missingFilters(path, input.filters);
  if (missing.length > 0)
    return { skip: `not compiled into this ffmpeg (no ${missing.join(', ')} in ffmpeg -filters)`, listed: false };
  if (path === 'cpu') return { args: testArgs([], cpuToneMapChain('pq')) };
  if (config.hwaccel === 'none') return { skip: 'hardware disabled by hwaccel=none', listed: true };
  const node = pickRenderNode(host, config.vaapi_device);
  switch (path) {
    case 'vaapi':
    case 'opencl-vaapi': {
      const skip = familySkipReason('vaapi', host, config);
      if (skip || !node) return { skip: skip ?? 'no /dev/dri render node', listed: true };
      const chain = path === 'vaapi' ? vaapiToneMapChain() : openclOnDeviceChain('vaapi');
      return { args: testArgs(vaapiDevice(node), onDevice(chain)), device: node };
    }
    case 'qsv':
    case 'opencl-qsv': {
      if (path === 'qsv' && !input.vppQsvOptions.has('tonemap'))
        return { skip: 'vpp_qsv has no tonemap option in this build (it came with ffmpeg 7.1)', listed: false };
      const skip = familySkipReason('qsv', host, config);
      if (skip) return { skip, listed: true };
      const chain = path === 'qsv' ? qsvToneMapChain() : openclOnDeviceChain('qsv');
      return { args: testArgs(qsvDevice(host, node), onDevice(chain, true)), ...(node ? { device: node } : {}) };
    }
    case 'libplacebo':
    case 'opencl': {
      if (!anyGpu(host) && !input.tryWithoutGpu) return { skip: 'no GPU found', listed: true };
      const device =
        path === 'opencl' ? ({ kind: 'opencl' } as const) : { kind: 'vulkan' as const, cudaIndex: cudaIndexOf(host) };
      const chain = path === 'opencl' ? openclOnCpuFramesChain() : libplaceboOnCpuFramesChain();
      return { args: testArgs(uploadDeviceArgs(device), chain) };
    }
    default:
      return { skip: 'unknown path', listed: false };
  }
}

/** Error lines only ("[error] ..." / "[fatal] ..."), context prefixes removed, for pickReason. */
function errorLines(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => /\[(?:error|fatal|panic)\]\s*(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && l.length > 0)
    .join('\n');
}

/**
 * The device ffmpeg chose, from the verbose listing: Vulkan's "Device 0 selected: NVIDIA H100 (discrete) (0x2330)",
 * OpenCL's "0.0: NVIDIA CUDA / NVIDIA H100". A Vulkan device marked "(software)" is a CPU driver.
 */
export function parseDeviceName(stderr: string): { name: string; cpu: boolean } | undefined {
  const vk = /Device \d+ selected: (.+?)(?: \(0x[0-9a-f]+\))?\s*$/im.exec(stderr);
  if (vk) return { name: vk[1]!.trim(), cpu: /\(software\)|llvmpipe|lavapipe|swiftshader/i.test(vk[1]!) };
  const cl = /\]\s*(?:\[verbose\]\s*)?\d+\.\d+: (.+?)\s*$/m.exec(stderr);
  if (cl) return { name: cl[1]!, cpu: /portable computing language|pthread/i.test(cl[1]!) };
  return undefined;
}

export interface ToneMapperContext {
  runner: CommandRunner;
  ffmpeg: string;
  timeoutMs: number;
}

async function checkOne(
  ctx: ToneMapperContext,
  path: ToneMapperPath,
  input: ToneMapperProbeInput,
): Promise<ToneMapperCheck> {
  const decision = decide(path, input);
  if ('skip' in decision)
    return { name: path, listed: decision.listed, ok: false, skipped: true, reason: decision.skip, durationMs: 0 };
  const started = performance.now();
  const r = await ctx.runner(ctx.ffmpeg, decision.args, { timeoutMs: ctx.timeoutMs });
  const durationMs = Math.round(performance.now() - started);
  const found = parseDeviceName(r.stderr);
  const device = decision.device ?? found?.name;
  const base: ToneMapperCheck = {
    name: path,
    listed: true,
    ok: false,
    durationMs,
    ...(device ? { device } : {}),
    ...(found?.cpu ? { cpuDevice: true } : {}),
  };
  if (r.timedOut) return { ...base, reason: `timed out after ${formatDuration(ctx.timeoutMs)}` };
  if (r.spawnError) return { ...base, reason: r.spawnError };
  if (r.exitCode === 0) return { ...base, ok: true };
  const reason = pickReason(errorLines(r.stderr)) ?? pickReason(r.stderr);
  return { ...base, reason: reason ?? `ffmpeg exited with code ${r.exitCode ?? 'unknown'}` };
}

/**
 * Checks every path (or the given ones), in parallel up to `limit` (a device error or a hang of one must not hide
 * the others, so each path is its own run).
 */
export async function checkToneMappers(
  ctx: ToneMapperContext,
  input: ToneMapperProbeInput,
  limit: number,
  paths: readonly ToneMapperPath[] = TONE_MAPPER_PATHS,
): Promise<ToneMapperCheck[]> {
  return mapLimit(paths, limit, (p) => checkOne(ctx, p, input));
}

/**
 * The paths a job may use: verified on a real device. A CPU driver of Vulkan/OpenCL passed but is left out (no
 * faster than the CPU chain). Without a report that knows tone mappers (an old cache, run-job without a probe),
 * undefined: the planner then assumes the CPU chain and tonemap_vaapi, as before the probe learnt filters.
 */
export function usableToneMappers(checks: readonly ToneMapperCheck[] | undefined): ToneMapperPath[] | undefined {
  if (!checks) return undefined;
  return checks.filter((c) => c.ok && !c.cpuDevice).map((c) => c.name);
}
