/**
 * After ffmpeg: every planned subtitle track becomes a segmented WebVTT rendition in staging, or is dropped with a
 * warning. Sidecar files are converted first (their own small ffmpeg run each); embedded tracks were written whole
 * by the main run. Each whole track is then cut along the video's segment boundaries with the X-TIMESTAMP-MAP of
 * the segment type in use (storage/webvtt-segment.ts). Bad subtitle data never fails the job: the track is left
 * out and the finalize metrics say why.
 */
import path from 'node:path';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import { localStagedWriter, type StagedWriter } from '../storage/staged-writer.js';
import { writeSubtitleRendition } from '../storage/subtitle-rendition.js';
import { stagedDirOf } from '../storage/verify.js';
import { convertSidecar } from '../transcode/sidecar-convert.js';
import type { SubtitlePlan, TranscodePlan } from '../transcode/types.js';
import { throwIfAborted } from '../util/abortable.js';

export interface SubtitleRenditionDeps {
  runner: CommandRunner;
  ffmpegPath: string;
  log: Logger;
  signal: AbortSignal;
  /** How the renditions are written into staging (default: plain local writes; a stitch's staging: NasFs). */
  writer?: StagedWriter;
}

export interface SubtitleOutcome {
  /** The tracks that made it, in plan order. */
  kept: SubtitlePlan[];
  /** One line per track left out: which, and why (for the finalize metrics and the log). */
  warnings: string[];
}

function describe(s: SubtitlePlan): string {
  const what = s.source.kind === 'embedded' ? `subtitle stream #${s.source.streamIndex}` : path.basename(s.source.path);
  return `${what} ("${s.label.name}")`;
}

export async function makeSubtitleRenditions(
  plan: TranscodePlan,
  deps: SubtitleRenditionDeps,
): Promise<SubtitleOutcome> {
  const kept: SubtitlePlan[] = [];
  const warnings: string[] = [];
  const firstRung = plan.renditions[0];
  // Invariant: only a plan with video rungs has subtitles (plan.ts): they follow the picture's segments.
  if (!firstRung) return { kept: [], warnings };
  const videoPlaylist = path.join(stagedDirOf(plan, firstRung), plan.playlistName);
  const writer = deps.writer ?? localStagedWriter;
  for (const s of plan.subtitles) {
    throwIfAborted(deps.signal);
    if (s.source.kind === 'sidecar') {
      const problem = await convertSidecar(s.source, s.fullVttPath, { ...deps, signal: deps.signal });
      if (problem) {
        warnings.push(`${describe(s)} left out: ${problem}`);
        continue;
      }
    }
    const outDir = path.join(plan.stagingDir, ...s.dir.split('/'));
    await writer.mkdirs(outDir);
    try {
      const res = await writeSubtitleRendition({
        fullVttPath: s.fullVttPath,
        outDir,
        videoPlaylistPath: videoPlaylist,
        segmentType: plan.segmentType,
        playlistName: plan.playlistName,
        writer,
      });
      if (res.cueCount === 0) {
        warnings.push(`${describe(s)} left out: no readable cue${res.warnings[0] ? ` (${res.warnings[0]})` : ''}`);
        continue;
      }
      for (const w of res.warnings) deps.log.warn({ track: describe(s) }, w);
      kept.push(s);
    } catch (err) {
      warnings.push(`${describe(s)} left out: ${(err as Error).message}`);
    }
  }
  for (const w of warnings) deps.log.warn(w);
  return { kept, warnings };
}
