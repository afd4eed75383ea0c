/**
 * The subtitle half of the plan (pure): which subtitle tracks become WebVTT renditions, and which are reported as
 * skipped. Text formats (SubRip, ASS/SSA, mov_text, WebVTT) are converted; image formats (PGS, DVB, VobSub) are
 * never burned in by default: they are listed in the finalize metrics so the orchestrator can decide.
 */
import path from 'node:path';
import { labelSubtitleTracks } from '../media/track-labels.js';
import type { SkippedSubtitle, StreamDisposition, SubtitlePlan, SubtitleStreamInfo } from './types.js';
import type { ValidatedSubtitleConfig } from './validated-job.js';

/** Subtitle codecs ffmpeg's webvtt encoder can take (ffprobe's codec names). */
const TEXT_SUBTITLE_CODECS = new Set(['subrip', 'srt', 'ass', 'ssa', 'mov_text', 'webvtt', 'text']);

/** A subtitle file found beside the source (found by job/sidecars.ts, named per media/sidecar-names.ts). */
export interface SidecarSubtitle {
  /** Absolute path, inside the source's folder. */
  path: string;
  format: 'srt' | 'webvtt' | 'ass';
  language?: string;
  title?: string;
  forced: boolean;
  hearingImpaired: boolean;
  isDefault: boolean;
}

export interface SubtitlesResult {
  subtitles: SubtitlePlan[];
  skipped: SkippedSubtitle[];
}

function sidecarDisposition(s: SidecarSubtitle): StreamDisposition {
  return {
    default: s.isDefault,
    forced: s.forced,
    comment: false,
    hearingImpaired: s.hearingImpaired,
    visualImpaired: false,
    descriptions: false,
  };
}

/**
 * @param tracksDir folder (relative to staging and masterDir) of the renditions: track i goes to tracksDir/s<i>
 * @param workDir absolute staging folder where ffmpeg writes each whole track before it is cut (never committed)
 */
export function planSubtitles(
  embedded: readonly SubtitleStreamInfo[],
  sidecars: readonly SidecarSubtitle[],
  config: ValidatedSubtitleConfig,
  tracksDir: string,
  workDir: string,
): SubtitlesResult {
  const skipped: SkippedSubtitle[] = [];
  const text: SubtitleStreamInfo[] = [];
  for (const s of embedded) {
    if (!TEXT_SUBTITLE_CODECS.has(s.codec)) {
      skipped.push({
        index: s.index,
        codec: s.codec,
        ...(s.language ? { language: s.language } : {}),
        reason: 'image subtitles are not converted to text (burning them in is not done by default)',
      });
    } else if (config.include) {
      text.push(s);
    }
  }
  const files = config.sidecars ? sidecars : [];
  const labels = labelSubtitleTracks([
    ...text.map((s) => ({ language: s.language, title: s.title, disposition: s.disposition, codec: s.codec })),
    ...files.map((f) => ({ language: f.language, title: f.title, disposition: sidecarDisposition(f) })),
  ]);
  const subtitles: SubtitlePlan[] = [
    ...text.map((s): SubtitlePlan['source'] => ({ kind: 'embedded', streamIndex: s.index, codec: s.codec })),
    ...files.map((f): SubtitlePlan['source'] => ({ kind: 'sidecar', path: f.path, format: f.format })),
  ].map((source, i) => ({
    dir: `${tracksDir}/s${i}`,
    source,
    fullVttPath: path.join(workDir, `s${i}.vtt`),
    label: labels[i]!,
  }));
  return { subtitles, skipped };
}
