/**
 * A durable note of the job that is running, so that a worker killed mid-job (SIGKILL, power loss, OOM) can, on its
 * next start, tell the orchestrator the job failed and clean its staging instead of leaving both hanging.
 *
 * The record names the process that wrote it (pid plus, where the OS tells, its start time, boot id and host name:
 * src/util/process-identity.ts), so recovery can tell "that worker is gone" from "that worker still runs".
 * A record of the wrong shape (hand-edited, zeroed, from a tool we do not know) is moved aside, never a crash loop.
 */
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { removeFile, writeJsonDurably } from '../util/durable-file.js';
import { readValidatedStateFile } from '../util/state-file.js';

export const RunningJobRecordSchema = Type.Object({
  job_id: Type.String({ minLength: 1 }),
  started_at: Type.String(),
  pid: Type.Integer({ minimum: 1 }),
  /** Linux: the kernel's start time of `pid`, to tell a reused pid apart. */
  pid_start: Type.Optional(Type.String()),
  boot_id: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String()),
  /** ffmpeg processes the job started (see orphans.ts). */
  ffmpeg_pids: Type.Optional(Type.Array(Type.Integer())),
});
export type RunningJobRecord = Static<typeof RunningJobRecordSchema>;

export class JobRecordStore {
  readonly file: string;
  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(stateDir, 'running-job.json');
  }
  async write(record: RunningJobRecord): Promise<void> {
    await writeJsonDurably(this.file, record);
  }
  /** The record, or undefined when there is none or it was bad (then moved aside with a warning). */
  async read(): Promise<RunningJobRecord | undefined> {
    return readValidatedStateFile(this.file, RunningJobRecordSchema, this.log, 'running-job record');
  }
  /**
   * Removes the record of THIS run only (same job id and start time): the removal may be queued behind a slow
   * result write, and by then the next job may have written its own record, which must stay.
   */
  async clear(record: Pick<RunningJobRecord, 'job_id' | 'started_at'>): Promise<void> {
    const onDisk = await this.read();
    if (onDisk && (onDisk.job_id !== record.job_id || onDisk.started_at !== record.started_at)) return;
    await removeFile(this.file);
  }
}
