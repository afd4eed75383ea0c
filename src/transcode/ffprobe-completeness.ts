/**
 * Is the source whole? Some containers state their duration in the header (Matroska, MP4 with the index at the
 * front), so the first ffprobe "succeeds" on a file cut short by an interrupted copy. A second, short ffprobe
 * reads the video packets of the last seconds: when the last one is far before the stated end, the file is
 * truncated.
 *
 * The job pipeline runs this check BESIDE ffmpeg (startCompletenessCheck) instead of before it: a process start
 * costs ~70 ms that would otherwise sit in front of every job, while a truncated source is still refused within
 * that time (ffmpeg is stopped and the job fails with the MediaError below), and nothing is verified or committed
 * before the verdict is in.
 */
import { MediaError } from '../errors.js';
import type { ProbedSource, ProbeSourceDeps } from './ffprobe.js';
import { sourceInputOptions, sourceUrl } from './source-format.js';

/**
 * Throws MediaError when the source is truncated. Conservative on purpose (no packets read = no verdict) so a
 * healthy file is never refused; the post-transcode verification (durations add up) catches what this misses.
 */
export async function assertSourceComplete(probed: ProbedSource, deps: ProbeSourceDeps): Promise<void> {
  const { info, startSec: start, statedVideoSec: statedSec, demuxer } = probed;
  const from = start + Math.max(0, statedSec - 10);
  const result = await deps.runner(
    deps.ffprobePath,
    [
      '-v',
      'error',
      '-select_streams',
      // The video stream, or the first audio stream of an audio-only source.
      String(info.video?.index ?? info.audio[0]?.index ?? 0),
      // Seek close to the stated end and list packet timestamps from there on.
      '-read_intervals',
      `${from.toFixed(3)}%`,
      '-show_entries',
      'packet=pts_time',
      '-of',
      'csv=p=0',
      // The same file protocol and demuxer as the first probe (source-format.ts): a file swapped for a playlist
      // in between is not read as one.
      ...sourceInputOptions(demuxer),
      sourceUrl(info.path),
    ],
    { timeoutMs: deps.timeoutMs ?? 30_000, signal: deps.signal },
  );
  if (result.exitCode !== 0 || result.timedOut) return;
  const times = result.stdout
    .split(/\r?\n/)
    .map((l) => Number(l.split(',')[0]))
    .filter((n) => Number.isFinite(n) && n >= 0);
  if (times.length === 0) return;
  const last = times.reduce((m, t) => Math.max(m, t), 0) - start;
  if (last < statedSec * 0.9 - 1)
    throw new MediaError(
      `${info.path} is truncated: its header says ${statedSec.toFixed(1)} s but the video stops at ${Math.max(0, last).toFixed(1)} s (interrupted copy?)`,
    );
}

export interface CompletenessCheck {
  /** Aborted (reason: the MediaError) as soon as the source is found truncated: give it to ffmpeg. */
  signal: AbortSignal;
  /**
   * Waits for the verdict and throws the MediaError when the source is truncated. `cancel` first stops a check
   * still running (ffmpeg already failed: its own error is then the one to report, unless truncation is known).
   */
  settle(cancel?: boolean): Promise<void>;
  /** Stops the check and waits for its ffprobe to exit; never throws (for `finally`). */
  stop(): Promise<void>;
}

/** Starts assertSourceComplete in the background; the caller must settle() or stop() it. */
export function startCompletenessCheck(probed: ProbedSource, deps: ProbeSourceDeps): CompletenessCheck {
  const found = new AbortController();
  const cancel = new AbortController();
  let verdict: MediaError | undefined;
  const done = assertSourceComplete(probed, {
    ...deps,
    signal: deps.signal ? AbortSignal.any([deps.signal, cancel.signal]) : cancel.signal,
  }).then(
    () => undefined,
    (err: unknown) => {
      // Only a truncation is a verdict: anything else here (the first ffprobe of the same file just succeeded)
      // leaves the durations check of the verification as the safety net.
      if (err instanceof MediaError) {
        verdict = err;
        found.abort(err);
      }
    },
  );
  return {
    signal: found.signal,
    async settle(cancelFirst = false) {
      if (cancelFirst) cancel.abort();
      await done;
      if (verdict) throw verdict;
    },
    async stop() {
      cancel.abort();
      await done;
    },
  };
}
