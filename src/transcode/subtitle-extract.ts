/**
 * The whole WebVTT file of every embedded text subtitle track, in a run of its own. A fresh run writes them beside
 * the ladder (args/index.ts subtitleOutputs); a resumed run or a stitch starts past the film's beginning (or
 * encodes nothing), so they read the source once more for its subtitle packets only: `-map 0:<s>` demuxes the whole
 * file but decodes nothing but the subtitles, which costs I/O, not CPU.
 */
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import { globalArgs } from './args/common.js';
import { sourceArgs, subtitleOutputs } from './args/index.js';
import type { TranscodePlan } from './types.js';

/** The argv, or null when the plan has no embedded text subtitle track (sidecars are converted elsewhere). */
export function wholeSubtitleArgs(plan: TranscodePlan): string[] | null {
  const outputs = subtitleOutputs(plan);
  if (outputs.length === 0) return null;
  return [...globalArgs(), ...sourceArgs(plan), ...outputs];
}

export interface SubtitleExtractDeps {
  runner: CommandRunner;
  ffmpegPath: string;
  signal?: AbortSignal;
  log: Logger;
}

/**
 * Writes every embedded track's whole WebVTT file (plan.subtitles[].fullVttPath). A failure is a warning, not the
 * job's failure: the subtitle step then leaves that track out and says why, as for any unreadable track.
 */
export async function extractWholeSubtitles(plan: TranscodePlan, deps: SubtitleExtractDeps): Promise<void> {
  const args = wholeSubtitleArgs(plan);
  if (!args) return;
  // Reading a film's packets takes about as long as copying it: allow an hour per 2 hours of film, at least 10 min.
  const timeoutMs = Math.max(600_000, plan.source.durationSec * 500);
  const res = await deps.runner(deps.ffmpegPath, args, { timeoutMs, signal: deps.signal });
  if (res.exitCode !== 0)
    deps.log.warn(
      { exitCode: res.exitCode, stderr: res.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300) },
      'could not read the subtitle tracks of the source again',
    );
}
