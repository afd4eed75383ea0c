/**
 * Which GPU a job uses, decided right before the job from fresh readings, among the devices the probe verified.
 *
 * - NVIDIA: `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total` (short timeout, through the
 *   CommandRunner). Least busy first: lowest utilization.gpu, then the lowest share of memory in use (NVENC work
 *   barely shows in utilization.gpu, its sessions do show in memory), then the one this worker used least recently.
 *   When the query fails, times out or says nothing usable, the probe's choice is used (its readings from start-up)
 *   and that is logged: a missing reading never fails a job.
 * - VAAPI/QSV: a configured vaapi_device always wins. Otherwise, among the render nodes the probe verified: the
 *   lowest /sys/class/drm/renderD*\/device/gpu_busy_percent (amdgpu exposes it; i915 does not, and a node without a
 *   reading counts as UNKNOWN_BUSY_PERCENT busy), ties going to the node used least recently (round robin).
 * - Other families (V4L2, AMF, software) select no device.
 *
 * Dependencies are injected (runner, file reader, clock), so tests script two GPUs without having any.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { errorMessage } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import { chooseLeastBusyGpu } from './devices.js';
import { findInPath } from './host.js';
import type { EncoderCheck, EncoderFamily, GpuInfo, ProbeReport } from './types.js';

/** A render node with no busy reading (Intel's i915 has none) ranks as half busy: idle AMD first, a loaded one last. */
export const UNKNOWN_BUSY_PERCENT = 50;
/** nvidia-smi normally answers in ~50 ms; a hung driver must not hold the job for long. */
export const DEFAULT_QUERY_TIMEOUT_MS = 2000;

export interface DeviceChoice {
  family: EncoderFamily;
  /** What ffmpeg gets: an NVIDIA index ("1") or a render node ("/dev/dri/renderD129"). */
  device: string;
  /** Why this one, for the job log. */
  reason: string;
  utilizationPercent?: number;
}

export interface GpuSelectorDeps {
  config: Pick<Config, 'vaapi_device'>;
  runner: CommandRunner;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Reads a sysfs file; node:fs by default. */
  readFile?: (file: string) => Promise<string>;
  /** For least-recently-used ties; Date.now by default. */
  now?: () => number;
  /** nvidia-smi to run; looked up in PATH when omitted (absent: no fresh reading, the probe's choice is used). */
  nvidiaSmiPath?: string;
  queryTimeoutMs?: number;
}

export interface GpuSelector {
  /**
   * The device for the hardware `family` a job is planned on, using `encoders` (the job's encoders of that family:
   * a node qualifies only when each of them passed there). undefined: the family selects no device.
   */
  choose(
    family: EncoderFamily,
    encoders: readonly string[],
    probe: ProbeReport | undefined,
  ): Promise<DeviceChoice | undefined>;
}

export interface NvidiaUsage {
  index: string;
  utilizationPercent: number;
  memoryUsedMb?: number;
  memoryTotalMb?: number;
}

/** Parses `--query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`; "[N/A]" columns stay unknown. */
export function parseNvidiaUsage(stdout: string): NvidiaUsage[] {
  const out: NvidiaUsage[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const [index, util, used, total] = line.split(',').map((c) => c.trim());
    if (!index || !/^\d+$/.test(index) || !util || !/^\d+(\.\d+)?$/.test(util)) continue;
    const num = (v: string | undefined) => (v && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined);
    const memoryUsedMb = num(used);
    const memoryTotalMb = num(total);
    out.push({
      index,
      utilizationPercent: Number(util),
      ...(memoryUsedMb !== undefined ? { memoryUsedMb } : {}),
      ...(memoryTotalMb ? { memoryTotalMb } : {}),
    });
  }
  return out;
}

/** Devices an encoder passed on: every one tested when the probe tried several, else the one it used. */
function devicesOf(check: EncoderCheck): string[] | undefined {
  if (check.devices) return check.devices;
  return check.device ? [check.device] : undefined;
}

/**
 * Devices of `family` on which every encoder in `encoders` passed (with no encoders named: any passing encoder of
 * the family). undefined: the probe recorded no devices (NVIDIA tests let the driver pick), so every listed GPU counts.
 */
function verifiedDevices(family: EncoderFamily, encoders: readonly string[], probe: ProbeReport): string[] | undefined {
  const checks = probe.encoders.filter(
    (e) => e.family === family && e.ok && (encoders.length === 0 || encoders.includes(e.name)),
  );
  let result: string[] | undefined;
  for (const c of checks) {
    const d = devicesOf(c);
    if (!d) continue;
    if (!result) result = [...d];
    else if (encoders.length === 0) result.push(...d.filter((x) => !result!.includes(x)));
    else result = result.filter((x) => d.includes(x));
  }
  return result;
}

/** Sorts by `score` ascending, then least recently used, then the given order. */
function rank<T>(items: readonly T[], score: (t: T) => number[], lastUsed: (t: T) => number): T | undefined {
  const keyed = items.map((item, order) => ({ item, key: [...score(item), lastUsed(item), order] }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! - b.key[i]!;
    return 0;
  });
  return keyed[0]?.item;
}

