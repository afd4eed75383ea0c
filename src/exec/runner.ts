/**
 * The one seam between the worker and the programs it runs (ffmpeg, ffprobe, nvidia-smi). Capability probing and
 * media probing take a CommandRunner, so tests can replace it where the real thing cannot exist here (a GPU).
 * Always an argument array: no shell is ever involved.
 */
import { execa } from 'execa';
import type { PrioritySetter, ProcessPriority } from './priority.js';

export interface RunOptions {
  /** Kill the process (tree) after this many ms; the result then has timedOut: true. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes written to stdin. */
  input?: string | Buffer;
  cwd?: string;
  /** Told the process id right after spawn (its priority is set there). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The program could not be started at all (ENOENT, EACCES): `spawnError` holds the reason. */
  spawnError?: string;
  durationMs: number;
}

export type CommandRunner = (command: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** The real runner: execa, never throwing for a non-zero exit, a timeout or a missing binary. */
export const execaRunner: CommandRunner = async (command, args, opts = {}) => {
  const started = performance.now();
  const child = execa(command, [...args], {
    reject: false,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    input: opts.input,
    cwd: opts.cwd,
    stripFinalNewline: false,
    forceKillAfterDelay: 2000,
    windowsHide: true,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const result = await child;
  const durationMs = performance.now() - started;
  const code = (result as { code?: string }).code;
  const spawnError =
    result.failed && result.exitCode === undefined && !result.timedOut && !result.isCanceled
      ? code === 'ENOENT'
        ? `${command}: not found`
        : (result.shortMessage ?? `cannot start ${command}`)
      : undefined;
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: Boolean(result.timedOut),
    spawnError,
    durationMs,
  };
};

/**
 * A runner whose programs run at the job's priority (ffprobe, the sidecar conversions: every child of a job).
 * The capability probe keeps the plain runner: its test encodes are short, run once at start, and at a low priority
 * on a busy host they could time out and wrongly mark an encoder as broken.
 */
export function withPriority(runner: CommandRunner, priority: ProcessPriority, setter: PrioritySetter): CommandRunner {
  if (priority === 'normal') return runner;
  return (command, args, opts = {}) =>
    runner(command, args, {
      ...opts,
      onSpawn: (pid) => {
        setter.apply(pid, priority);
        opts.onSpawn?.(pid);
      },
    });
}
