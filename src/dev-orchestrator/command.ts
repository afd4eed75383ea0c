/**
 * `transcode-worker dev-orchestrator`: runs the reference orchestrator until SIGINT/SIGTERM (or `signal`).
 * With `jobsFile`, enqueues the jobs of a JSON file (one job, an array of jobs, or {"jobs": [...]}) at start.
 */
import { readFile } from 'node:fs/promises';
import { parseDuration } from '../config-formats.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkSchema } from '../protocol/validate.js';
import { EnqueueJobRequest } from './operator-schemas.js';
import { startDevOrchestrator, type DevSplitOptions, type RunningDevOrchestrator } from './server.js';
import { isRefusal } from './store.js';

export const DEV_ORCHESTRATOR_DEFAULT_PORT = 8080;

export interface DevOrchestratorCommandOptions {
  host?: string;
  /** Default 8080, the worker's default orchestrator_url. */
  port?: number;
  authToken?: string;
  log: Logger;
  /** JSON file of jobs to enqueue at start. */
  jobsFile?: string;
  /** Stops the orchestrator when aborted (tests, embedding); SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
  /** Called once listening, e.g. to print the URL. */
  onListening?: (orch: RunningDevOrchestrator) => void;
  /** --split-min-duration (seconds), --nas-root, --ffprobe-path: the split policy; absent: off. */
  split?: DevSplitOptions;
}

/**
 * The split policy from the command line: --split-min-duration ("20m", "90s"...) turns it on and then needs
 * --nas-root (where source_url is found for ffprobe); --ffprobe-path defaults to "ffprobe". Undefined: off.
 */
export function splitOptionsFromFlags(flags: {
  splitMinDuration?: string;
  nasRoot?: string;
  ffprobePath?: string;
}): DevSplitOptions | undefined {
  if (flags.splitMinDuration === undefined) {
    if (flags.nasRoot !== undefined)
      throw new ConfigError('--nas-root is only used with --split-min-duration (to read source durations)');
    return undefined;
  }
  let ms: number;
  try {
    ms = parseDuration(flags.splitMinDuration);
  } catch (err) {
    throw new ConfigError(
      `invalid --split-min-duration = ${JSON.stringify(flags.splitMinDuration)}: ${(err as Error).message}`,
    );
  }
  if (!(ms > 0)) throw new ConfigError('--split-min-duration must be more than 0');
  if (!flags.nasRoot)
    throw new ConfigError('--split-min-duration needs --nas-root <dir>: the NAS root where source_url files are read');
  return { minDurationSec: ms / 1000, nasRoot: flags.nasRoot, ffprobePath: flags.ffprobePath || 'ffprobe' };
}

/** Reads and validates a jobs file. Throws ConfigError naming the file and the bad entry. */
export async function readJobsFile(file: string): Promise<EnqueueJobRequest[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`cannot read jobs file ${file}: ${why}`);
  }
  const list = Array.isArray(data) ? data : data && typeof data === 'object' && 'jobs' in data ? data.jobs : [data];
  if (!Array.isArray(list)) throw new ConfigError(`jobs file ${file}: "jobs" must be an array`);
  list.forEach((job: unknown, i: number) => {
    const problem = checkSchema(EnqueueJobRequest, job);
    if (problem) throw new ConfigError(`jobs file ${file}: job #${i + 1} is invalid: ${problem}`);
  });
  return list as EnqueueJobRequest[];
}

export async function runDevOrchestratorCommand(opts: DevOrchestratorCommandOptions): Promise<void> {
  const jobs = opts.jobsFile ? await readJobsFile(opts.jobsFile) : [];
  const orch = await startDevOrchestrator({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? DEV_ORCHESTRATOR_DEFAULT_PORT,
    authToken: opts.authToken || undefined,
    log: opts.log.child({ component: 'dev-orchestrator' }),
    split: opts.split,
  });
  if (opts.split)
    opts.log.info(
      { split_min_duration_s: opts.split.minDurationSec, nas_root: opts.split.nasRoot },
      'split policy on: longer sources are cut into parts for workers with split-stitch/1',
    );
  for (const job of jobs) {
    const rec = await orch.enqueue(job);
    if (isRefusal(rec)) opts.log.warn({ job_id: job.job_id }, `job not enqueued: ${rec.message}`);
    else opts.log.info({ job_id: rec.job_id }, 'job enqueued');
  }
  opts.log.info(
    { url: orch.url, auth: Boolean(opts.authToken) },
    `dev orchestrator listening on ${orch.url} (in memory: everything is forgotten on restart)`,
  );
  opts.onListening?.(orch);

  await new Promise<void>((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      opts.signal?.removeEventListener('abort', onAbort);
      opts.log.info(`dev orchestrator stopping (${why})`);
      resolve();
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    const onAbort = () => stop('aborted');
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    if (opts.signal?.aborted) stop('aborted');
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  await orch.close();
}
