/**
 * Turns the checks into the registration payload. Pure: the payload states only what passed a test.
 */
import type { Config } from '../config.js';
import type { Capabilities } from '../protocol/schemas.js';
import { RESOLUTION_LABELS, type ResolutionLabel } from '../media/resolutions.js';
import { HARDWARE_FAMILIES } from './encoder-table.js';
import { gpuTypeOf } from './devices.js';
import type { HostSnapshot } from './host.js';
import type { EncoderCheck, EncoderFamily, HwaccelCheck } from './types.js';

/** The hardware family the pipeline prefers: the first in HARDWARE_FAMILIES order with a passing encoder. */
export function primaryHardwareFamily(encoders: readonly EncoderCheck[]): EncoderFamily | undefined {
  return HARDWARE_FAMILIES.find((f) => encoders.some((e) => e.family === f && e.ok));
}

/** "2160p" beats "1080p"; undefined when nothing has a resolution. */
export function highestResolution(labels: readonly (string | undefined)[]): string | undefined {
  let best: number | undefined;
  for (const l of labels) {
    const i = RESOLUTION_LABELS.indexOf(l as ResolutionLabel);
    if (i >= 0 && (best === undefined || i < best)) best = i;
  }
  return best === undefined ? undefined : RESOLUTION_LABELS[best];
}

/** The lower of the verified resolution and the configured cap ("auto" = no cap). */
export function capResolution(verified: string, cap: Config['max_resolution']): string {
  if (cap === 'auto') return verified;
  return highestResolution([verified]) === undefined
    ? verified
    : RESOLUTION_LABELS[Math.max(RESOLUTION_LABELS.indexOf(verified as '720p'), RESOLUTION_LABELS.indexOf(cap))]!;
}

export interface PayloadInput {
  encoders: readonly EncoderCheck[];
  hwaccels: readonly HwaccelCheck[];
  host: HostSnapshot;
  config: Pick<Config, 'max_resolution' | 'vaapi_device'>;
  ffmpegVersion: string;
  workerVersion: string;
}

export function buildCapabilities(input: PayloadInput): Capabilities {
  const { encoders, host } = input;
  const primary = primaryHardwareFamily(encoders);
  const primaryEncoder = primary ? encoders.find((e) => e.family === primary && e.ok) : undefined;
  const verified =
    highestResolution(encoders.filter((e) => e.ok && e.family !== 'audio').map((e) => e.maxResolution)) ?? '720p';
  return {
    supported_codecs: encoders.filter((e) => e.ok).map((e) => e.name),
    has_gpu: primary !== undefined,
    // A GPU that only decodes (NVDEC on a card without NVENC, which the planner uses for software ladders) is still
    // the worker's GPU; has_gpu stays false because no hardware encoder passed.
    // VAAPI: the vendor of a render node where the encoder passed (a first node of another vendor says nothing).
    gpu_type: primary
      ? gpuTypeOf(
          primary,
          host,
          input.config.vaapi_device || primaryEncoder?.devices?.[0] || primaryEncoder?.device || '',
        )
      : input.hwaccels.some((h) => h.ok && h.name === 'cuda')
        ? 'nvidia'
        : 'none',
    max_resolution: capResolution(verified, input.config.max_resolution),
    cpu_arch: host.arch,
    cpu_cores: host.cpuCores,
    cpu_model: host.cpuModel,
    ram_total_mb: host.ramTotalMb,
    hw_decoders: input.hwaccels.filter((h) => h.ok).map((h) => h.name),
    max_encode_sessions: primaryEncoder ? (primaryEncoder.maxSessions ?? 1) : 0,
    ffmpeg_version: input.ffmpegVersion,
    worker_version: input.workerVersion,
  };
}
