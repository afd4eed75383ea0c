/**
 * Turns a verified staging tree into what the commit copies: one folder per video rung (only the files its
 * playlists reference, so muxer leftovers never reach the NAS), the folder of the audio and subtitle renditions
 * (masterDir/<tracksDir>), and the master playlist.
 */
import path from 'node:path';
import type { TranscodePlan } from '../transcode/types.js';
import type { VerifiedStaging } from './verify.js';

export interface CommitFolder {
  /** Destination relative to the NAS root, forward slashes, no trailing slash. */
  destPath: string;
  /** Absolute staged folder. */
  sourceDir: string;
  /** Files to copy, relative to sourceDir, forward slashes. */
  files: string[];
}

export interface CommitSpec {
  jobId: string;
  folders: CommitFolder[];
  /** The master playlist when it is not inside one of the folders (several outputs): copied last. */
  master: { dirPath: string; name: string; sourceFile: string } | null;
}

/** The folder of the audio and subtitle renditions on the NAS, relative to the NAS root. */
export function tracksDestPath(plan: Pick<TranscodePlan, 'masterDir' | 'tracksDir'>): string {
  return plan.masterDir ? `${plan.masterDir}/${plan.tracksDir}` : plan.tracksDir;
}

export function buildCommitSpec(
  plan: Pick<TranscodePlan, 'jobId' | 'masterDir' | 'masterPlaylistName' | 'stagingDir' | 'tracksDir'>,
  verified: VerifiedStaging,
): CommitSpec {
  let masterInsideFolder = false;
  const folders: CommitFolder[] = verified.renditions.map((s) => {
    const files = [...s.files];
    // A single output: the master lives in the rendition's own folder, so it travels (atomically) with it, and so
    // do the audio and subtitle renditions (a folder inside it: swapping it on its own would put its hidden copy
    // inside the folder being replaced).
    if (s.rendition.destPath === plan.masterDir) {
      masterInsideFolder = true;
      if (!files.includes(plan.masterPlaylistName)) files.push(plan.masterPlaylistName);
      files.push(...verified.trackFiles);
    }
    return { destPath: s.rendition.destPath, sourceDir: s.stagedDir, files };
  });
  if (!masterInsideFolder && verified.trackFiles.length > 0) {
    const prefix = `${plan.tracksDir}/`;
    folders.push({
      destPath: tracksDestPath(plan),
      sourceDir: path.join(plan.stagingDir, ...plan.tracksDir.split('/')),
      files: verified.trackFiles.map((f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f)),
    });
  }
  return {
    jobId: plan.jobId,
    folders,
    master: masterInsideFolder
      ? null
      : { dirPath: plan.masterDir, name: plan.masterPlaylistName, sourceFile: verified.masterFile },
  };
}
