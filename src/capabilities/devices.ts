/**
 * What the host facts mean for each family: which device a test uses, why a family is skipped, which GPUs exist and
 * which one is least busy, and the gpu_type a passing family stands for. Pure.
 */
import type { Config } from '../config.js';
import type { Capabilities } from '../protocol/schemas.js';
import type { TestDevice } from './encoders.js';
import type { HostSnapshot } from './host.js';
import type { EncoderFamily, GpuInfo } from './types.js';

const VENDOR_IDS: Record<string, string> = { '0x8086': 'Intel', '0x1002': 'AMD', '0x10de': 'NVIDIA' };

function vendorIs(vendor: string, name: 'intel' | 'amd' | 'nvidia'): boolean {
  const v = vendor.toLowerCase();
  // "ATI" must be a word: "Intel Corporation" contains the letters too.
  if (name === 'amd') return /\bamd\b|advanced micro|\bati\b/.test(v);
  return v.includes(name);
}

export function hasNvidia(host: HostSnapshot): boolean {
  return (
    (host.nvidiaSmi?.length ?? 0) > 0 ||
    host.nvidiaNodes.length > 0 ||
    host.graphics.some((g) => vendorIs(g.vendor, 'nvidia'))
  );
}

/** The render node VAAPI/QSV use: the configured one, else the first found. */
export function pickRenderNode(host: HostSnapshot, configured: string): string | undefined {
  if (configured) return configured;
  return host.renderNodes[0]?.path;
}

const CONFIG_FAMILY: Record<Exclude<Config['hwaccel'], 'auto' | 'none'>, EncoderFamily> = {
  nvenc: 'nvidia',
  qsv: 'qsv',
  vaapi: 'vaapi',
  v4l2m2m: 'v4l2m2m',
};

/**
 * Why a hardware family gets no test on this host, or undefined when it should be tested. Skipping absent devices
 * keeps the probe fast and its reasons honest ("no /dev/dri render node" beats a VAAPI init error).
 */
export function familySkipReason(
  family: EncoderFamily,
  host: HostSnapshot,
  config: Pick<Config, 'hwaccel' | 'vaapi_device'>,
): string | undefined {
  if (family === 'software' || family === 'audio') return undefined;
  if (config.hwaccel === 'none') return 'hardware disabled by hwaccel=none';
  if (config.hwaccel !== 'auto' && CONFIG_FAMILY[config.hwaccel] !== family)
    return `not used: hwaccel=${config.hwaccel} in the configuration`;
  const windows = host.platform === 'win32';
  const linux = host.platform === 'linux';
  switch (family) {
    case 'nvidia':
      return hasNvidia(host) ? undefined : 'no NVIDIA GPU found (no nvidia-smi, no /dev/nvidia*, none listed)';
    case 'vaapi':
      if (!linux) return 'VAAPI exists on Linux only';
      return pickRenderNode(host, config.vaapi_device) ? undefined : 'no /dev/dri render node';
    case 'qsv':
      if (windows) return host.graphics.some((g) => vendorIs(g.vendor, 'intel')) ? undefined : 'no Intel GPU found';
      if (!linux) return 'QSV exists on Linux and Windows only';
      return pickRenderNode(host, config.vaapi_device) ? undefined : 'no /dev/dri render node';
    case 'v4l2m2m':
      if (!linux) return 'V4L2 exists on Linux only';
      return host.videoNodes.length > 0 ? undefined : 'no /dev/video* V4L2 device';
    case 'amf':
      if (!windows) return 'AMF is used on Windows only';
      return host.graphics.some((g) => vendorIs(g.vendor, 'amd')) ? undefined : 'no AMD GPU found';
    default:
      return undefined;
  }
}

/**
 * Render nodes a VAAPI/QSV candidate is verified on one by one: all of them when Linux exposes several and none is
 * configured (a configured vaapi_device is the only one ever used). undefined: the single-device test applies.
 */
