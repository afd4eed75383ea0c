/**
 * `transcode-worker run-job job.json`: one job spec through the same pipeline, no orchestrator. Progress goes to
 * stderr (a bar on a terminal, plain lines otherwise), the finalize payload as JSON to stdout.
 * Exit codes: 0 COMPLETED, 1 FAILED, 2 bad job file or bad --part/--stitch flags, 3 (--stitch only) some parts are
 * not committed yet: nothing was stitched, try again later (docker/k3s/split-job waits on it). An interrupted job (SIGINT/SIGTERM) is a FAILED job like any
 * other for a script that reads the payload: ffmpeg is stopped, staging removed, nothing committed, exit 1.
 */
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { ProbeReport } from '../capabilities/types.js';
import { configSecrets, type Config } from '../config.js';
import { JobCancelledError, errorMessage } from '../errors.js';
import { execaRunner, type CommandRunner } from '../exec/runner.js';
import { createLogger, type Logger } from '../log.js';
import type { FinalizeRequest, Job } from '../protocol/schemas.js';
import type { JobExecutor, JobProgress } from './contract.js';
import { parseAssignedJob } from './parse-job.js';
import { applySplitRole, parseSplitFlags, SplitFlagError, type SplitFlags, type SplitRole } from './part-flags.js';
import { PartsMissingError } from './parts-missing-error.js';
import { createJobExecutor } from './pipeline.js';

export interface RunJobCommandOptions {
  file: string;
  config: Config;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  isTTY: boolean;
  runner?: CommandRunner;
  /** The capability probe's report, read once when the job starts; none: libx264/libx265/aac are assumed. */
  getProbe?: () => ProbeReport | undefined;
  /**
   * Aborts the job: the CLI's, aborted by SIGINT/SIGTERM with interruptedReason() and armed before the capability
   * probe, so a Ctrl-C at any moment ends in the same FAILED payload. None: the job runs to its end.
   */
  signal?: AbortSignal;
  log?: Logger;
  /** --part / --part-count / --stitch as given; none: the whole job. */
  split?: SplitFlags;
  /** The executor to run the job with; default the pipeline's (createJobExecutor), which dispatches parts/stitches. */
  executor?: JobExecutor;
  /** Where --part (no INDEX/COUNT) and --stitch read JOB_COMPLETION_INDEX and TW_PART_COUNT; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export const EXIT_COMPLETED = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_FILE = 2;
/** --stitch: some parts are not committed yet; nothing was changed, a later try may succeed. */
export const EXIT_PARTS_MISSING = 3;

/** The error_msg of a job stopped by a signal (and the abort reason to pass for one). */
export function interruptedReason(signal: NodeJS.Signals): string {
  return `interrupted by ${signal}; nothing was committed`;
}

/** Reads and parses the job file (the same parse as an assigned job's); returns the job or a one-line problem. */
export async function readJobFile(file: string): Promise<{ job: Job } | { problem: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problem: `cannot read job file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? errorMessage(err))}`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { problem: `job file ${file} is not valid JSON: ${errorMessage(err)}` };
  }
  const parsed = parseAssignedJob(data);
  if (!parsed.ok) return { problem: `job file ${file} is not a valid job: ${parsed.problem}` };
  return { job: parsed.job };
}

interface ProgressView {
  update(p: JobProgress): void;
  stop(): void;
}

function createProgressView(err: NodeJS.WritableStream, isTTY: boolean): ProgressView {
  if (isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: err,
        format: 'transcoding [{bar}] {percentage}% | {fps} fps | ETA {eta_job}s',
        hideCursor: true,
        // The caller decided this is a terminal (isTTY); render even if the stream object does not say so.
        noTTYOutput: true,
        notTTYSchedule: 500,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0, { fps: 0, eta_job: '?' });
    return {
      update: (p) => bar.update(Math.floor(p.progress), { fps: p.currentFps.toFixed(1), eta_job: p.etaSec }),
      stop: () => bar.stop(),
    };
  }
  // Plain lines for logs and pipes: at most one per 10% step.
  let lastStep = -1;
  return {
    update: (p) => {
      const step = Math.floor(p.progress / 10);
      if (step <= lastStep) return;
      lastStep = step;
      err.write(`progress ${p.progress.toFixed(1)}% fps ${p.currentFps.toFixed(1)} eta ${p.etaSec}s\n`);
    },
    stop: () => undefined,
  };
}

export async function runJobCommand(opts: RunJobCommandOptions): Promise<number> {
  const started = performance.now();
  // Flags first: a wrong command line is reported before the file is read, with the same exit code as a bad file.
  let role: SplitRole;
  try {
    role = parseSplitFlags(opts.split ?? {}, opts.env ?? process.env);
  } catch (err) {
    if (!(err instanceof SplitFlagError)) throw err;
    opts.err.write(`error: ${err.message}\n`);
    return EXIT_BAD_FILE;
  }
  const read = await readJobFile(opts.file);
  if ('problem' in read) {
    opts.err.write(`error: ${read.problem}\n`);
    return EXIT_BAD_FILE;
  }
  let job: Job;
  try {
    // The part/stitch fields are not in schemas.ts's Job yet (issue 12, merged in parallel): the executor reads them.
    job = applySplitRole(read.job, role);
  } catch (err) {
    if (!(err instanceof SplitFlagError)) throw err;
    opts.err.write(`error: ${err.message}\n`);
    return EXIT_BAD_FILE;
  }
  const log =
    opts.log ??
    createLogger({
      level: opts.config.log_level,
      destination: opts.err as never,
      pretty: false,
      secrets: configSecrets(opts.config),
    });

  const executor = opts.executor ?? createJobExecutor({ config: opts.config, runner: opts.runner ?? execaRunner, log });
  const view = createProgressView(opts.err, opts.isTTY);
  let payload: FinalizeRequest;
  let code: number;
  try {
    const result = await executor(job, {
      signal: opts.signal ?? new AbortController().signal,
      probe: opts.getProbe?.(),
      onProgress: (p) => view.update(p),
      log: log.child({ job_id: job.job_id }),
    });
    payload = {
      worker_id: opts.config.worker_id,
      status: 'COMPLETED',
      manifest_url: result.manifestUrl,
      metrics: { total_time_ms: Math.round(performance.now() - started), ...result.metrics },
    };
    code = EXIT_COMPLETED;
  } catch (err) {
    payload = {
      worker_id: opts.config.worker_id,
      status: 'FAILED',
      error_msg: errorMessage(err),
      metrics: { total_time_ms: Math.round(performance.now() - started) },
    };
    if (err instanceof JobCancelledError) log.warn({ reason: payload.error_msg }, 'job interrupted; nothing committed');
    code = err instanceof PartsMissingError ? EXIT_PARTS_MISSING : EXIT_FAILED;
  } finally {
    view.stop();
  }
  opts.out.write(JSON.stringify(payload, null, 2) + '\n');
  return code;
}
