/**
 * The built worker (dist/main.js) as a real child process: real signals, real exit codes, its real JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN_JS = path.join(REPO_ROOT, 'dist', 'main.js');

export function assertBuilt(): void {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" first (npm test does it)`);
}

export interface LogLine {
  level: number;
  msg: string;
  job_id?: string;
  [key: string]: unknown;
}

export interface WorkerHandle {
  child: ChildProcess;
  pid: number;
  logs: LogLine[];
  /** Raw stdout/stderr text (non-JSON lines land here too). */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGKILL if still running; never throws. */
  dispose(): Promise<void>;
}

/** A temporary world for one worker: NAS, temp and state folders. */
export interface WorkerDirs {
  root: string;
  nas: string;
  temp: string;
  state: string;
  cleanup(): Promise<void>;
}

export async function makeWorkerDirs(prefix = 'tw-e2e-'): Promise<WorkerDirs> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  const dirs = { root, nas: path.join(root, 'nas'), temp: path.join(root, 'tmp'), state: path.join(root, 'state') };
  await mkdir(dirs.nas, { recursive: true });
  return { ...dirs, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export function workerEnv(dirs: WorkerDirs, orchestratorUrl: string, extra: Record<string, string> = {}) {
  return {
    WORKER_ORCHESTRATOR_URL: orchestratorUrl,
    WORKER_ID: 'e2e-worker',
    WORKER_NAS_MOUNT_PATH: dirs.nas,
    WORKER_TEMP_DIR: dirs.temp,
    WORKER_STATE_DIR: dirs.state,
    WORKER_HTTP_HOST: '127.0.0.1',
    WORKER_HTTP_PORT: '0',
    WORKER_SYNC_INTERVAL: '200ms',
    WORKER_PROGRESS_INTERVAL: '200ms',
    WORKER_REQUEST_TIMEOUT: '2s',
    WORKER_LOG_LEVEL: 'debug',
    // Retries in tests: short backoff so "down for a while, then back" takes seconds, not minutes.
    WORKER_RETRY_MAX_DELAY: '400ms',
    // The host is shared with the rest of the suite: no job pauses for its load unless a test asks for it.
    WORKER_PAUSE_ON_OWNER_LOAD: 'false',
    ...extra,
  };
}

export function startWorker(args: string[], env: Record<string, string>, cwd?: string): WorkerHandle {
  assertBuilt();
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    cwd: cwd ?? os.tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let raw = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    raw += text;
  };
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    onData(chunk);
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    pid: child.pid!,
    logs,
    output: () => raw,
    exited,
    async waitForLog(pred, timeoutMs = 20_000, what = 'log line') {
      return waitFor(
        () => {
          const hit = logs.find(pred);
          if (hit) return hit;
          if (done) throw new Error(`worker exited before ${what}; output:\n${raw.slice(-3000)}`);
          return undefined;
        },
        { timeoutMs, message: () => `timed out waiting for ${what}; worker output tail:\n${raw.slice(-3000)}` },
      );
    },
    kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
    },
    async dispose() {
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