export function createGpuSelector(deps: GpuSelectorDeps): GpuSelector {
  const readFile = deps.readFile ?? ((file: string) => fsReadFile(file, 'utf8'));
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const lastUsed = new Map<string, number>();
  const used = (device: string) => lastUsed.get(device) ?? -Infinity;
  const remember = (choice: DeviceChoice): DeviceChoice => {
    lastUsed.set(`${choice.family}:${choice.device}`, now());
    return choice;
  };

  async function queryNvidia(): Promise<NvidiaUsage[] | string> {
    const smi = deps.nvidiaSmiPath ?? findInPath('nvidia-smi');
    if (!smi) return 'nvidia-smi is not in PATH';
    try {
      const r = await deps.runner(
        smi,
        ['--query-gpu=index,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
        { timeoutMs },
      );
      if (r.timedOut) return `nvidia-smi did not answer within ${timeoutMs} ms`;
      if (r.spawnError) return r.spawnError;
      if (r.exitCode !== 0)
        return `nvidia-smi exited with code ${r.exitCode ?? 'unknown'}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
      const usage = parseNvidiaUsage(r.stdout);
      return usage.length > 0 ? usage : 'nvidia-smi printed no GPU readings';
    } catch (err) {
      return errorMessage(err);
    }
  }

  async function chooseNvidia(encoders: readonly string[], probe: ProbeReport): Promise<DeviceChoice | undefined> {
    const listed = probe.gpus.filter((g): g is GpuInfo & { device: string } =>
      Boolean(g.vendor === 'NVIDIA' && g.device && !g.device.startsWith('/')),
    );
    const verified = verifiedDevices('nvidia', encoders, probe);
    const gpus = verified ? listed.filter((g) => verified.includes(g.device)) : listed;
    if (gpus.length === 0) return undefined; // nothing known to address: NVENC picks its first device itself
    if (gpus.length === 1)
      return remember({ family: 'nvidia', device: gpus[0]!.device, reason: 'the only verified GPU' });
    const usage = await queryNvidia();
    const key = (d: string) => `nvidia:${d}`;
    if (typeof usage !== 'string') {
      const read = new Map(usage.map((u) => [u.index, u]));
      const fresh = gpus.filter((g) => read.has(g.device));
      const best = rank(
        fresh,
        (g) => {
          const u = read.get(g.device)!;
          const mem = u.memoryUsedMb !== undefined && u.memoryTotalMb ? u.memoryUsedMb / u.memoryTotalMb : 1;
          return [u.utilizationPercent, mem];
        },
        (g) => used(key(g.device)),
      );
      if (best) {
        const u = read.get(best.device)!;
        return remember({
          family: 'nvidia',
          device: best.device,
          reason: 'least busy by nvidia-smi',
          utilizationPercent: u.utilizationPercent,
        });
      }
      deps.log.warn(
        { gpus: gpus.map((g) => g.device) },
        "nvidia-smi listed none of the verified GPUs; using the probe's choice",
      );
    } else {
      deps.log.warn({ reason: usage }, "cannot read GPU utilization; using the probe's choice");
    }
    const fallback = chooseLeastBusyGpu(gpus, 'nvidia') ?? gpus[0]!;
    return remember({
      family: 'nvidia',
      device: fallback.device!,
      reason: "probe's choice (no fresh utilization reading)",
      ...(fallback.utilizationPercent !== undefined ? { utilizationPercent: fallback.utilizationPercent } : {}),
    });
  }

  async function readBusy(node: string): Promise<number | undefined> {
    try {
      const text = (
        await readFile(path.posix.join('/sys/class/drm', path.posix.basename(node), 'device', 'gpu_busy_percent'))
      ).trim();
      return /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
      return undefined;
    }
  }

  async function chooseRenderNode(
    family: EncoderFamily,
    encoders: readonly string[],
    probe: ProbeReport | undefined,
  ): Promise<DeviceChoice | undefined> {
    if (deps.config.vaapi_device)
      return remember({ family, device: deps.config.vaapi_device, reason: 'vaapi_device in the configuration' });
    const verified = probe ? verifiedDevices(family, encoders, probe) : undefined;
    const nodes = verified ?? probe?.gpus.filter((g) => g.device?.includes('renderD')).map((g) => g.device!) ?? [];
    if (nodes.length === 0) return undefined;
    if (nodes.length === 1) return remember({ family, device: nodes[0]!, reason: 'the only verified render node' });
    const readings = new Map(await Promise.all(nodes.map(async (n) => [n, await readBusy(n)] as const)));
    const best = rank(
      nodes,
      (n) => [readings.get(n) ?? UNKNOWN_BUSY_PERCENT],
      (n) => used(`${family}:${n}`),
    )!;
    const busy = readings.get(best);
    return remember({
      family,
      device: best,
      reason: [...readings.values()].some((v) => v !== undefined)
        ? 'least busy by gpu_busy_percent'
        : 'least recently used (no busy reading)',
      ...(busy !== undefined ? { utilizationPercent: busy } : {}),
    });
  }

  return {
    async choose(family, encoders, probe) {
      if (family === 'nvidia') return probe ? chooseNvidia(encoders, probe) : undefined;
      if (family === 'vaapi' || family === 'qsv') return chooseRenderNode(family, encoders, probe);
      return undefined;
    },
  };
}
