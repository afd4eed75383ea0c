/**
 * Resume (issue 12): where a job's ffmpeg run starts, and what is kept when it stops early.
 *
 * Every run writes EVENT playlists (a listed segment is complete) and a segment journal in state_dir
 * (storage/segment-journal.ts: each segment fsynced before it is recorded). When the same job comes back to this
 * worker with the same source (size, mtime, first and last MiB) and the same encode (the fresh run's argv and the
 * ffmpeg version), the run starts at the last segment boundary that every rendition finished (the audio at the one
 * on its grid before it: resumePoint), and the playlists are joined from the journal. Anything else starts from zero and
 * says why.
 *
 * Invariants: a kept staging folder always has a resume record (the retention in storage/resume-store.ts only
 * touches what has one); the journal never lists a segment at or after the run's start when ffmpeg starts.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { alignDown, segmentCount } from '../media/segment-grid.js';
import { jobStagingDir } from '../storage/paths.js';
import { openSegmentJournal, type SegmentJournal } from '../storage/segment-journal.js';
import {
  dropResumable,
  readResumeMeta,
  segmentJournalFile,
  writeResumeMeta,
  type ResumeMeta,
} from '../storage/resume-store.js';
import { createStagingDir } from '../storage/staging.js';
import type { SourceFingerprint } from '../storage/source-fingerprint.js';
import { allAudioRenditions } from '../transcode/plan-audio.js';
import { rangeAlignmentStep } from '../transcode/args/range.js';
import type { TranscodePlan } from '../transcode/types.js';
import type { ResumeRunDeps } from './resume-keep.js';

export interface RunStart {
  /** The first segment this run encodes: 0 for a run from the start. */
  from: number;
  /** The first segment of the audio renditions (<= from: resumePoint). */
  audioFrom: number;
  /** Segments of the whole film (per rendition). */
  total: number;
  journal: SegmentJournal;
  /** Why an interrupted run's segments were not reused (absent when there was none, or when they were). */
  restartReason?: string;
}

/** The folders (relative to the staging folder) of every rendition the run writes: video rungs, then audio. */
export function journaledRenditions(plan: TranscodePlan): string[] {
  return [...plan.renditions.map((r) => r.variantDir), ...allAudioRenditions(plan.audioGroups).map((a) => a.dir)];
}

/**
 * Decides where the run of `plan` starts and prepares the staging folder for it: a fresh, empty one (from 0), or
 * the interrupted run's with every file at or after the start removed. Writes the resume record ("running").
 */
export async function beginRun(
  plan: TranscodePlan,
  identity: { jobId: string; source: SourceFingerprint; settings: string },
  deps: ResumeRunDeps,
): Promise<RunStart> {
  const { jobId } = identity;
  const renditions = journaledRenditions(plan);
  const total = segmentCount(plan.source.durationSec, plan.segmentTime);
  const stagingDir = jobStagingDir(deps.tempDir, jobId);
  const previous = deps.keepMs > 0 ? await readResumeMeta(deps.stateDir, jobId, deps.log) : undefined;
  let restartReason: string | undefined;
  if (previous) {
    restartReason = whyNotResumable(previous, identity, plan);
    if (!restartReason) {
      const journal = await openSegmentJournal({
        file: segmentJournalFile(deps.stateDir, jobId),
        stagingDir,
        renditions,
        playlistName: plan.playlistName,
      });
      // The journal is read every second, so it may miss the last segment or two that ffmpeg finished before it
      // was killed. When the machine has not restarted since the run began (a killed process, not a power cut),
      // everything ffmpeg wrote is still in the page cache: the EVENT playlists' listed segments are whole, and
      // scan() fsyncs them now as it would have then. After a reboot only what the journal recorded is trusted.
      if (ranSinceBoot(previous, deps)) await journal.scan();
      // Never past the second-to-last segment: a crash during verify or the commit re-encodes the tail (cheap)
      // rather than trusting that the journal saw the muxer's very last write.
      const step = rangeAlignmentStep(plan);
      const done = journal.completePrefix();
      const { from, audioFrom } = resumePoint(Math.min(done, total - 1), step, plan.renditions.length > 0);
      if (from > 0) {
        const videoDirs = new Set(plan.renditions.map((r) => r.variantDir));
        const fromOf = (dir: string) => (videoDirs.has(dir) ? from : audioFrom);
        await journal.truncate(fromOf);
        await removeFromSegment(stagingDir, renditions, plan.playlistName, fromOf);
        await writeMetaOrWarn(deps, { ...previous, state: 'running', updated_at: new Date(deps.now()).toISOString() });
        deps.log.info(
          { from, audio_from: audioFrom, total, finished: done },
          `resuming the interrupted run: ${from} of ${total} segments kept, encoding from ${from * plan.segmentTime} s`,
        );
        return { from, audioFrom, total, journal };
      }
      await journal.close();
      restartReason = step === null ? 'segment_time is not on the audio sample grid' : 'no finished segment to keep';
    }
    deps.log.warn({ reason: restartReason }, `the interrupted run of this job is not reused: ${restartReason}`);
  }
  await dropResumable(deps.stateDir, deps.tempDir, jobId);
  await createStagingDir(deps.tempDir, jobId);
  const nowIso = new Date(deps.now()).toISOString();
  const meta: ResumeMeta = {
    version: 1,
    job_id: jobId,
    staging_dir: stagingDir,
    created_at: nowIso,
    updated_at: nowIso,
    fingerprint: { source: identity.source, settings: identity.settings },
    segment_time: plan.segmentTime,
    segment_type: plan.segmentType,
    playlist_name: plan.playlistName,
    renditions,
    total_segments: total,
    state: 'running',
  };
  if (deps.keepMs > 0) await writeMetaOrWarn(deps, meta);
  const journal = await openSegmentJournal({
    file: segmentJournalFile(deps.stateDir, jobId),
    stagingDir,
    renditions,
    playlistName: plan.playlistName,
  });
  return { from: 0, audioFrom: 0, total, journal, ...(restartReason ? { restartReason } : {}) };
}

