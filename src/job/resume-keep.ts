/**
 * What an interrupted run leaves for a resume (job/resume.ts decides where a run starts): its staging folder and
 * journal are kept, marked "interrupted", when it finished at least one segment; otherwise everything goes. Apart
 * from resume.ts so that the worker's start-up recovery (keepCrashedRun) does not load the pipeline's modules.
 */
import type { Logger } from '../log.js';
import { jobStagingDir } from '../storage/paths.js';
import { dropResumable, readResumeMeta, segmentJournalFile, writeResumeMeta } from '../storage/resume-store.js';
import { openSegmentJournal, type SegmentJournal } from '../storage/segment-journal.js';
import type { ResumableInfo } from './contract.js';

export interface ResumeRunDeps {
  stateDir: string;
  tempDir: string;
  /** 0: resume is off (config resume_keep 0), every run starts from zero and nothing is kept. */
  keepMs: number;
  log: Logger;
  now: () => number;
  /**
   * When this machine booted (ms since the epoch): a run interrupted since then lost no write to a power cut, so
   * the segments its playlists list are trusted even where the journal had not recorded them yet (job/resume.ts).
   * Absent: only the journal is trusted.
   */
  bootTimeMs?: () => number;
}

/** Marks the run interrupted and keeps its staging; undefined (and everything dropped) when nothing is worth it. */
export async function keepInterrupted(
  jobId: string,
  journal: SegmentJournal | undefined,
  reason: string,
  deps: ResumeRunDeps,
): Promise<ResumableInfo | undefined> {
  const meta = deps.keepMs > 0 ? await readResumeMeta(deps.stateDir, jobId, deps.log) : undefined;
  const done = journal?.completePrefix() ?? 0;
  await journal?.close();
  if (!meta || done === 0) {
    await dropResumable(deps.stateDir, deps.tempDir, jobId);
    return undefined;
  }
  const at = new Date(deps.now()).toISOString();
  await writeResumeMeta(deps.stateDir, {
    ...meta,
    state: 'interrupted',
    updated_at: at,
    interrupted: { at, reason, segments_done: done },
  });
  return { segmentsDone: done, segmentsTotal: meta.total_segments, keepMs: deps.keepMs };
}

/**
 * After a crash (the worker died with the job running): keeps the job's finished segments for a resume, or drops
 * everything when there are none. The caller has already ended the orphaned ffmpeg.
 */
export async function keepCrashedRun(
  jobId: string,
  reason: string,
  deps: ResumeRunDeps,
): Promise<ResumableInfo | undefined> {
  const meta = deps.keepMs > 0 ? await readResumeMeta(deps.stateDir, jobId, deps.log) : undefined;
  if (!meta) {
    await dropResumable(deps.stateDir, deps.tempDir, jobId);
    return undefined;
  }
  const journal = await openSegmentJournal({
    file: segmentJournalFile(deps.stateDir, jobId),
    stagingDir: jobStagingDir(deps.tempDir, jobId),
    renditions: meta.renditions,
    playlistName: meta.playlist_name,
  });
  return keepInterrupted(jobId, journal, reason, deps);
}
