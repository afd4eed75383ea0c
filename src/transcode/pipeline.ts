/**
 * The job function: validate -> ffprobe -> plan -> stage (room check) -> ffmpeg (+ completeness check of the
 * source beside it) -> verify -> commit.
 * One linear function per job; `try/finally` removes the staging folder on every outcome. Invariants:
 *  - nothing reaches the NAS once ctx.signal is aborted (JobCancelledError instead);
 *  - a hardware encoder that fails at run time with a device error is retried ONCE in software (when
 *    allow_software_fallback), and the metrics say which encoder produced each rendition.
 */
import os from 'node:os';
import type { EncoderFamily, ProbeReport } from '../capabilities/types.js';
import { createGpuSelector, type DeviceChoice, type GpuSelector } from '../capabilities/gpu-selector.js';
import type { Config } from '../config.js';
import { FfmpegError, JobCancelledError, JobValidationError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import type { Job } from '../protocol/schemas.js';
import { commitOutputs } from '../storage/commit.js';
import { ConfinementError, openNasFs } from '../storage/nas-fs.js';
import { findForeignDestination, type Destinations } from '../storage/ownership.js';
import { jobStagingDir } from '../storage/paths.js';
import { assertStagingSpace, createStagingDir, estimateOutputBytes, removeStagingDir } from '../storage/staging.js';
import { verifyStaging } from '../storage/verify.js';
import type { JobContext, JobExecutor, JobProgress, JobSuccess } from '../worker/job-executor.js';
import { buildFfmpegArgs } from './args/index.js';
import { buildCommitSpec } from '../storage/commit-spec.js';
import { runFfmpeg } from './ffmpeg.js';
import { abortReason } from '../util/abortable.js';
import { probeSourceInfo } from './ffprobe.js';
import { startCompletenessCheck } from './ffprobe-completeness.js';
import { encoderFamilyOf } from './job-fields.js';
import { hardwareFamiliesOf, planTranscode, type PlanOptions } from './plan.js';
import type { TranscodePlan } from './types.js';
import { comparablePath, validateJob, type ValidatedJob } from './validate.js';

export interface PipelineDeps {
  config: Config;
  runner: CommandRunner;
  /** The capability probe's last report; undefined before the first probe (then libx264/libx265/aac are assumed). */
  getProbe: () => ProbeReport | undefined;
  log: Logger;
  now?: () => number;
  /** Told when a hardware family failed at run time with a device error, so the lifecycle can re-probe it. */
  onDeviceError?: (family: EncoderFamily, err: FfmpegError) => void;
  /** Picks the GPU of each job (least busy, fresh reading); by default one built on `runner` and the real sysfs. */
  gpuSelector?: GpuSelector;
}

/** Share of the progress bar given to ffmpeg; verification and the commit take the rest. */
const TRANSCODE_SHARE = 95;
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
    hwaccelMode: softwareOnly ? 'none' : config.hwaccel,
    ...(device && !softwareOnly ? { hwDevice: device } : {}),
  };
}

/**
 * The commit swaps each dest_path folder as a whole, so one output's folder cannot hold another's: refuse that
 * before any work is done. Case-insensitive where the NAS folds case ("A" holds "a/720p" there).
 */
export function assertSeparateFolders(validated: Pick<ValidatedJob, 'outputs' | 'caseInsensitive'>): void {
  const key = (rel: string) => comparablePath(rel, validated.caseInsensitive);
  for (const a of validated.outputs) {
    for (const b of validated.outputs) {
      if (a !== b && key(b.destPath).startsWith(key(a.destPath) + '/')) {
        throw new JobValidationError(
          `outputs[${b.index}].dest_path = "${b.destPath}" is inside outputs[${a.index}].dest_path = "${a.destPath}"; ` +
            'each output needs its own folder, side by side',
        );
      }
    }
  }
}

/**
 * Fails the job before any work when a destination holds someone else's files (storage/ownership.ts), or when the
 * way to it goes through a symbolic link. The commit checks again: hours pass in between.
 */
export async function assertDestinationsAreOurs(
  validated: Pick<ValidatedJob, 'outputs' | 'masterDir' | 'masterPlaylistName'>,
  nasRoot: string,
): Promise<void> {
  const masterInside = validated.outputs.some((o) => o.destPath === validated.masterDir);
  const nas = await openNasFs(nasRoot);
  const checks: Array<{ where: string; dest: Destinations }> = [
    ...validated.outputs.map((o) => ({ where: o.destPath, dest: { folders: [o.destPath], master: null } })),
  ];
  if (!masterInside) {
    const master = { dirPath: validated.masterDir, name: validated.masterPlaylistName };
    checks.push({ where: `${master.dirPath}/${master.name}`, dest: { folders: [], master } });
  }
  let problem: string | null = null;
  for (const c of checks) {
    try {
      problem = await findForeignDestination(nas, c.dest);
    } catch (err) {
      if (!(err instanceof ConfinementError)) throw err;
      problem = `the destination "${c.where}" cannot be written: ${err.message}`;
    }
    if (problem) break;
  }
  if (problem) throw new JobValidationError(problem);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new JobCancelledError(abortReason(signal));
}

/**
 * Plans the job, then, when it runs on a GPU family that can select its device, plans it again on the device the
 * selector picked right now (planning is pure and cheap).
 */