/**
 * Where a resume starts, given the segments every rendition finished: the video from the last of them (the video
 * is what costs), the audio from the last boundary on its alignment step at or before it (range-timing.ts: a
 * boundary off that step would put later audio segments a frame off). A ladder without video starts on the step.
 * Both 0 when the segment time is off the sample grid.
 */
export function resumePoint(
  finished: number,
  step: number | null,
  hasVideo: boolean,
): { from: number; audioFrom: number } {
  if (step === null) return { from: 0, audioFrom: 0 };
  const audioFrom = alignDown(finished, step);
  return { from: hasVideo ? finished : audioFrom, audioFrom };
}

/**
 * Whether every run of the job began after this machine last booted (so no write of theirs was lost to a power
 * cut). A second of margin: uptime has whole seconds on some systems.
 */
function ranSinceBoot(previous: ResumeMeta, deps: ResumeRunDeps): boolean {
  const began = Date.parse(previous.created_at);
  return deps.bootTimeMs !== undefined && Number.isFinite(began) && deps.bootTimeMs() + 1000 < began;
}

/** Why an interrupted run cannot be continued by this one; undefined when it can. */
function whyNotResumable(
  previous: ResumeMeta,
  identity: { source: SourceFingerprint; settings: string },
  plan: TranscodePlan,
): string | undefined {
  const was = previous.fingerprint.source;
  const now = identity.source;
  if (was.size !== now.size || was.mtime_ms !== now.mtime_ms)
    return `the source changed since the interrupted run (size ${was.size} -> ${now.size} bytes, modified ${new Date(was.mtime_ms).toISOString()} -> ${new Date(now.mtime_ms).toISOString()})`;
  if (was.head_sha256 !== now.head_sha256 || was.tail_sha256 !== now.tail_sha256)
    return 'the source changed since the interrupted run (its first or last MiB differs)';
  if (previous.fingerprint.settings !== identity.settings)
    return "the job's outputs or settings, or this worker's encoders or ffmpeg, changed since the interrupted run";
  if (previous.segment_time !== plan.segmentTime || previous.playlist_name !== plan.playlistName)
    return "the job's segment_time or playlist name changed";
  return undefined;
}

const SEGMENT_NAME = /^seg_(\d+)\.(ts|m4s)$/;

/**
 * Removes what the interrupted run left at or after each rendition's start (and its EVENT playlists, which still
 * list them), so the resumed run's journal can only see what the resumed run writes.
 */
async function removeFromSegment(
  stagingDir: string,
  renditions: string[],
  playlistName: string,
  fromOf: (rendition: string) => number,
): Promise<void> {
  for (const dir of renditions) {
    const from = fromOf(dir);
    const folder = path.join(stagingDir, dir);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const seg = SEGMENT_NAME.exec(name);
      const stale = name === playlistName || name.endsWith('.tmp') || (seg !== null && Number(seg[1]) >= from);
      if (stale) await rm(path.join(folder, name), { force: true });
    }
  }
}

/** The resume record is worth a resume, not the job: a state_dir that cannot take it (full) is only logged. */
async function writeMetaOrWarn(deps: ResumeRunDeps, meta: ResumeMeta): Promise<void> {
  try {
    await writeResumeMeta(deps.stateDir, meta);
  } catch (err) {
    deps.log.warn(
      { err: errorMessage(err) },
      'cannot write the resume record in state_dir: this run cannot be resumed',
    );
  }
}
