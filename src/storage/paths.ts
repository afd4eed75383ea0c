import { createHash } from 'node:crypto';
import path from 'node:path';

/** A job id made safe as one folder name (ids come from the orchestrator and may contain anything). */
export function safeJobId(jobId: string): string {
  const cleaned = jobId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 120) || '_';
}

/**
 * The job's private staging folder under temp_dir. The lifecycle relies on this convention to remove the staging
 * of a job that was running when the worker crashed, so the pipeline must stage nowhere else.
 */
export function jobStagingDir(tempDir: string, jobId: string): string {
  return path.join(tempDir, 'jobs', safeJobId(jobId));
}

/** Short, fixed-length hex digest: for file names that must not grow with (or leak the shape of) their inputs. */
function digest(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

/**
 * The commit's hidden sibling of a NAS destination (`name` is the destination's last component): 24 bytes whatever
 * the destination's name, so a 255-byte folder name still has a legal temporary name, and unique per job and
 * destination within one parent folder.
 */
export function hiddenSiblingName(kind: 'tmp' | 'old', jobId: string, name: string): string {
  return `.tw-${kind}-${digest(`${kind}\0${jobId}\0${name}`, 16)}`;
}

/** The commit journal's file name of a job: a digest of the full id, so distinct ids never share a journal. */
export function commitJournalName(jobId: string): string {
  return `${digest(jobId, 32)}.json`;
}
