/**
 * Turns a verified staging tree into what the commit copies: one folder per rendition (only the files its
 * playlist references, so muxer leftovers never reach the NAS) and the master playlist.
 */
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

export function buildCommitSpec(
  plan: Pick<TranscodePlan, 'jobId' | 'masterDir' | 'masterPlaylistName'>,
  verified: VerifiedStaging,
): CommitSpec {
  let masterInsideFolder = false;
  const folders = verified.renditions.map((s) => {
    const files = [...s.files];
    // A single output: the master lives in the rendition's own folder, so it travels (atomically) with it.
    if (s.rendition.destPath === plan.masterDir) {
      masterInsideFolder = true;
      if (!files.includes(plan.masterPlaylistName)) files.push(plan.masterPlaylistName);
    }
    return { destPath: s.rendition.destPath, sourceDir: s.stagedDir, files };
  });
  return {
    jobId: plan.jobId,
    folders,
    master: masterInsideFolder
      ? null
      : { dirPath: plan.masterDir, name: plan.masterPlaylistName, sourceFile: verified.masterFile },
  };
}
