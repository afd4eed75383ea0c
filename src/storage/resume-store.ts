/**
 * The records of interrupted work kept for a resume: `<state_dir>/resume/<safeJobId>/meta.json` (what the job was,
 * from which source with which settings, how far it got) and `segments.jsonl` (the segment journal), beside the
 * job's staging folder `<temp_dir>/jobs/<safeJobId>` that holds the finished segments themselves.
 *
 * Kept work costs disk, so it has a lifetime (resume_keep) and a budget (resume_disk_budget): pruneResumables drops
 * the expired first, then the oldest until the kept staging fits. It only ever touches what has a record here: a
 * staging folder without one belongs to the running job or to crash recovery (worker/recovery), not to us.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { errorMessage } from '../errors.js';
import { writeJsonDurably } from '../util/durable-file.js';
import { readValidatedStateFile, type StateFileLog } from '../util/state-file.js';
import { jobStagingDir, safeJobId } from './paths.js';

export const ResumeMetaSchema = Type.Object({
  version: Type.Literal(1),
  job_id: Type.String({ minLength: 1 }),
  staging_dir: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  fingerprint: Type.Object({
    source: Type.Object({
      size: Type.Integer({ minimum: 0 }),
      mtime_ms: Type.Number(),
      head_sha256: Type.String(),
      tail_sha256: Type.String(),
    }),
    /** settingsDigest of everything that shapes the encode. */
    settings: Type.String(),
  }),
  segment_time: Type.Number({ exclusiveMinimum: 0 }),
  segment_type: Type.Union([Type.Literal('ts'), Type.Literal('fmp4')]),
  playlist_name: Type.String({ minLength: 1 }),
  renditions: Type.Array(Type.String()),
  /** ceil(duration / segment_time). */
  total_segments: Type.Integer({ minimum: 0 }),
  state: Type.Union([Type.Literal('running'), Type.Literal('interrupted')]),
  interrupted: Type.Optional(
    Type.Object({ at: Type.String(), reason: Type.String(), segments_done: Type.Integer({ minimum: 0 }) }),
  ),
});
export type ResumeMeta = Static<typeof ResumeMetaSchema>;

export type ResumeStoreLog = StateFileLog & { info(obj: object, msg: string): void };

export function resumeDirOf(stateDir: string, jobId: string): string {
  return path.join(stateDir, 'resume', safeJobId(jobId));
}

export function resumeMetaFile(stateDir: string, jobId: string): string {
  return path.join(resumeDirOf(stateDir, jobId), 'meta.json');
}

/** The segment journal's file (openSegmentJournal's `file`). */
export function segmentJournalFile(stateDir: string, jobId: string): string {
  return path.join(resumeDirOf(stateDir, jobId), 'segments.jsonl');
}

/** The job's record, or undefined when there is none or it was bad (then moved aside with a warning). */
export async function readResumeMeta(
  stateDir: string,
  jobId: string,
  log: StateFileLog,
): Promise<ResumeMeta | undefined> {
  const meta = await readValidatedStateFile(resumeMetaFile(stateDir, jobId), ResumeMetaSchema, log, 'resume record');
  // A record under this folder for another id (two ids that safeJobId maps to one name) is not this job's.
  return meta && meta.job_id === jobId ? meta : undefined;
}

export async function writeResumeMeta(stateDir: string, meta: ResumeMeta): Promise<void> {
  await writeJsonDurably(resumeMetaFile(stateDir, meta.job_id), meta);
}

/**
 * Forgets a job's kept work: its staging first, then the record, so a crash in between leaves a record whose
 * staging is gone (which pruneResumables drops), never staging without a record (which nothing would remove).
 */
export async function dropResumable(stateDir: string, tempDir: string, jobId: string): Promise<void> {
  await dropByName(stateDir, tempDir, safeJobId(jobId));
}

async function dropByName(stateDir: string, tempDir: string, name: string): Promise<void> {
  await fs.rm(path.join(tempDir, 'jobs', name), { recursive: true, force: true, maxRetries: 3 });
  await fs.rm(path.join(stateDir, 'resume', name), { recursive: true, force: true, maxRetries: 3 });
}

export interface Resumable {
  /** The folder name under <state_dir>/resume (safeJobId of the job id). */
  name: string;
  /** Undefined when meta.json is absent or was bad (moved aside). */
  meta?: ResumeMeta;
}