export function renderNodesToTest(
  family: EncoderFamily,
  host: HostSnapshot,
  vaapiDevice: string,
): string[] | undefined {
  if ((family !== 'vaapi' && family !== 'qsv') || vaapiDevice || host.platform !== 'linux') return undefined;
  return host.renderNodes.length > 1 ? host.renderNodes.map((n) => n.path) : undefined;
}

export function testDeviceFor(family: EncoderFamily, host: HostSnapshot, vaapiDevice: string): TestDevice {
  if (family !== 'vaapi' && family !== 'qsv') return {};
  const node = pickRenderNode(host, vaapiDevice);
  return node ? { renderNode: node } : {};
}

/** Every GPU we can address: NVIDIA ones by index (nvidia-smi), others by render node, else what systeminformation lists. */
export function listGpus(host: HostSnapshot): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const g of host.nvidiaSmi ?? []) {
    gpus.push({
      vendor: 'NVIDIA',
      model: g.name,
      device: g.index,
      ...(g.utilizationPercent !== undefined ? { utilizationPercent: g.utilizationPercent } : {}),
    });
  }
  for (const node of host.renderNodes) {
    const vendor = (node.vendorId && VENDOR_IDS[node.vendorId.toLowerCase()]) ?? 'unknown';
    // NVIDIA render nodes are already listed by index above.
    if (vendor === 'NVIDIA' && gpus.some((g) => g.vendor === 'NVIDIA')) continue;
    const controller = host.graphics.find(
      (c) => vendor !== 'unknown' && vendorIs(c.vendor, vendor.toLowerCase() as 'intel'),
    );
    gpus.push({ vendor, model: controller?.model ?? '', device: node.path });
  }
  if (gpus.length === 0) {
    for (const c of host.graphics) gpus.push({ vendor: c.vendor, model: c.model });
  }
  return gpus;
}

/**
 * The GPU a job should use for a family that can select its device: the lowest known utilization, ties and unknowns
 * keeping list order (a GPU without a reading is assumed as busy as the busiest known one is not: it goes last).
 */
export function chooseLeastBusyGpu(gpus: readonly GpuInfo[], family: EncoderFamily): GpuInfo | undefined {
  const usable = gpus.filter((g) => {
    if (!g.device) return false;
    if (family === 'nvidia') return g.vendor === 'NVIDIA' && !g.device.startsWith('/');
    if (family === 'vaapi' || family === 'qsv') return g.device.includes('renderD');
    return false;
  });
  let best: GpuInfo | undefined;
  for (const g of usable) {
    if (!best) best = g;
    else if ((g.utilizationPercent ?? Infinity) < (best.utilizationPercent ?? Infinity)) best = g;
  }
  return best;
}

/** gpu_type of a passing hardware family. VAAPI is vendor-neutral: the render node's vendor decides. */
export function gpuTypeOf(family: EncoderFamily, host: HostSnapshot, vaapiDevice: string): Capabilities['gpu_type'] {
  switch (family) {
    case 'nvidia':
      return 'nvidia';
    case 'qsv':
      return 'intel';
    case 'amf':
      return 'amd';
    case 'v4l2m2m':
      // The protocol only names the Pi among V4L2 boards; other SoCs report has_gpu with gpu_type "none".
      return host.piModel?.toLowerCase().includes('raspberry pi') ? 'raspberrypi' : 'none';
    case 'vaapi': {
      const nodePath = pickRenderNode(host, vaapiDevice);
      const node = host.renderNodes.find((n) => n.path === nodePath);
      const vendor = node?.vendorId ? VENDOR_IDS[node.vendorId.toLowerCase()] : undefined;
      if (vendor === 'Intel') return 'intel';
      if (vendor === 'AMD') return 'amd';
      if (vendor === 'NVIDIA') return 'nvidia';
      if (host.graphics.some((g) => vendorIs(g.vendor, 'intel'))) return 'intel';
      if (host.graphics.some((g) => vendorIs(g.vendor, 'amd'))) return 'amd';
      return 'none';
    }
    default:
      return 'none';
  }
}
