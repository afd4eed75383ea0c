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
