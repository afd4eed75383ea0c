/**
 * A throwaway NAS + temp_dir + config for running the real job executor on generated media.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { execaRunner } from '../../src/exec/runner.js';
import { createLogger } from '../../src/log.js';
import type { ProbeReport } from '../../src/capabilities/types.js';
import type { Job } from '../../src/protocol/schemas.js';
import { createJobExecutor, type PipelineDeps } from '../../src/job/pipeline.js';
import type { JobProgress, JobSuccess } from '../../src/job/contract.js';
import { FFMPEG, FFPROBE, makeTempDir, removeDir } from './media.js';

export interface PipelineHarness {
  root: string;
  nas: string;
  tempDir: string;
  config: Config;
  /** Runs a job; resolves with the success or the thrown error (never rejects). */
  run(
    job: Job,
    opts?: {
      signal?: AbortSignal;
      onProgress?: (p: JobProgress) => void;
      /** The capability report the job plans with (none: libx264/libx265/aac are assumed). */
      probe?: ProbeReport;
      deps?: Partial<PipelineDeps>;
    },
  ): Promise<
    { ok: true; result: JobSuccess; progress: JobProgress[] } | { ok: false; error: Error; progress: JobProgress[] }
  >;
  /** Entries left under temp_dir/jobs (must be none after any job). */
  stagingLeft(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function createPipelineHarness(overrides: Record<string, string> = {}): Promise<PipelineHarness> {
  const root = await makeTempDir('tw-pipe-');
  const nas = path.join(root, 'nas');
  const tempDir = path.join(root, 'tmp');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  await mkdir(tempDir, { recursive: true });
  const config = loadConfig({
    cwd: root,
    args: [],
    env: {
      WORKER_NAS_MOUNT_PATH: nas,
      WORKER_TEMP_DIR: tempDir,
      WORKER_STATE_DIR: path.join(root, 'state'),
      WORKER_FFMPEG_PATH: FFMPEG,
      WORKER_FFPROBE_PATH: FFPROBE,
      // The fastest preset keeps the suite quick on 2 shared cores; quality is not under test.
      WORKER_X264_PRESET: 'ultrafast',
      WORKER_LOG_LEVEL: 'silent',
      ...overrides,
    },
  });
  const log = createLogger({ level: 'silent' });
  return {
    root,
    nas,
    tempDir,
    config,
    async run(job, opts = {}) {
      const progress: JobProgress[] = [];
      const executor = createJobExecutor({ config, runner: execaRunner, log, ...opts.deps });
      try {
        const result = await executor(job, {
          signal: opts.signal ?? new AbortController().signal,
          probe: opts.probe,
          onProgress: (p) => {
            progress.push(p);
            opts.onProgress?.(p);
          },
          log,
        });
        return { ok: true, result, progress };
      } catch (error) {
        return { ok: false, error: error as Error, progress };
      }
    },
    async stagingLeft() {
      try {
        return await readdir(path.join(tempDir, 'jobs'));
      } catch {
        return [];
      }
    },
    cleanup: () => removeDir(root),
  };
}

/** A job for `source` (relative to the NAS) with one output per [resolution, bitrate, dest]. */
export function ladderJob(
  source: string,
  outputs: Array<[resolution: string, bitrate: string, dest: string]>,
  extra: Partial<Job> = {},
): Job {
  return {
    job_id: extra.job_id ?? `job-${Math.random().toString(36).slice(2, 8)}`,
    input: { source_url: source },
    outputs: outputs.map(([resolution, bitrate, dest_path]) => ({ resolution, bitrate, codec: 'libx264', dest_path })),
    hls_settings: { segment_time: 1 },
    ...extra,
  };
}
