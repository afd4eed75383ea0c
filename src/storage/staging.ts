/**
 * The job's local staging folder: created fresh before ffmpeg, checked for room, removed on every outcome.
 */
import { mkdir, rm, statfs } from 'node:fs/promises';
import { StorageError } from '../errors.js';
import type { TranscodePlan } from '../transcode/types.js';
import { jobStagingDir } from './paths.js';
import { describeFsError } from '../util/fs-errors.js';

const MB = 1024 * 1024;
/** Playlists, init segments, the muxer's temp files and filesystem slack. */
const FIXED_MARGIN_BYTES = 32 * MB;
/** Encoders overshoot their target bitrate on complex scenes; leave 20% headroom. */
const OVERSHOOT = 1.2;

/** Creates an empty staging folder for the job (a leftover from a crashed run is wiped first). */
export async function createStagingDir(tempDir: string, jobId: string): Promise<string> {
  const dir = jobStagingDir(tempDir, jobId);
  try {
    await removeDirWithRetries(dir);
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StorageError(`cannot create the staging folder ${dir}: ${describeFsError(err)}`, { cause: err });
  }
  return dir;
}

/** Bytes the staged output will need: every rung's and audio rendition's bitrate over the source duration, plus margin. */
export function estimateOutputBytes(plan: Pick<TranscodePlan, 'renditions' | 'audioGroups' | 'source'>): number {
  const audioBps = plan.audioGroups.reduce((sum, g) => sum + g.renditions.reduce((s, a) => s + a.bitrate, 0), 0);
  const bps = plan.renditions.reduce((sum, r) => sum + Math.max(r.videoBitrate, r.maxRate || 0), audioBps);
  const duration = Math.max(0, plan.source.durationSec || 0);
  return Math.ceil(((bps * duration) / 8) * OVERSHOOT) + FIXED_MARGIN_BYTES;
}

/** Free bytes available to this (unprivileged) process on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Fails early, before ffmpeg runs, when the staging filesystem cannot hold the output. */
export async function assertStagingSpace(
  dir: string,
  neededBytes: number,
  getFree: (dir: string) => Promise<number> = freeBytes,
): Promise<void> {
  let free: number;
  try {
    free = await getFree(dir);
  } catch {
    // statfs is missing on some network filesystems; the copy itself will still fail cleanly if space runs out.
    return;
  }
  if (free < neededBytes) {
    throw new StorageError(
      `not enough space in temp_dir (${dir}): this job needs about ${Math.ceil(neededBytes / MB)} MB, ` +
        `${Math.floor(free / MB)} MB free (free some space or point temp_dir at a larger disk)`,
    );
  }
}

/**
 * rm -rf that tolerates Windows: files still held open by a virus scanner or an indexer for a moment make
 * deletion fail with EBUSY/EPERM, so retry a few times before giving up.
 */
export async function removeDirWithRetries(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

/** Removes the staging folder; never throws (cleanup must not hide the job's real outcome). Returns the error, if any. */
export async function removeStagingDir(dir: string): Promise<Error | undefined> {
  try {
    await removeDirWithRetries(dir);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
