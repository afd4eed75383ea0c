/**
 * The job function: validate -> ffprobe -> plan -> stage (room check) -> ffmpeg (+ completeness check of the
 * source beside it) -> verify -> commit.
 * One linear function per job; `try/finally` removes the staging folder on every outcome. Invariants:
 *  - nothing reaches the NAS once ctx.signal is aborted (JobCancelledError instead);
 *  - a hardware encoder that fails at run time with a device error is retried ONCE in software (when
 *    allow_software_fallback), and the metrics say which encoder produced each rendition;
 *  - every hardware family that failed with a device error is told to the caller in the outcome (contract.ts),
 *    whether the job then succeeded or failed: the caller decides what to do about that hardware.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { EncoderFamily } from '../capabilities/types.js';
import { CODEC_LIMITS } from '../media/codec-levels.js';
import { createGpuSelector, type GpuSelector } from '../capabilities/gpu-selector.js';
import type { Config } from '../config.js';
import { FfmpegError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import type { Job } from '../protocol/schemas.js';
import { commitOutputs } from '../storage/commit.js';
import { finalizeEventPlaylists } from '../storage/event-playlist.js';
import { buildCommitSpec } from '../storage/commit-spec.js';
import { jobStagingDir } from '../storage/paths.js';
import { assertStagingSpace, createStagingDir, estimateOutputBytes, removeStagingDir } from '../storage/staging.js';
import { verifyStaging } from '../storage/verify.js';
import { buildFfmpegArgs } from '../transcode/args/index.js';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import { throwIfAborted } from '../util/abortable.js';
import { probeSourceInfo } from '../transcode/ffprobe.js';
import { startCompletenessCheck } from '../transcode/ffprobe-completeness.js';
import { allAudioRenditions } from '../transcode/plan-audio.js';
import { hardwareFamiliesOf, planTranscode, SUBTITLE_WORK_DIR } from '../transcode/plan.js';
import type { TranscodePlan } from '../transcode/types.js';
import {
  withDeviceFailures,
  type JobContext,
  type JobExecutor,
  type JobProgress,
  type JobSuccess,
} from './contract.js';
import { assertDestinationsAreOurs } from './destinations.js';
import { findSidecars } from './sidecars.js';
import { makeSubtitleRenditions } from './subtitle-renditions.js';
import { buildPlanOptions, planOnChosenGpu } from './plan-choice.js';
import { assertStagingDirUsable, validateJob } from './validate.js';

export interface PipelineDeps {
  config: Config;
  runner: CommandRunner;
  log: Logger;
  now?: () => number;
  /** Picks the GPU of each job (least busy, fresh reading); by default one built on `runner` and the real sysfs. */
  gpuSelector?: GpuSelector;
}

/** Share of the progress bar given to ffmpeg; verification and the commit take the rest. */
const TRANSCODE_SHARE = 95;

