/**
 * The one long-running ffmpeg call of a job: argument array (never a shell), progress parsed from stdout,
 * a bounded stderr tail for error messages, a stall watchdog and abort. Invariant: when runFfmpeg settles
 * (resolve or throw), the ffmpeg process tree has exited; nothing is left running behind a job.
 *
 * ffmpeg runs at the configured low priority (exec/priority.ts), and may be paused while the owner needs the host
 * (worker/job-pauser.ts, through the PausableProcess handed to onSpawn): paused time does not count as a stall, and
 * an abort kills a paused tree at once (SIGKILL acts on a stopped process).
 */
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { FfmpegError, JobCancelledError, ToolchainError } from '../errors.js';
import {
  progressDurationOf,
  ProgressStreamParser,
  ProgressTracker,
  type FfmpegProgress,
  type ProgressBlock,
  type ProgressSpan,
} from './progress.js';
import { killProcessTree } from '../exec/kill-tree.js';
import { StderrTail } from './stderr-tail.js';
import { abortReason } from '../util/abortable.js';
import type { PausableProcess } from '../exec/suspend.js';
import { createPrioritySetter, type ProcessPriority, type PrioritySetter } from '../exec/priority.js';

export interface RunFfmpegOptions {
  ffmpegPath: string;
  signal?: AbortSignal;
  onProgress?: (p: FfmpegProgress) => void;
  /** Source duration, to turn out_time into a percentage. */
  durationSec: number;
  /** A range run's span of the film (args/range.ts rangeProgressSpan): progress goes 0..100 over it. */
  progressSpan?: ProgressSpan;
  /** No progress for this long kills ffmpeg and fails the job. */
  stallTimeoutMs: number;
  log?: Logger;
  /** How long to wait for the killed process to exit before giving up on it (it should take milliseconds). */
  killWaitMs?: number;
  /**
   * Told the process once ffmpeg started (the running-job record, the pauser); the handle's setPaused(true) holds
   * the stall watchdog until setPaused(false).
   */
  onSpawn?: (pid: number, proc: PausableProcess) => void;
  /** CPU (and Linux I/O) priority, set right after spawn; 'normal' or absent leaves it as inherited. */
  priority?: ProcessPriority;
  /** Sets it (tests; default: os.setPriority and ionice). */
  prioritySetter?: PrioritySetter;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export async function runFfmpeg(args: readonly string[], opts: RunFfmpegOptions): Promise<void> {
  const { signal, log } = opts;
  if (signal?.aborted) throw new JobCancelledError(abortReason(signal));

  const started = performance.now();
  const parser = new ProgressStreamParser();
  const tracker = new ProgressTracker(progressDurationOf(opts.durationSec, opts.progressSpan));
  const tail = new StderrTail(20);

  const child = execa(opts.ffmpegPath, [...args], {
    // ffmpeg reads interactive commands from stdin; never give it one.
    stdin: 'ignore',
    buffer: false,
    reject: false,
    windowsHide: true,
    // Kill ffmpeg if this Node process dies.
    cleanup: true,
    // SVT-AV1 prints a dozen "Svt[info]" lines per encoder to stderr whatever -loglevel says: warnings and errors
    // only, so the stderr tail keeps the real cause of a failure (the user's own SVT_LOG wins).
    env: { SVT_LOG: process.env.SVT_LOG ?? '2' },
  });

  if (child.pid !== undefined && opts.priority && opts.priority !== 'normal')
    (opts.prioritySetter ?? createPrioritySetter({ log })).apply(child.pid, opts.priority);

  let stopReason: 'abort' | 'stall' | undefined;
  let stoppedAt = 0;
  const stop = (why: 'abort' | 'stall'): void => {
    if (stopReason) return;
    stopReason = why;
    stoppedAt = performance.now();
    if (child.pid !== undefined)
      killProcessTree(child.pid, (err) => log?.debug({ err: err.message }, 'could not list ffmpeg child processes'));
  };

  let last: ProgressBlock = { ended: false };
  let watchdog: NodeJS.Timeout | undefined;
  let paused = false;
  const armWatchdog = (): void => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = undefined;
    // While paused on purpose there is no progress to expect: the watchdog starts afresh on resume.
    if (paused) return;
    watchdog = setTimeout(() => stop('stall'), opts.stallTimeoutMs);
    watchdog.unref?.();
  };
  armWatchdog();

