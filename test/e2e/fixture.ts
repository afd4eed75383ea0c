/**
 * Shared set-up of the black-box suite: a test orchestrator, a temporary NAS with generated sources, and the built
 * worker as a child process.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { makeSource } from '../helpers/media.js';
import { startTestOrchestrator, type TestOrchestrator, type TestOrchestratorOptions } from '../helpers/orchestrator.js';
import {
  makeWorkerDirs,
  startWorker,
  workerEnv,
  type WorkerDirs,
  type WorkerHandle,
} from '../helpers/worker-process.js';
import { ffmpegProcessesMentioning, killAll } from '../helpers/processes.js';

export interface World {
  orch: TestOrchestrator;
  dirs: WorkerDirs;
  workers: WorkerHandle[];
  start(extraEnv?: Record<string, string>): Promise<WorkerHandle>;
  /** The health server URL of a worker, from its start-up log line. */
  httpUrl(w: WorkerHandle): Promise<string>;
  dispose(): Promise<void>;
}

export const SHORT = 'in/short.mp4';
export const LONG = 'in/long.mp4';

/** Sources (640x360): a 2 s clip for jobs that must finish, and a 40 s one that keeps ffmpeg busy for mid-job faults. */
export async function makeSources(nas: string): Promise<void> {
  const dir = path.join(nas, 'in');
  await mkdir(dir, { recursive: true });
  await makeSource(dir, { name: 'short.mp4', width: 640, height: 360, duration: 2 });
  await makeSource(dir, { name: 'long.mp4', width: 640, height: 360, duration: 40 });
}

export function ladderJob(
  source: string,
  destRoot: string,
  rungs: [string, string][] = [
    ['360p', '400k'],
    ['240p', '200k'],
  ],
) {
  return {
    input: { source_url: source, format: 'mp4' },
    outputs: rungs.map(([resolution, bitrate]) => ({
      resolution,
      bitrate,
      codec: 'libx264',
      dest_path: `${destRoot}/${resolution}/`,
    })),
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 1 },
  };
}

export async function makeWorld(opts: TestOrchestratorOptions = {}, withSources = true): Promise<World> {
  const orch = await startTestOrchestrator(opts);
  const dirs = await makeWorkerDirs();
  if (withSources) await makeSources(dirs.nas);
  const workers: WorkerHandle[] = [];
  return {
    orch,
    dirs,
    workers,
    async start(extraEnv = {}) {
      // 100% never trips: the suite loads the CPU itself and must not make the worker report BUSY because of it.
      const w = startWorker(['start'], workerEnv(dirs, orch.url, { WORKER_BUSY_CPU_PERCENT: '100', ...extraEnv }));
      workers.push(w);
      return w;
    },
    async httpUrl(w) {
      const line = await w.waitForLog(
        (l) => l.msg === 'health and metrics server listening',
        20_000,
        'the health server',
      );
      return String(line.url);
    },
    async dispose() {
      for (const w of workers) await w.dispose();
      killAll(await ffmpegProcessesMentioning(dirs.root));
      await orch.close();
      await dirs.cleanup();
    },
  };
}

/** Files under a folder (relative paths), [] when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
      .sort();
  } catch {
    return [];
  }
}
