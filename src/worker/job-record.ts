/**
 * A durable note of the job that is running, so that a worker killed mid-job (SIGKILL, power loss, OOM) can, on its
 * next start, tell the orchestrator the job failed and clean its staging instead of leaving both hanging.
 */
import path from 'node:path';
import { readJson, removeFile, writeJsonDurably } from '../util/durable-file.js';

export interface RunningJobRecord {
  job_id: string;
  started_at: string;
  pid: number;
  /** ffmpeg processes the job started (see orphans.ts). */
  ffmpeg_pids?: number[];
}

export class JobRecordStore {
  private readonly file: string;
  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'running-job.json');
  }
  async write(record: RunningJobRecord): Promise<void> {
    await writeJsonDurably(this.file, record);
  }
  async read(): Promise<RunningJobRecord | undefined> {
    try {
      return await readJson<RunningJobRecord>(this.file);
    } catch {
      // A torn write cannot happen (atomic rename), but a hand-edited or zeroed file can: treat it as no record.
      return undefined;
    }
  }
  async clear(): Promise<void> {
    await removeFile(this.file);
  }
}