export async function listResumables(stateDir: string, log: StateFileLog): Promise<Resumable[]> {
  let names: string[];
  try {
    names = (await fs.readdir(path.join(stateDir, 'resume'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Resumable[] = [];
  for (const name of names.sort()) {
    const file = path.join(stateDir, 'resume', name, 'meta.json');
    const meta = await readValidatedStateFile(file, ResumeMetaSchema, log, 'resume record');
    out.push(meta && safeJobId(meta.job_id) === name ? { name, meta } : { name });
  }
  return out;
}

export type DropReason = 'unreadable' | 'staging-missing' | 'resume-off' | 'expired' | 'over-budget';

export interface DroppedResumable {
  name: string;
  jobId?: string;
  reason: DropReason;
  /** Staging bytes freed. */
  bytes: number;
  updatedAt?: string;
}

export interface PruneOptions {
  stateDir: string;
  tempDir: string;
  /** resume_keep in ms; 0 (or less) drops everything: resume is off. */
  keepMs: number;
  /** resume_disk_budget: the most staging bytes all kept jobs together may hold. */
  budgetBytes: number;
  /** ms since the epoch. */
  now: number;
  log: ResumeStoreLog;
  /** Jobs whose record is live and must stay whatever its age (the running job). */
  skipJobIds?: Iterable<string>;
}

/**
 * Drops kept work that may not stay: records that are unreadable or whose staging is gone (nothing to resume),
 * then the expired ones (updated_at older than keepMs), then the oldest until the staging total is within budget.
 * Returns what it dropped and why, in that order; each drop is also logged. A drop that fails is logged and left
 * for the next prune.
 */
export async function pruneResumables(o: PruneOptions): Promise<DroppedResumable[]> {
  const skip = new Set([...(o.skipJobIds ?? [])].map(safeJobId));
  const dropped: DroppedResumable[] = [];
  const kept: { r: Resumable & { meta: ResumeMeta }; bytes: number; updated: number }[] = [];
  const drop = async (r: Resumable, reason: DropReason, bytes: number): Promise<void> => {
    const entry: DroppedResumable = {
      name: r.name,
      reason,
      bytes,
      ...(r.meta ? { jobId: r.meta.job_id, updatedAt: r.meta.updated_at } : {}),
    };
    try {
      await dropByName(o.stateDir, o.tempDir, r.name);
    } catch (err) {
      o.log.warn({ ...entry, err: errorMessage(err) }, 'could not drop the kept work of an interrupted job');
      return;
    }
    o.log.info(entry, `dropped the kept work of an interrupted job (${reason})`);
    dropped.push(entry);
  };

  for (const r of await listResumables(o.stateDir, o.log)) {
    if (skip.has(r.name)) continue;
    const staging = path.join(o.tempDir, 'jobs', r.name);
    const bytes = await treeBytes(staging);
    if (!r.meta) {
      await drop(r, 'unreadable', bytes ?? 0);
      continue;
    }
    // The pipeline stages only at jobStagingDir: a record naming another folder (temp_dir changed) has nothing here.
    if (
      bytes === undefined ||
      path.resolve(r.meta.staging_dir) !== path.resolve(jobStagingDir(o.tempDir, r.meta.job_id))
    ) {
      await drop(r, 'staging-missing', bytes ?? 0);
      continue;
    }
    const updated = Date.parse(r.meta.updated_at);
    if (o.keepMs <= 0) await drop(r, 'resume-off', bytes);
    else if (!(o.now - updated <= o.keepMs)) await drop(r, 'expired', bytes);
    else kept.push({ r: r as Resumable & { meta: ResumeMeta }, bytes, updated });
  }

  kept.sort((a, b) => a.updated - b.updated || a.r.name.localeCompare(b.r.name));
  let total = kept.reduce((sum, k) => sum + k.bytes, 0);
  for (const k of kept) {
    if (total <= o.budgetBytes) break;
    await drop(k.r, 'over-budget', k.bytes);
    total -= k.bytes;
  }
  return dropped;
}

/** Bytes of the files under `dir` (links not followed); undefined when dir does not exist. */
async function treeBytes(dir: string): Promise<number | undefined> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  let sum = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sum += (await treeBytes(p)) ?? 0;
    else if (e.isFile())
      sum += await fs.lstat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return sum;
}
