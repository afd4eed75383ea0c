/**
 * The commit never goes on without its journal: while state_dir cannot take it the commit waits (saying why), and
 * fails the job only after the give-up time, or at once on a cancel, with nothing published either way.
 * state_dir/commits is made a FILE here, which no user (root included) can write a journal into.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobCancelledError, StorageError } from '../../../src/errors.js';
import { commitOutputs, type CommitSpec } from '../../../src/storage/commit.js';
import { listFiles } from '../../helpers/fs-snapshot.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';
import { waitFor } from '../../helpers/wait.js';

let root: string;
let nas: string;
let state: string;
let spec: CommitSpec;

beforeEach(async () => {
  root = await makeTempDir('tw-journal-wait-');
  nas = path.join(root, 'nas');
  state = path.join(root, 'state');
  const staged = path.join(root, 'staging', '240p');
  await mkdir(nas, { recursive: true });
  await mkdir(staged, { recursive: true });
  await writeFile(path.join(staged, 'index.m3u8'), '#EXTM3U\n');
  await writeFile(path.join(staged, 'seg0.ts'), 'segment');
  await mkdir(state, { recursive: true });
  await writeFile(path.join(state, 'commits'), 'not a folder');
  spec = {
    jobId: 'job-1',
    folders: [{ destPath: 'out/240p', sourceDir: staged, files: ['index.m3u8', 'seg0.ts'] }],
    master: null,
  };
});
afterEach(() => removeDir(root));

describe('a commit whose journal state_dir cannot take', () => {
  it('waits, saying why, and publishes once state_dir can take it', async () => {
    const problems: Array<string | undefined> = [];
    const done = commitOutputs(spec, {
      nasRoot: nas,
      stateDir: state,
      concurrency: 2,
      journalRetry: { startMs: 20, maxMs: 50, giveUpMs: 60_000 },
      onStateDirProblem: (p) => problems.push(p),
    });
    await waitFor(() => problems.length >= 2, { message: 'the commit to say it waits' });
    expect(problems[0]).toMatch(/^state_dir cannot be written \(recording the commit of job job-1: /);
    expect(existsSync(path.join(nas, 'out'))).toBe(false);
    await rm(path.join(state, 'commits'));
    await done;
    expect(problems.at(-1)).toBeUndefined();
    expect(await listFiles(path.join(nas, 'out'))).toEqual([
      '240p/.transcode-worker.json',
      '240p/index.m3u8',
      '240p/seg0.ts',
    ]);
  });

  it('fails after the give-up time with a StorageError naming state_dir, nothing published', async () => {
    const problems: Array<string | undefined> = [];
    const err = await commitOutputs(spec, {
      nasRoot: nas,
      stateDir: state,
      concurrency: 2,
      journalRetry: { startMs: 10, maxMs: 20, giveUpMs: 100 },
      onStateDirProblem: (p) => problems.push(p),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(`cannot record the commit in state_dir (${state})`);
    expect((err as Error).message).toMatch(/nothing was published$/);
    expect(problems.at(-1)).toBeUndefined();
    expect(await listFiles(nas)).toEqual([]);
  });

  it('stops waiting at once on a cancel, nothing published', async () => {
    const abort = new AbortController();
    const problems: Array<string | undefined> = [];
    const done = commitOutputs(spec, {
      nasRoot: nas,
      stateDir: state,
      concurrency: 2,
      signal: abort.signal,
      journalRetry: { startMs: 60_000, maxMs: 60_000, giveUpMs: 600_000 },
      onStateDirProblem: (p) => problems.push(p),
    }).catch((e: unknown) => e);
    await waitFor(() => problems.length >= 1, { message: 'the commit to say it waits' });
    abort.abort(new JobCancelledError('job cancelled by the orchestrator'));
    const err = await done;
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(problems.at(-1)).toBeUndefined();
    expect(await listFiles(nas)).toEqual([]);
  });
});