  if (child.pid !== undefined) {
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const handle: PausableProcess = {
      pid,
      exited,
      setPaused: (p) => {
        paused = p;
        if (!stopReason) armWatchdog();
      },
    };
    opts.onSpawn?.(pid, handle);
  }

  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    for (const block of parser.push(chunk)) {
      // Only real advancement feeds the watchdog: ffmpeg keeps printing identical blocks while it is stuck.
      const advanced =
        (block.outTimeSec ?? 0) > (last.outTimeSec ?? 0) ||
        (block.frame ?? 0) > (last.frame ?? 0) ||
        (block.totalSize ?? 0) > (last.totalSize ?? 0) ||
        block.ended;
      if (advanced) {
        armWatchdog();
        last = { ...last, ...Object.fromEntries(Object.entries(block).filter(([, v]) => v !== undefined)) };
      }
      const p = tracker.update(block);
      try {
        opts.onProgress?.(p);
      } catch (err) {
        log?.warn({ err }, 'progress callback failed');
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => tail.push(chunk));

  const onAbort = (): void => stop('abort');
  signal?.addEventListener('abort', onAbort, { once: true });

  let result: Awaited<typeof child>;
  try {
    const killWait = opts.killWaitMs ?? 10_000;
    result = await Promise.race([
      child,
      // If ffmpeg was killed but somehow does not exit (stuck in the kernel on a dead NFS mount), do not hang the
      // worker forever: stop waiting after killWait and report it.
      new Promise<never>((_, reject) => {
        const check = setInterval(() => {
          if (stopReason && performance.now() - stoppedAt > killWait) {
            clearInterval(check);
            reject(
              new FfmpegError(`ffmpeg (pid ${child.pid}) did not exit after being killed`, undefined, tail.text()),
            );
          }
        }, 250);
        check.unref?.();
        void child.finally(() => clearInterval(check)).catch(() => undefined);
      }),
    ]);
  } finally {
    if (watchdog) clearTimeout(watchdog);
    signal?.removeEventListener('abort', onAbort);
  }
  tail.end();

  const durationMs = performance.now() - started;
  if (stopReason === 'abort') throw new JobCancelledError(abortReason(signal!));
  if (stopReason === 'stall') {
    throw new FfmpegError(
      `ffmpeg made no progress for ${formatSeconds(opts.stallTimeoutMs)} and was stopped` + withTail(tail),
      result.exitCode,
      tail.text(),
      { deviceError: tail.deviceError },
    );
  }
  const code = (result as { code?: string }).code;
  if (result.exitCode === undefined && !result.signal) {
    // Could not start at all.
    if (code === 'ENOENT') throw new ToolchainError(`ffmpeg not found: ${opts.ffmpegPath} (check ffmpeg_path)`);
    throw new ToolchainError(
      `cannot start ffmpeg (${opts.ffmpegPath}): ${result.shortMessage ?? code ?? 'unknown error'}`,
    );
  }
  if (result.exitCode !== 0) {
    const what = result.signal ? `was killed by ${result.signal}` : `failed with exit code ${result.exitCode}`;
    throw new FfmpegError(`ffmpeg ${what}` + withTail(tail), result.exitCode, tail.text(), {
      deviceError: tail.deviceError,
    });
  }
  log?.debug({ durationMs: Math.round(durationMs), warnings: tail.text() || undefined }, 'ffmpeg finished');
}

function withTail(tail: StderrTail): string {
  const text = tail.text(1500);
  return text ? `:\n${text}` : '.';
}
