/**
 * What the planner may use for one job, and on which GPU: the probe report and the config make the plan options,
 * and a GPU family that can select its device is planned again on the device the selector picked right now.
 */
import os from 'node:os';
import { CODEC_LIMITS } from '../media/codec-levels.js';
import type { ProbeReport } from '../capabilities/types.js';
import type { DeviceChoice, GpuSelector } from '../capabilities/gpu-selector.js';
import { usableToneMappers } from '../capabilities/tone-mappers.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { encoderFamilyOf } from '../transcode/job-fields.js';
import { hardwareFamiliesOf, type PlanOptions } from '../transcode/plan.js';
import type { TranscodePlan } from '../transcode/types.js';

/** Encoders assumed without a probe report (run-job whose probe failed): the software ones every ffmpeg has. */
const ASSUMED_ENCODERS = ['libx264', 'libx265', 'aac'];

/** libx264/libx265 preset: "auto" means veryfast on small ARM boards (a Pi would crawl at fast), fast elsewhere. */
export function resolveSoftwarePreset(
  config: Pick<Config, 'x264_preset'>,
  arch = os.arch(),
  cores = os.cpus().length,
): string {
  if (config.x264_preset !== 'auto') return config.x264_preset;
  return arch.startsWith('arm') && cores <= 4 ? 'veryfast' : 'fast';
}

/**
 * What the planner may use on this host, from the probe report and the config. `device` is the GPU chosen for this
 * job (see capabilities/gpu-selector.ts); without one, ffmpeg's default device of the family is used.
 */
export function buildPlanOptions(
  config: Config,
  probe: ProbeReport | undefined,
  stagingDir: string,
  softwareOnly = false,
  device?: string,
): PlanOptions {
  const verifiedNames = new Set(probe ? probe.encoders.filter((e) => e.ok).map((e) => e.name) : ASSUMED_ENCODERS);
  const sessions = probe?.capabilities.max_encode_sessions ?? 0;
  const hwaccels = probe ? probe.hwaccels.filter((h) => h.ok).map((h) => h.name) : [];
  // Verified tone-mapping paths; a software-only retry (after a device error) keeps only the CPU chain.
  const toneMappers = usableToneMappers(probe?.toneMappers)?.filter((t) => !softwareOnly || t === 'cpu');
  return {
    stagingDir,
    encoders: {
      verified: (name: string) =>
        verifiedNames.has(name) && (!softwareOnly || name === 'aac' || encoderFamilyOf(name) === 'software'),
      maxSessions: softwareOnly ? 0 : sessions,
    },
    hwaccels: softwareOnly ? [] : hwaccels,
    allowSoftwareFallback: softwareOnly ? true : config.allow_software_fallback,
    softwarePreset: resolveSoftwarePreset(config),
    codecLimits: CODEC_LIMITS[config.hls_codec_limits],
    hwaccelMode: softwareOnly ? 'none' : config.hwaccel,
    ...(toneMappers ? { toneMappers } : {}),
    ...(device && !softwareOnly ? { hwDevice: device } : {}),
  };
}

/**
 * Plans the job, then, when it runs on a GPU family that can select its device, plans it again on the device the
 * selector picked right now (planning is pure and cheap).
 */
export async function planOnChosenGpu(
  selector: GpuSelector,
  plan: (device?: string) => TranscodePlan,
  probe: ProbeReport | undefined,
  log: Logger,
): Promise<{ plan: TranscodePlan; gpu?: DeviceChoice }> {
  const draft = plan();
  // A software ladder decoding on an NVIDIA GPU counts as NVIDIA: that GPU is chosen the same way.
  const family = hardwareFamiliesOf(draft)[0];
  if (!family) return { plan: draft };
  const encoders = [...new Set(draft.renditions.filter((r) => r.family === family).map((r) => r.encoder))];
  const gpu = await selector.choose(family, encoders, probe);
  if (!gpu) return { plan: draft };
  log.info({ gpu: gpu.device, family, reason: gpu.reason, utilization: gpu.utilizationPercent }, 'GPU chosen');
  return { plan: plan(gpu.device), gpu };
}
