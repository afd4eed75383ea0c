/**
 * Before any work: every destination of the job must be ours to replace. The commit checks again (hours pass in
 * between); this check only spares a long transcode whose commit could never happen.
 */
import { JobValidationError } from '../errors.js';
import { ConfinementError, openNasFs } from '../storage/nas-fs.js';
import { findForeignDestination, type Destinations } from '../storage/ownership.js';
import { tracksFolderName } from '../transcode/job-fields.js';
import type { ValidatedJob } from '../transcode/validated-job.js';

/**
 * Fails the job when a destination holds someone else's files (storage/ownership.ts), or when the way to it goes
 * through a symbolic link.
 */
export async function assertDestinationsAreOurs(
  validated: Pick<ValidatedJob, 'outputs' | 'masterDir' | 'masterPlaylistName'>,
  nasRoot: string,
): Promise<void> {
  const masterInside = validated.outputs.some((o) => o.destPath === validated.masterDir);
  const nas = await openNasFs(nasRoot);
  const checks: Array<{ where: string; dest: Destinations }> = [
    ...validated.outputs.map((o) => ({ where: o.destPath, dest: { folders: [o.destPath], master: null } })),
  ];
  if (!masterInside) {
    const master = { dirPath: validated.masterDir, name: validated.masterPlaylistName };
    checks.push({ where: `${master.dirPath}/${master.name}`, dest: { folders: [], master } });
    // The audio and subtitle renditions' folder beside the master (inside the rendition's folder when the master
    // is: then that folder's check covers it).
    const tracks = [validated.masterDir, tracksFolderName(validated.masterPlaylistName)].filter(Boolean).join('/');
    checks.push({ where: tracks, dest: { folders: [tracks], master: null } });
  }
  let problem: string | null = null;
  for (const c of checks) {
    try {
      problem = await findForeignDestination(nas, c.dest);
    } catch (err) {
      if (!(err instanceof ConfinementError)) throw err;
      problem = `the destination "${c.where}" cannot be written: ${err.message}`;
    }
    if (problem) break;
  }
  if (problem) throw new JobValidationError(problem);
}