async function planOnChosenGpu(
  selector: GpuSelector,
  plan: (device?: string) => TranscodePlan,
  probe: ProbeReport | undefined,
  log: JobContext['log'],
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

export function createJobExecutor(deps: PipelineDeps): JobExecutor {
  const { config, runner } = deps;
  const gpuSelector = deps.gpuSelector ?? createGpuSelector({ config, runner, log: deps.log });
  const now = deps.now ?? (() => performance.now());

  return async function executeJob(job: Job, ctx: JobContext): Promise<JobSuccess> {
    const { signal, log } = ctx;
    let reported = 0;
    // Non-decreasing even across a software retry that starts ffmpeg over.
    const report = (p: JobProgress, share = TRANSCODE_SHARE): void => {
      const progress = Math.max(reported, Math.min(100, (p.progress * share) / 100));
      reported = progress;
      ctx.onProgress({ progress, currentFps: p.currentFps, etaSec: p.etaSec });
    };

    throwIfAborted(signal);
    const validated = await validateJob(job, { nasRoot: config.nas_mount_path });
    assertSeparateFolders(validated);
    await assertDestinationsAreOurs(validated, config.nas_mount_path);
    throwIfAborted(signal);
    const shownAs = `input.source_url = ${JSON.stringify(job.input.source_url)}`;
    const probeDeps = { ffprobePath: config.ffprobe_path, runner, signal, shownAs };
    const probed = await probeSourceInfo(validated.inputPath, probeDeps);
    const source = probed.info;
    throwIfAborted(signal);

    const stagingDir = jobStagingDir(config.temp_dir, job.job_id);
    // Whether the source is whole (a second, short ffprobe) is checked beside planning and ffmpeg rather than
    // before them, so it adds no process start-up in front of the job; its verdict is awaited before anything is
    // verified.
    const completeness = startCompletenessCheck(probed, probeDeps);
    try {
      const probe = deps.getProbe();
      const chosen = await planOnChosenGpu(
        gpuSelector,
        (device) => planTranscode(validated, source, buildPlanOptions(config, probe, stagingDir, false, device)),
        probe,
        log,
      );
      let plan = chosen.plan;
      let transcodeMs = 0;
      let fallbackReason: string | undefined;

      const transcode = async (p: TranscodePlan): Promise<void> => {
        await createStagingDir(config.temp_dir, job.job_id);
        await assertStagingSpace(stagingDir, estimateOutputBytes(p));
        const args = buildFfmpegArgs(p);
        log.info({ renditions: p.renditions.map((r) => `${r.name}:${r.encoder}`), toneMap: p.toneMap }, 'transcoding');
        log.debug({ args }, 'ffmpeg arguments');
        const started = now();
        try {
          await runFfmpeg(args, {
            ffmpegPath: config.ffmpeg_path,
            // Stopped by a cancel, or as soon as the completeness check finds the source truncated.
            signal: AbortSignal.any([signal, completeness.signal]),
            durationSec: source.durationSec,
            stallTimeoutMs: config.stall_timeout,
            onProgress: (pr) => report(pr),
            onSpawn: ctx.onProcess,
            log,
          });
        } finally {
          transcodeMs += now() - started;
        }
      };

      try {
        await transcode(plan);
      } catch (err) {
        // A truncated source stops ffmpeg: report the truncation, not the stop.
        await completeness.settle(true);
        if (!(err instanceof FfmpegError) || !err.deviceError) throw err;
        const families = hardwareFamiliesOf(plan);
        for (const f of families) deps.onDeviceError?.(f, err);
        if (families.length === 0 || !config.allow_software_fallback || signal.aborted) throw err;
        fallbackReason = err.message.split('\n')[0];
        log.warn({ families, err: fallbackReason }, 'hardware encoding failed; retrying once in software');
        plan = planTranscode(validated, source, buildPlanOptions(config, deps.getProbe(), stagingDir, true));
        await transcode(plan);
      }
      await completeness.settle();

      throwIfAborted(signal);
      const verified = await verifyStaging(plan, { runner, ffprobePath: config.ffprobe_path, signal });
      report({ progress: 97, currentFps: 0, etaSec: 0 }, 100);
      throwIfAborted(signal);
      const commit = await commitOutputs(buildCommitSpec(plan, verified), {
        nasRoot: config.nas_mount_path,
        stateDir: config.state_dir,
        workerId: config.worker_id,
        concurrency: Math.max(1, config.commit_concurrency),
        log,
        signal,
        onStateDirProblem: (problem) => ctx.onStateDirProblem?.(problem),
      });
      report({ progress: 100, currentFps: 0, etaSec: 0 }, 100);
      log.info({ bytes: commit.bytes, commitMs: Math.round(commit.durationMs) }, 'committed to the NAS');

      return {
        manifestUrl: plan.manifestUrl,
        metrics: {
          transcode_time_ms: Math.round(transcodeMs),
          commit_time_ms: Math.round(commit.durationMs),
          output_bytes: commit.bytes,
          encoders: Object.fromEntries(plan.renditions.map((r) => [r.destPath, r.encoder])),
          ...(fallbackReason ? { software_fallback: fallbackReason } : {}),
          ...(chosen.gpu && !fallbackReason ? { gpu_device: chosen.gpu.device, gpu_family: chosen.gpu.family } : {}),
        },
      };
    } finally {
      // No ffprobe left behind when the job ends early (a cancel, a staging failure).
      await completeness.stop();
      const err = await removeStagingDir(stagingDir);
      if (err) log.warn({ err, stagingDir }, 'could not remove the staging folder');
    }
  };
}
