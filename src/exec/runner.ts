/**
 * The one seam between the worker and the programs it runs (ffmpeg, ffprobe, nvidia-smi). Capability probing and
 * media probing take a CommandRunner, so tests can replace it where the real thing cannot exist here (a GPU).
 * Always an argument array: no shell is ever involved.
 */
import { execa } from 'execa';

export interface RunOptions {
  /** Kill the process (tree) after this many ms; the result then has timedOut: true. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes written to stdin. */
  input?: string | Buffer;
  cwd?: string;
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
  const result = await execa(command, [...args], {
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
