/**
 * Turns a verified staging tree into what the commit copies: one folder per rendition (only the files its
 * playlist references, so muxer leftovers never reach the NAS) and the master playlist.
 */
import type { TranscodePlan } from '../transcode/types.js';
import type { CommitSpec } from './commit.js';
import type { VerifiedStaging } from './verify.js';

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