export function createJobExecutor(deps: PipelineDeps): JobExecutor {
  const { config, runner } = deps;
  const gpuSelector = deps.gpuSelector ?? createGpuSelector({ config, runner, log: deps.log });
  const now = deps.now ?? (() => performance.now());

  return async function executeJob(job: Job, ctx: JobContext): Promise<JobSuccess> {
    // The hardware families that failed under this job, told to the caller on every outcome.
    const deviceFailures: EncoderFamily[] = [];
    try {
      const success = await runJob(job, ctx, deviceFailures);
      return deviceFailures.length > 0 ? { ...success, deviceFailures } : success;
    } catch (err) {
      throw deviceFailures.length > 0 ? withDeviceFailures(err, deviceFailures) : err;
    }
  };

  async function runJob(job: Job, ctx: JobContext, deviceFailures: EncoderFamily[]): Promise<JobSuccess> {
    const { signal, log, probe } = ctx;
    let reported = 0;
    // Non-decreasing even across a software retry that starts ffmpeg over.
    const report = (p: JobProgress, share = TRANSCODE_SHARE): void => {
      const progress = Math.max(reported, Math.min(100, (p.progress * share) / 100));
      reported = progress;
      ctx.onProgress({ progress, currentFps: p.currentFps, etaSec: p.etaSec });
    };

    throwIfAborted(signal);
    const validated = await validateJob(job, { nasRoot: config.nas_mount_path });
    const stagingDir = jobStagingDir(config.temp_dir, job.job_id);
    assertStagingDirUsable(stagingDir);
    await assertDestinationsAreOurs(validated, config.nas_mount_path);
    throwIfAborted(signal);
    const shownAs = `input.source_url = ${JSON.stringify(job.input.source_url)}`;
    const probeDeps = { ffprobePath: config.ffprobe_path, runner, signal, shownAs };
    const probed = await probeSourceInfo(validated.inputPath, probeDeps);
    const source = probed.info;
    const sidecars = validated.subtitles.sidecars
      ? await findSidecars({
          nasRoot: config.nas_mount_path,
          inputPath: validated.inputPath,
          caseInsensitive: validated.caseInsensitive,
          onSkip: (file, why) => log.warn({ file }, `sidecar subtitle skipped: ${why}`),
        })
      : [];
    throwIfAborted(signal);

    // Whether the source is whole (a second, short ffprobe) is checked beside planning and ffmpeg rather than
    // before them, so it adds no process start-up in front of the job; its verdict is awaited before anything is
    // verified.
    const completeness = startCompletenessCheck(probed, probeDeps);
    try {
      const chosen = await planOnChosenGpu(
        gpuSelector,
        (device) =>
          planTranscode(validated, source, {
            ...buildPlanOptions(config, probe, stagingDir, false, device),
            sidecars,
          }),
        probe,
        log,
      );
      let plan = chosen.plan;
      if (plan.segmentType !== validated.segmentType)
        log.warn(
          { asked: validated.segmentType, used: plan.segmentType },
          'HEVC is carried in fMP4 segments only: the ladder is written as fMP4',
        );
      let transcodeMs = 0;
      let fallbackReason: string | undefined;

      const transcode = async (p: TranscodePlan): Promise<void> => {
        await createStagingDir(config.temp_dir, job.job_id);
        await assertStagingSpace(stagingDir, estimateOutputBytes(p));
        // ffmpeg's webvtt muxer does not create folders: the whole subtitle tracks are written here.
        if (p.subtitles.length > 0) await mkdir(path.join(stagingDir, SUBTITLE_WORK_DIR), { recursive: true });
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
            priority: config.process_priority,
            onProgress: (pr) => report(pr),
            onSpawn: ctx.onProcess,
            log,
          });
        } finally {
          transcodeMs += now() - started;
        }
        // ffmpeg wrote EVENT playlists (a record of finished segments while it ran); the ladder is VOD.
        const dirs = [...p.renditions.map((r) => r.variantDir), ...allAudioRenditions(p.audioGroups).map((a) => a.dir)];
        await finalizeEventPlaylists(p.stagingDir, dirs, p.playlistName);
      };

      try {
        await transcode(plan);
      } catch (err) {
        // A truncated source stops ffmpeg: report the truncation, not the stop.
        await completeness.settle(true);
        if (!(err instanceof FfmpegError) || !err.deviceError) throw err;
        const families = hardwareFamiliesOf(plan);
        deviceFailures.push(...families);
        if (families.length === 0 || !config.allow_software_fallback || signal.aborted) throw err;
        fallbackReason = err.message.split('\n')[0];
        log.warn({ families, err: fallbackReason }, 'hardware encoding failed; retrying once in software');
        plan = planTranscode(validated, source, { ...buildPlanOptions(config, probe, stagingDir, true), sidecars });
        await transcode(plan);
      }
      await completeness.settle();

      throwIfAborted(signal);
      const subtitles = await makeSubtitleRenditions(plan, { runner, ffmpegPath: config.ffmpeg_path, log, signal });
      plan = { ...plan, subtitles: subtitles.kept };
      throwIfAborted(signal);
      const verified = await verifyStaging(plan, {
        runner,
        ffprobePath: config.ffprobe_path,
        signal,
        codecLimits: CODEC_LIMITS[config.hls_codec_limits],
      });
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
          ...tracksMetrics(plan, subtitles.warnings),
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
  }
}

/** What the finalize says of the audio and subtitle renditions: counts, and what was left out and why. */
function tracksMetrics(plan: TranscodePlan, subtitleWarnings: string[]) {
  return {
    audio_renditions: plan.audioGroups.reduce((n, g) => n + g.renditions.length, 0),
    subtitle_renditions: plan.subtitles.length,
    ...(plan.skippedSubtitles.length > 0
      ? {
          skipped_subtitles: plan.skippedSubtitles.map((s) => ({
            stream_index: s.index,
            codec: s.codec,
            ...(s.language ? { language: s.language } : {}),
            reason: s.reason,
          })),
        }
      : {}),
    ...(subtitleWarnings.length > 0 ? { subtitle_warnings: subtitleWarnings } : {}),
  };
}
