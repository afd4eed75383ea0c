/**
 * Fakes for capability probing, for the hardware that cannot exist here: a CommandRunner that answers like an ffmpeg
 * build on a given host (listings, test encodes, sessions, decodes), and host facts (an NVIDIA desktop, an Intel box,
 * a Raspberry Pi 4). Every call is recorded so tests can assert argv and count runs.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CommandRunner, RunOptions, RunResult } from '../../src/exec/runner.js';
import type { HostSnapshot } from '../../src/capabilities/host.js';
import type { ProberDeps } from '../../src/capabilities/probe.js';

export interface EncodeRequest {
  /** Encoder under test (-c:v / -c:a), or the decoder for hwaccel tests. */
  encoder?: string;
  /** Every encoder of the run: several for the software batch, N times the same one for a session test. */
  encoders: string[];
  width?: number;
  height?: number;
  /** Outputs in one process (session test); 1 for a plain test encode. */
  sessions: number;
  /** -hwaccel value, or "v4l2m2m" when the h264_v4l2m2m decoder is selected. */
  hwaccel?: string;
  /** The H.264 sample being written (not a test). */
  isSample: boolean;
  args: readonly string[];
}

/** What a fake ffmpeg does for one run: succeed, fail with stderr, or hang until the runner's timeout. */
export type FakeOutcome = 'ok' | 'hang' | { stderr: string; exitCode?: number };

export interface FakeFfmpegOptions {
  version?: string;
  encoders: readonly string[];
  hwaccels?: readonly string[];
  decoders?: readonly string[];
  /** Decides every test encode/decode; default 'ok'. */
  run?: (req: EncodeRequest) => FakeOutcome;
  /** ffmpeg path that does not exist (spawn fails). */
  missing?: boolean;
}

export interface Call {
  command: string;
  args: readonly string[];
}

function encodersListing(names: readonly string[]): string {
  const rows = names.map((n) => ` ${n === 'aac' ? 'A' : 'V'}..... ${n.padEnd(20)} fake ${n}`);
  return ['Encoders:', ' V..... = Video', ' ------', ...rows, ''].join('\n');
}

function decodersListing(names: readonly string[]): string {
  return ['Decoders:', ' ------', ...names.map((n) => ` V....D ${n.padEnd(20)} fake ${n}`), ''].join('\n');
}

export function describeRequest(args: readonly string[]): EncodeRequest {
  const valueAfter = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const inputIndex = args.indexOf('-i');
  const lastInput = args.lastIndexOf('-i');
  const beforeInput = args.slice(0, inputIndex);
  const size = /s=(\d+)x(\d+)/.exec(args.find((a) => a.startsWith('color=')) ?? '');
  const encoders = args.flatMap((a, i) => ((a === '-c:v' || a === '-c:a') && i > lastInput ? [args[i + 1]!] : []));
  const hwaccel = valueAfter('-hwaccel') ?? (beforeInput.includes('h264_v4l2m2m') ? 'v4l2m2m' : undefined);
  return {
    ...(encoders[0] ? { encoder: encoders[0] } : {}),
    encoders,
    ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}),
    // Outputs of the same encoder (a session test); the software batch has several encoders and counts as 1.
    sessions: new Set(encoders).size > 1 ? 1 : Math.max(1, args.filter((a) => a === '-map').length),
    ...(hwaccel ? { hwaccel } : {}),
    isSample: args.at(-1) !== '-' && args.includes('libx264'),
    args,
  };
}

const OK: RunResult = { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1 };

