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
import os from 'node:os';
import path from 'node:path';
import type { EncoderFamily } from '../capabilities/types.js';
import { createGpuSelector, type GpuSelector } from '../capabilities/gpu-selector.js';
import type { Config } from '../config.js';
import { FfmpegError, JobNoLongerOursError, ShutdownError, errorMessage } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import type { Job } from '../protocol/schemas.js';
import { writeJoinedPlaylists } from '../storage/playlist-join.js';
import { dropResumable, pruneResumables } from '../storage/resume-store.js';
import { watchSegmentJournal } from '../storage/segment-journal.js';
import { fingerprintSource, settingsDigest } from '../storage/source-fingerprint.js';
import { assertStagingSpace, estimateOutputBytes, removeStagingDir } from '../storage/staging.js';
import { buildFfmpegArgs } from '../transcode/args/index.js';
import { buildRangeFfmpegArgs, rangeProgressSpan } from '../transcode/args/range.js';
import { extractWholeSubtitles } from '../transcode/subtitle-extract.js';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import { startCompletenessCheck } from '../transcode/ffprobe-completeness.js';
import { hardwareFamiliesOf, planTranscode, SUBTITLE_WORK_DIR } from '../transcode/plan.js';
import type { TranscodePlan } from '../transcode/types.js';
import {
  withDeviceFailures,
  withResumable,
  type JobContext,
  type JobExecutor,
  type JobProgress,
  type JobSuccess,
} from './contract.js';
import { buildPlanOptions, planOnChosenGpu } from './plan-choice.js';
import { runPartJob } from './part-job.js';
import { partOf, stitchOf } from './part-spec.js';
import { prepareJob } from './prepare.js';
import { runStitchJob } from './stitch-job.js';
import { publishLadder, tracksMetrics } from './publish.js';
import { beginRun, journaledRenditions, type RunStart } from './resume.js';
import { keepInterrupted, type ResumeRunDeps } from './resume-keep.js';

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
    // The split-stitch/1 extension: a part of a film, or the stitch of its parts (docs/protocol.md).
    const part = partOf(job);
    if (part) return runPartJob(job, part, ctx, { config, runner, gpuSelector, now });
    const stitch = stitchOf(job);
    if (stitch) return runStitchJob(job, stitch, ctx, { config, runner, now });
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

    const { validated, probed, stagingDir, sidecars, probeDeps } = await prepareJob(job, ctx, deps);
    const source = probed.info;

    // Whether the source is whole (a second, short ffprobe) is checked beside planning and ffmpeg rather than
    // before them, so it adds no process start-up in front of the job; its verdict is awaited before anything is
    // verified.
    const completeness = startCompletenessCheck(probed, probeDeps);
    const resumeDeps: ResumeRunDeps = {
      stateDir: config.state_dir,
      tempDir: config.temp_dir,
      keepMs: config.resume_keep,
      log,
      now: () => Date.now(),
      bootTimeMs: () => Date.now() - os.uptime() * 1000,
    };
    // The run in progress (its journal of finished segments), and whether its staging stays for a resume.
    let run: RunStart | undefined;
    let keepStaging = false;
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
      let resumedFrom = 0;
      let restartReason: string | undefined;

      // Room for this job: interrupted jobs kept too long or beyond the budget go first (never this job's own).
      await pruneResumables({
        stateDir: config.state_dir,
        tempDir: config.temp_dir,
        keepMs: config.resume_keep,
        budgetBytes: config.resume_disk_budget,
        now: Date.now(),
        log,
        skipJobIds: [job.job_id],
      }).catch((err) => log.warn({ err: errorMessage(err) }, 'cannot prune the interrupted jobs kept for a resume'));
      // What the encode depends on besides the source: a resume continues only an identical encode.
      const sourceFingerprint = await fingerprintSource(validated.inputPath);
      const transcode = async (p: TranscodePlan): Promise<void> => {
        const freshArgs = buildFfmpegArgs(p);
        const settings = settingsDigest({ args: freshArgs, ffmpeg: probe?.ffmpeg?.version ?? null });
        await run?.journal.close();
        run = await beginRun(p, { jobId: job.job_id, source: sourceFingerprint, settings }, resumeDeps);
        const { from, audioFrom, total, journal } = run;
        if (run.restartReason) restartReason = run.restartReason;
        resumedFrom = from;
        await assertStagingSpace(stagingDir, Math.ceil((estimateOutputBytes(p) * (total - from)) / total));
        // ffmpeg's webvtt muxer does not create folders: the whole subtitle tracks are written here.
        if (p.subtitles.length > 0) await mkdir(path.join(stagingDir, SUBTITLE_WORK_DIR), { recursive: true });
        const range = from > 0 ? { start: from, ...(audioFrom < from ? { audioStart: audioFrom } : {}) } : undefined;
        const args = range ? buildRangeFfmpegArgs(p, range) : freshArgs;
        log.info(
          { renditions: p.renditions.map((r) => `${r.name}:${r.encoder}`), toneMap: p.toneMap, from_segment: from },
          'transcoding',
        );
        log.debug({ args }, 'ffmpeg arguments');
        const started = now();
        // Every finished segment is fsynced and journaled while ffmpeg runs (the resume point after a crash).
        const watcher = watchSegmentJournal(journal, {
          intervalMs: 1000,
          onError: (err) => log.warn({ err: errorMessage(err) }, 'cannot journal finished segments'),
        });
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
            ...(range ? { progressSpan: rangeProgressSpan(p, range) } : {}),
          });
        } finally {
          // A journal that cannot be written (state_dir full) costs the resume, never the job.
          await watcher.stop().catch((err) => log.warn({ err: errorMessage(err) }, 'cannot journal finished segments'));
          transcodeMs += now() - started;
        }
        // ffmpeg wrote EVENT playlists (a progress record); the ladder's VOD playlists come from the journal.
        await writeJoinedPlaylists({
          stagingDir,
          playlistName: p.playlistName,
          segmentType: p.segmentType,
          renditions: journaledRenditions(p).map((dir, i) => ({ dir, independentSegments: i < p.renditions.length })),
          segmentsOf: (dir) => journal.segments(dir),
        });
        if (range) await extractWholeSubtitles(p, { runner, ffmpegPath: config.ffmpeg_path, signal, log });
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

      const published = await publishLadder(plan, {
        config,
        runner,
        log,
        signal,
        onStateDirProblem: ctx.onStateDirProblem,
        report: (p) => report(p, 100),
      });
      plan = published.plan;
      const { commit } = published;
      // Done: nothing to resume any more (the staging folder goes in the finally below).
      await run?.journal.close();
      await dropResumable(config.state_dir, config.temp_dir, job.job_id);

      return {
        manifestUrl: plan.manifestUrl,
        metrics: {
          transcode_time_ms: Math.round(transcodeMs),
          commit_time_ms: Math.round(commit.durationMs),
          output_bytes: commit.bytes,
          encoders: Object.fromEntries(plan.renditions.map((r) => [r.destPath, r.encoder])),
          ...tracksMetrics(plan, published.subtitleWarnings),
          ...(fallbackReason ? { software_fallback: fallbackReason } : {}),
          ...(chosen.gpu && !fallbackReason ? { gpu_device: chosen.gpu.device, gpu_family: chosen.gpu.family } : {}),
          ...(resumedFrom > 0 || restartReason
            ? {
                resume: {
                  ...(resumedFrom > 0 ? { resumed_from_segment: resumedFrom } : {}),
                  segments_total: run?.total,
                  ...(restartReason ? { restart_reason: restartReason } : {}),
                },
              }
            : {}),
        },
      };
    } catch (err) {
      // Interruptions keep the finished segments for a resume (when there are any): a shutdown, an ffmpeg that
      // crashed, stalled or lost its device. A cancel means the job is gone, and a failure that would happen again
      // (a bad source, a refused destination, a ladder that does not verify) is no interruption: nothing is kept.
      if (run && isInterruption(err, signal)) {
        const why = signal.aborted ? errorMessage(signal.reason) : errorMessage(err);
        const info = await keepInterrupted(job.job_id, run.journal, why, resumeDeps).catch(() => undefined);
        if (info) {
          keepStaging = true;
          log.info(
            { segments_done: info.segmentsDone, total: info.segmentsTotal },
            'finished segments kept for a resume',
          );
          throw withResumable(err, info);
        }
      } else if (run) {
        await run.journal.close();
        await dropResumable(config.state_dir, config.temp_dir, job.job_id).catch(() => undefined);
      }
      throw err;
    } finally {
      // No ffprobe left behind when the job ends early (a cancel, a staging failure).
      await completeness.stop();
      if (!keepStaging) {
        const err = await removeStagingDir(stagingDir);
        if (err) log.warn({ err, stagingDir }, 'could not remove the staging folder');
      }
    }
  }
}

/** Whether a job that threw was interrupted (worth resuming) rather than failed for a reason that would recur. */
function isInterruption(err: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return !(signal.reason instanceof JobNoLongerOursError);
  return err instanceof FfmpegError || err instanceof ShutdownError;
}
