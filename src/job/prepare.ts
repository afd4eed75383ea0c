/**
 * The first steps of every job kind (a whole ladder, a part, a stitch): the job's meaning validated, its
 * destinations checked as ours, the source probed (allowlisted container, file protocol) and its subtitle files
 * found. Nothing is written anywhere yet.
 */
import type { Config } from '../config.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Job } from '../protocol/schemas.js';
import { jobStagingDir } from '../storage/paths.js';
import { probeSourceInfo, type ProbedSource } from '../transcode/ffprobe.js';
import type { SidecarSubtitle } from '../transcode/plan-subtitles.js';
import type { ValidatedJob } from '../transcode/validated-job.js';
import { throwIfAborted } from '../util/abortable.js';
import type { JobContext } from './contract.js';
import { assertDestinationsAreOurs } from './destinations.js';
import { findSidecars } from './sidecars.js';
import { assertStagingDirUsable, validateJob } from './validate.js';

export interface PreparedJob {
  validated: ValidatedJob;
  probed: ProbedSource;
  /** The local staging folder of this job (temp_dir/jobs/<id>). */
  stagingDir: string;
  sidecars: SidecarSubtitle[];
  probeDeps: { ffprobePath: string; runner: CommandRunner; signal: AbortSignal; shownAs: string };
}

export async function prepareJob(
  job: Job,
  ctx: Pick<JobContext, 'signal' | 'log'>,
  deps: { config: Config; runner: CommandRunner },
): Promise<PreparedJob> {
  const { config, runner } = deps;
  const { signal, log } = ctx;
  throwIfAborted(signal);
  const validated = await validateJob(job, { nasRoot: config.nas_mount_path });
  const stagingDir = jobStagingDir(config.temp_dir, job.job_id);
  assertStagingDirUsable(stagingDir);
  await assertDestinationsAreOurs(validated, config.nas_mount_path);
  throwIfAborted(signal);
  const shownAs = `input.source_url = ${JSON.stringify(job.input.source_url)}`;
  const probeDeps = { ffprobePath: config.ffprobe_path, runner, signal, shownAs };
  const probed = await probeSourceInfo(validated.inputPath, probeDeps);
  const sidecars = validated.subtitles.sidecars
    ? await findSidecars({
        nasRoot: config.nas_mount_path,
        inputPath: validated.inputPath,
        caseInsensitive: validated.caseInsensitive,
        onSkip: (file, why) => log.warn({ file }, `sidecar subtitle skipped: ${why}`),
      })
    : [];
  throwIfAborted(signal);
  return { validated, probed, stagingDir, sidecars, probeDeps };
}
