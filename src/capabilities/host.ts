/**
 * Facts about the host that decide which families are worth a test encode: CPU and RAM, graphics controllers,
 * device nodes, the Raspberry Pi model and nvidia-smi. Gathered into one plain object so tests can hand in a fake
 * host (an NVIDIA desktop, an Intel box, a Pi) without any of that hardware.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sysinfo } from '../util/sysinfo.js';
import type { CommandRunner } from '../exec/runner.js';

export interface GraphicsController {
  vendor: string;
  model: string;
}

export interface RenderNode {
  /** e.g. /dev/dri/renderD128 */
  path: string;
  /** PCI vendor id from sysfs: 0x8086 Intel, 0x1002 AMD, 0x10de NVIDIA. */
  vendorId?: string;
}

export interface NvidiaSmiGpu {
  index: string;
  name: string;
  uuid?: string;
  utilizationPercent?: number;
}

export interface HostSnapshot {
  /** process.platform: linux, win32, darwin. */
  platform: string;
  /** process.arch: x64, arm64, arm. */
  arch: string;
  cpuModel: string;
  cpuCores: number;
  ramTotalMb: number;
  graphics: GraphicsController[];
  renderNodes: RenderNode[];
  /** /dev/video* (V4L2 devices, where the Pi's M2M encoder lives). */
  videoNodes: string[];
  /** /dev/nvidia0, /dev/nvidiactl ...: present in containers given an NVIDIA GPU even when lspci is not. */
  nvidiaNodes: string[];
  /** undefined when nvidia-smi is absent or failed. */
  nvidiaSmi?: NvidiaSmiGpu[];
  /** "Raspberry Pi 4 Model B Rev 1.4" from the device tree. */
  piModel?: string;
}

export type ReadHost = () => Promise<HostSnapshot>;

async function listDev(dir: string, prefix: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names
      .filter((n) => n.startsWith(prefix))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    // The device tree terminates strings with NUL.
    const text = (await readFile(file, 'utf8')).replace(/\0/g, '').trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

async function readRenderNodes(): Promise<RenderNode[]> {
  const nodes = await listDev('/dev/dri', 'renderD');
  return Promise.all(
    nodes.map(async (p) => {
      const vendorId = await readTrimmed(path.join('/sys/class/drm', path.basename(p), 'device', 'vendor'));
      return vendorId ? { path: p, vendorId } : { path: p };
    }),
  );
}

/** Looks a program up in PATH (with PATHEXT on Windows) without running it. */
export function findInPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Parses `nvidia-smi --query-gpu=index,name,uuid,utilization.gpu --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(stdout: string): NvidiaSmiGpu[] {
  const gpus: NvidiaSmiGpu[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length < 2 || !/^\d+$/.test(cols[0]!)) continue;
    const util = Number(cols[3]);
    gpus.push({
      index: cols[0]!,
      name: cols[1]!,
      ...(cols[2] ? { uuid: cols[2] } : {}),
      ...(cols[3] !== undefined && cols[3] !== '' && Number.isFinite(util) ? { utilizationPercent: util } : {}),
    });
  }
  return gpus;
}

async function queryNvidiaSmi(runner: CommandRunner, timeoutMs: number): Promise<NvidiaSmiGpu[] | undefined> {
  const smi = findInPath('nvidia-smi');
  if (!smi) return undefined;
  const r = await runner(smi, ['--query-gpu=index,name,uuid,utilization.gpu', '--format=csv,noheader,nounits'], {
    timeoutMs,
  });
  if (r.exitCode !== 0) return undefined;
  return parseNvidiaSmi(r.stdout);
}

async function readGraphics(): Promise<GraphicsController[]> {
  try {
    const g = await sysinfo.graphics().graphics();
    return g.controllers.map((c) => ({ vendor: c.vendor ?? '', model: c.model ?? '' }));
  } catch {
    return [];
  }
}

async function readCpu(): Promise<{ model: string; cores: number }> {
  const fallback = { model: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() };
  try {
    const c = await sysinfo.cpu().cpu();
    const model = [c.manufacturer, c.brand].filter(Boolean).join(' ').trim();
    return { model: model || fallback.model, cores: c.cores || fallback.cores };
  } catch {
    return fallback;
  }
}

/** The real host. nvidia-smi goes through the runner (and only when it is in PATH, so CPU-only hosts spawn nothing). */
export function createHostReader(runner: CommandRunner, timeoutMs = 5000): ReadHost {
  return async () => {
    const linux = process.platform === 'linux';
    const [cpu, graphics, renderNodes, videoNodes, nvidiaNodes, nvidiaSmi, piModel] = await Promise.all([
      readCpu(),
      readGraphics(),
      linux ? readRenderNodes() : Promise.resolve([]),
      linux ? listDev('/dev', 'video') : Promise.resolve([]),
      linux ? listDev('/dev', 'nvidia') : Promise.resolve([]),
      queryNvidiaSmi(runner, timeoutMs),
      linux ? readTrimmed('/proc/device-tree/model') : Promise.resolve(undefined),
    ]);
    return {
      platform: process.platform,
      arch: process.arch,
      cpuModel: cpu.model,
      cpuCores: cpu.cores,
      ramTotalMb: Math.round(os.totalmem() / (1024 * 1024)),
      graphics,
      renderNodes,
      videoNodes,
      nvidiaNodes,
      ...(nvidiaSmi ? { nvidiaSmi } : {}),
      ...(piModel ? { piModel } : {}),
    };
  };
}