export function createFakeFfmpeg(opts: FakeFfmpegOptions): { runner: CommandRunner; calls: Call[] } {
  const calls: Call[] = [];
  const version = opts.version ?? '6.1.1';
  const runner: CommandRunner = async (command: string, args: readonly string[], runOpts: RunOptions = {}) => {
    calls.push({ command, args: [...args] });
    if (opts.missing) return { ...OK, exitCode: undefined, spawnError: `${command}: not found` };
    const program = path.basename(command).startsWith('ffprobe') ? 'ffprobe' : 'ffmpeg';
    if (args[0] === '-version') return { ...OK, stdout: `${program} version ${version} Copyright (c) fake\n` };
    if (args.includes('-encoders')) return { ...OK, stdout: encodersListing(opts.encoders) };
    if (args.includes('-decoders')) return { ...OK, stdout: decodersListing(opts.decoders ?? []) };
    if (args.includes('-hwaccels'))
      return { ...OK, stdout: ['Hardware acceleration methods:', ...(opts.hwaccels ?? []), ''].join('\n') };
    const req = describeRequest(args);
    const distinct = [...new Set(req.encoders)];
    // The software batch fails like ffmpeg does: as soon as one of its encoders fails.
    const outcomes =
      distinct.length > 1
        ? distinct.map((e) => opts.run?.({ ...req, encoder: e, encoders: [e], sessions: 1 }) ?? 'ok')
        : [opts.run?.(req) ?? 'ok'];
    const outcome = outcomes.find((o) => o !== 'ok') ?? 'ok';
    if (outcome === 'ok') return OK;
    if (outcome === 'hang') {
      // Behaves like the real runner: the process is killed when the timeout passes.
      await new Promise((resolve) => setTimeout(resolve, runOpts.timeoutMs ?? 1000));
      return { ...OK, exitCode: undefined, timedOut: true };
    }
    return { ...OK, exitCode: outcome.exitCode ?? 1, stderr: outcome.stderr };
  };
  return { runner, calls };
}

/** Test encodes and decodes among the calls (not -version, not listings, not writing the H.264 sample). */
export function testRuns(calls: readonly Call[]): EncodeRequest[] {
  return calls
    .filter((c) => c.args[0] !== '-version' && c.args.includes('-f'))
    .map((c) => describeRequest(c.args))
    .filter((r) => !r.isSample);
}

export const CPU_ONLY_HOST: HostSnapshot = {
  platform: 'linux',
  arch: 'x64',
  cpuModel: 'AMD Ryzen 7 5800X',
  cpuCores: 16,
  ramTotalMb: 32000,
  graphics: [],
  renderNodes: [],
  videoNodes: [],
  nvidiaNodes: [],
};

export const NVIDIA_DESKTOP: HostSnapshot = {
  ...CPU_ONLY_HOST,
  graphics: [{ vendor: 'NVIDIA Corporation', model: 'GeForce RTX 3060' }],
  renderNodes: [{ path: '/dev/dri/renderD128', vendorId: '0x10de' }],
  nvidiaNodes: ['/dev/nvidia0', '/dev/nvidiactl'],
  nvidiaSmi: [{ index: '0', name: 'NVIDIA GeForce RTX 3060', uuid: 'GPU-1', utilizationPercent: 7 }],
};

export const INTEL_BOX: HostSnapshot = {
  ...CPU_ONLY_HOST,
  cpuModel: 'Intel Core i5-8500T',
  cpuCores: 6,
  ramTotalMb: 16000,
  graphics: [{ vendor: 'Intel Corporation', model: 'UHD Graphics 630' }],
  renderNodes: [{ path: '/dev/dri/renderD128', vendorId: '0x8086' }],
};

export const RASPBERRY_PI_4: HostSnapshot = {
  ...CPU_ONLY_HOST,
  arch: 'arm64',
  cpuModel: 'ARM Cortex-A72',
  cpuCores: 4,
  ramTotalMb: 3800,
  videoNodes: ['/dev/video10', '/dev/video11', '/dev/video12'],
  piModel: 'Raspberry Pi 4 Model B Rev 1.4',
};

/** A GeForce that lspci sees, with no driver loaded (no nvidia-smi, no /dev/nvidia*). */
export const NVIDIA_WITHOUT_DRIVER: HostSnapshot = {
  ...CPU_ONLY_HOST,
  graphics: [{ vendor: 'NVIDIA Corporation', model: 'GeForce GTX 1650' }],
};

const silentLog = { info() {}, warn() {}, debug() {} } as unknown as ProberDeps['log'];

/** Prober dependencies for a fake host, with a fresh state_dir; setHost changes the host between probes. */
export async function fakeProberDeps(
  runner: CommandRunner,
  host: HostSnapshot,
  config: Partial<ProberDeps['config']> = {},
): Promise<{ deps: ProberDeps; setHost: (h: HostSnapshot) => void }> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'caps-'));
  let current = host;
  const deps: ProberDeps = {
    config: {
      ffmpeg_path: 'ffmpeg',
      ffprobe_path: 'ffprobe',
      hwaccel: 'auto',
      vaapi_device: '',
      max_resolution: 'auto',
      probe_timeout: 5000,
      state_dir: stateDir,
      ...config,
    },
    runner,
    log: silentLog,
    workerVersion: '1.2.3',
    host: async () => current,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };
  return { deps, setHost: (h) => (current = h) };
}
