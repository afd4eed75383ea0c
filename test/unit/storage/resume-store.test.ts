import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStagingDir } from '../../../src/storage/paths.js';
import {
  dropResumable,
  listResumables,
  pruneResumables,
  readResumeMeta,
  resumeDirOf,
  resumeMetaFile,
  segmentJournalFile,
  writeResumeMeta,
  type ResumeMeta,
} from '../../../src/storage/resume-store.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

let tmp: string;
let stateDir: string;
let tempDir: string;
const warnings: string[] = [];
const infos: object[] = [];
const log = { warn: (_o: object, msg: string) => warnings.push(msg), info: (o: object) => infos.push(o) };

beforeEach(async () => {
  tmp = await makeTempDir('tw-resume-store-');
  stateDir = path.join(tmp, 'state');
  tempDir = path.join(tmp, 'temp');
  warnings.length = 0;
  infos.length = 0;
});
afterEach(() => removeDir(tmp));

const HOUR = 3_600_000;
const NOW = Date.parse('2026-12-06T12:00:00Z');

function meta(jobId: string, updatedHoursAgo: number): ResumeMeta {
  const at = new Date(NOW - updatedHoursAgo * HOUR).toISOString();
  return {
    version: 1,
    job_id: jobId,
    staging_dir: jobStagingDir(tempDir, jobId),
    created_at: at,
    updated_at: at,
    fingerprint: {
      source: { size: 10, mtime_ms: 1, head_sha256: 'a'.repeat(64), tail_sha256: 'b'.repeat(64) },
      settings: 'c'.repeat(64),
    },
    segment_time: 4,
    segment_type: 'ts',
    playlist_name: 'stream.m3u8',
    renditions: ['v0', 'a0'],
    total_segments: 30,
    state: 'interrupted',
    interrupted: { at, reason: 'worker stopped', segments_done: 6 },
  };
}

/** A kept job: its record and `bytes` of staging. */
async function keep(jobId: string, updatedHoursAgo: number, bytes: number): Promise<void> {
  await writeResumeMeta(stateDir, meta(jobId, updatedHoursAgo));
  const dir = path.join(jobStagingDir(tempDir, jobId), 'v0');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'seg_00000.ts'), Buffer.alloc(bytes));
}

describe('resume records', () => {
  it('live under <state_dir>/resume/<safeJobId> and round-trip', async () => {
    expect(resumeDirOf(stateDir, 'a/b c')).toBe(path.join(stateDir, 'resume', 'a_b_c'));
    expect(segmentJournalFile(stateDir, 'j1')).toBe(path.join(stateDir, 'resume', 'j1', 'segments.jsonl'));
    await writeResumeMeta(stateDir, meta('j1', 1));
    expect(await readResumeMeta(stateDir, 'j1', log)).toEqual(meta('j1', 1));
    expect(await readResumeMeta(stateDir, 'nope', log)).toBeUndefined();
  });

  it('a bad meta.json is moved aside with a warning, never a crash', async () => {
    await mkdir(resumeDirOf(stateDir, 'j1'), { recursive: true });
    await writeFile(resumeMetaFile(stateDir, 'j1'), '{"version": 1, "job_id": "j1"}');
    expect(await readResumeMeta(stateDir, 'j1', log)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect((await readdir(resumeDirOf(stateDir, 'j1'))).some((n) => n.startsWith('meta.json.corrupt-'))).toBe(true);
  });

  it('dropResumable removes the staging and the record', async () => {
    await keep('j1', 1, 10);
    await dropResumable(stateDir, tempDir, 'j1');
    expect(existsSync(resumeDirOf(stateDir, 'j1'))).toBe(false);
    expect(existsSync(jobStagingDir(tempDir, 'j1'))).toBe(false);
    expect(await listResumables(stateDir, log)).toEqual([]);
  });
});

describe('pruneResumables', () => {
  const prune = (keepMs: number, budgetBytes: number, skipJobIds?: string[]) =>
    pruneResumables({ stateDir, tempDir, keepMs, budgetBytes, now: NOW, log, ...(skipJobIds ? { skipJobIds } : {}) });

  it('drops the expired first, then the oldest until the staging fits the budget', async () => {
    await keep('old', 30, 100); // expired (keep 24h)
    await keep('a', 10, 400);
    await keep('b', 5, 400);
    await keep('c', 1, 400);
    const dropped = await prune(24 * HOUR, 900);
    expect(dropped.map((d) => [d.jobId, d.reason, d.bytes])).toEqual([
      ['old', 'expired', 100],
      ['a', 'over-budget', 400],
    ]);
    expect((await listResumables(stateDir, log)).map((r) => r.meta?.job_id)).toEqual(['b', 'c']);
    expect(existsSync(jobStagingDir(tempDir, 'a'))).toBe(false);
    expect(existsSync(jobStagingDir(tempDir, 'b'))).toBe(true);
    expect(infos).toHaveLength(2);
  });

  it('drops records without staging or without a readable meta, skips the running job, and never touches staging without a record', async () => {
    await keep('gone', 1, 10);
    await removeDir(jobStagingDir(tempDir, 'gone'));
    await mkdir(resumeDirOf(stateDir, 'half'), { recursive: true }); // crashed before meta.json was written
    await keep('running', 100, 10);
    await mkdir(jobStagingDir(tempDir, 'no-record'), { recursive: true });
    const dropped = await prune(24 * HOUR, 1e9, ['running']);
    expect(dropped.map((d) => [d.name, d.reason])).toEqual([
      ['gone', 'staging-missing'],
      ['half', 'unreadable'],
    ]);
    expect(existsSync(jobStagingDir(tempDir, 'no-record'))).toBe(true);
    expect(existsSync(resumeDirOf(stateDir, 'running'))).toBe(true);
  });

  it('resume_keep 0 drops everything kept', async () => {
    await keep('a', 0, 10);
    expect((await prune(0, 1e9)).map((d) => d.reason)).toEqual(['resume-off']);
  });
});
