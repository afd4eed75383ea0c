/**
 * Black-box: `transcode-worker run-job job.json` (the built CLI) interrupted by a real signal while ffmpeg runs.
 * The contract of issue 4 §7: exit 0 COMPLETED, 1 FAILED, 2 bad file — an interrupt is a FAILED job, so exit 1, the
 * FAILED finalize payload on stdout, no ffmpeg left behind, nothing committed on the NAS, no staging left.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { makeSource } from '../helpers/media.js';
import { ladderJob } from '../helpers/pipeline-harness.js';
import { ffmpegProcessesMentioning, killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { MAIN_JS, assertBuilt, makeWorkerDirs, workerEnv, type WorkerDirs } from '../helpers/worker-process.js';

let dirs: WorkerDirs | undefined;
afterEach(async () => {
  if (dirs) killAll(await ffmpegProcessesMentioning(dirs.root));
  await dirs?.cleanup();
  dirs = undefined;
});

async function runInterrupted(signal: NodeJS.Signals) {
  assertBuilt();
  dirs = await makeWorkerDirs('tw-runjob-sig-');
  // Long enough (1500 frames, two renditions) that ffmpeg is still running when the signal arrives.
  await mkdir(path.join(dirs.nas, 'movies'), { recursive: true });
  await makeSource(path.join(dirs.nas, 'movies'), { name: 'long.mp4', duration: 60 });
  const job = ladderJob('movies/long.mp4', [
    ['320x180', '300k', 'out/sig/180p'],
    ['214x120', '150k', 'out/sig/120p'],
  ]);
  const jobFile = path.join(dirs.root, 'job.json');
  await writeFile(jobFile, JSON.stringify(job));
  const before = await snapshotTree(dirs.nas);

  const child = spawn(process.execPath, [MAIN_JS, 'run-job', jobFile], {
    cwd: dirs.root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dirs.root,
      ...workerEnv(dirs, 'http://127.0.0.1:9', { WORKER_LOG_LEVEL: 'info' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );

  const staging = path.join(dirs.temp, 'jobs', job.job_id);
  const ffmpegPids = await waitFor(
    async () => {
      if (exitCode !== undefined) throw new Error(`run-job exited (${exitCode}) before ffmpeg ran:\n${stderr}`);
      const pids = await ffmpegProcessesMentioning(staging);
      return /^progress /m.test(stderr) && pids.length > 0 ? pids : undefined;
    },
    { timeoutMs: 60_000, message: () => `ffmpeg to run with progress on stderr; stderr so far:\n${stderr}` },
  );
  child.kill(signal);
  const code = await waitFor(async () => (exitCode === undefined ? undefined : { code: await exited }), {
    timeoutMs: 20_000,
    message: () => `run-job to exit after ${signal}; stderr:\n${stderr}`,
  });
  return { code: code.code, stdout, stderr, ffmpegPids, staging, before, job };
}

describe.skipIf(process.platform === 'win32')('run-job interrupted by a signal (built CLI)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s: exit 1, FAILED payload on stdout, ffmpeg stopped, nothing committed',
    async (signal) => {
      const r = await runInterrupted(signal);
      expect(r.code, r.stderr).toBe(1);
      const payload = JSON.parse(r.stdout);
      expect(payload).toMatchObject({
        worker_id: 'e2e-worker',
        status: 'FAILED',
        error_msg: `interrupted by ${signal}; nothing was committed`,
        metrics: { total_time_ms: expect.any(Number) },
      });
      expect(payload).not.toHaveProperty('manifest_url');
      // The ffmpeg that was running is gone (not merely orphaned), and no other one mentions the staging folder.
      expect(await ffmpegProcessesMentioning(r.staging)).toEqual([]);
      expect(await ffmpegProcessesMentioning(dirs!.root)).toEqual([]);
      for (const pid of r.ffmpegPids) expect(() => process.kill(pid, 0)).toThrow();
      // Nothing committed: the NAS is exactly as before, and the staging folder is removed.
      expect(await snapshotTree(dirs!.nas)).toEqual(r.before);
      const jobsDir = path.join(dirs!.temp, 'jobs');
      expect(await readdir(jobsDir).catch(() => [])).toEqual([]);
    },
  );
});
