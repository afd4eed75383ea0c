/**
 * The last steps of a job that publishes a ladder (a whole job or a stitch): every subtitle track cut into a
 * WebVTT rendition (or left out with a warning), the staged ladder verified (media and I-frame playlists, the
 * master, Apple's rules), then the commit to the NAS (journal, swap, marker). Nothing reaches the NAS once the
 * signal is aborted.
 */
import type { Config } from '../config.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import { CODEC_LIMITS } from '../media/codec-levels.js';
import { commitOutputs, type CommitOptions, type CommitResult } from '../storage/commit.js';
import { buildCommitSpec } from '../storage/commit-spec.js';
import type { StagedWriter } from '../storage/staged-writer.js';
import { verifyStaging } from '../storage/verify.js';
import type { TranscodePlan } from '../transcode/types.js';
import { throwIfAborted } from '../util/abortable.js';
import type { JobContext, JobProgress } from './contract.js';
import { makeSubtitleRenditions } from './subtitle-renditions.js';

export interface PublishDeps {
  config: Config;
  runner: CommandRunner;
  log: Logger;
  signal: AbortSignal;
  onStateDirProblem: JobContext['onStateDirProblem'];
  /** Told 97 once verified and 100 once committed (percent of the whole job). */
  report(p: JobProgress): void;
  /**
   * How the subtitle renditions, I-frame playlists and master are written into staging. Default: plain local
   * writes (a whole job stages in temp_dir); a stitch, staged on the NAS, passes its NasFs writer.
   */
  writer?: StagedWriter;
}

export interface Published {
  /** The plan with the subtitle tracks that made it into the ladder. */
  plan: TranscodePlan;
  commit: CommitResult;
  subtitleWarnings: string[];
}

export async function publishLadder(staged: TranscodePlan, deps: PublishDeps): Promise<Published> {
  const { config, runner, log, signal } = deps;
  throwIfAborted(signal);
  const { writer } = deps;
  const subtitles = await makeSubtitleRenditions(staged, {
    runner,
    ffmpegPath: config.ffmpeg_path,
    log,
    signal,
    writer,
  });
  const plan = { ...staged, subtitles: subtitles.kept };
  throwIfAborted(signal);
  const verified = await verifyStaging(plan, {
    runner,
    ffprobePath: config.ffprobe_path,
    signal,
    codecLimits: CODEC_LIMITS[config.hls_codec_limits],
    writer,
  });
  deps.report({ progress: 97, currentFps: 0, etaSec: 0 });
  throwIfAborted(signal);
  const commit = await commitOutputs(buildCommitSpec(plan, verified), commitOptionsOf(deps));
  deps.report({ progress: 100, currentFps: 0, etaSec: 0 });
  log.info({ bytes: commit.bytes, commitMs: Math.round(commit.durationMs) }, 'committed to the NAS');
  return { plan, commit, subtitleWarnings: subtitles.warnings };
}

/** The commit's options from the worker's config: one place for every job kind that commits (ladders, parts). */
export function commitOptionsOf(
  deps: Pick<PublishDeps, 'config' | 'log' | 'signal' | 'onStateDirProblem'>,
): CommitOptions {
  const { config } = deps;
  return {
    nasRoot: config.nas_mount_path,
    stateDir: config.state_dir,
    workerId: config.worker_id,
    concurrency: Math.max(1, config.commit_concurrency),
    log: deps.log,
    signal: deps.signal,
    onStateDirProblem: (problem) => deps.onStateDirProblem?.(problem),
  };
}

/** What the finalize says of the audio and subtitle renditions: counts, and what was left out and why. */
export function tracksMetrics(plan: TranscodePlan, subtitleWarnings: string[]) {
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
