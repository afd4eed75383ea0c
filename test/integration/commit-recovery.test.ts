/**
 * The commit against real files under faults: a worker killed between its renames (a real child process, SIGKILL),
 * a link swapped in mid-commit, an abort while copying, a corrupt journal. After recovery the NAS is all old or
 * all new, with no hidden leftovers, and nothing outside the NAS was touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobCancelledError, StorageError } from '../../src/errors.js';
import { commitOutputs, type CommitSpec } from '../../src/storage/commit.js';
import { recoverInterruptedCommits } from '../../src/storage/commit-recovery.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { makeTempDir, removeDir } from '../helpers/media.js';
import { waitFor } from '../helpers/wait.js';

const CHILD = fileURLToPath(new URL('../helpers/commit-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let root: string;
let nas: string;
let state: string;
let staging: string;
let outside: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await makeTempDir('tw-recover-');
  nas = path.join(root, 'nas');
  state = path.join(root, 'state');
  staging = path.join(root, 'staging');
  outside = path.join(root, 'outside');
  await mkdir(path.join(nas, 'processed', 'movie'), { recursive: true });
  await mkdir(outside);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await removeDir(root);
});

/** A staged ladder of `rungs` folders with `perRung` segments each, plus a master, tagged with `version`. */
async function ladder(version: string, rungs = ['720p', '360p'], perRung = 2, jobId = 'job-1'): Promise<CommitSpec> {
  const folders = [];
  for (const rung of rungs) {
    const dir = path.join(staging, version, rung);
    await mkdir(dir, { recursive: true });
    const files = ['stream.m3u8'];
    await writeFile(path.join(dir, 'stream.m3u8'), `${rung} ${version}`);
    for (let i = 0; i < perRung; i++) {
      files.push(`seg${i}.ts`);
      await writeFile(path.join(dir, `seg${i}.ts`), `${rung} seg${i} ${version}`);
    }
    folders.push({ destPath: `processed/movie/${rung}`, sourceDir: dir, files });
  }
  const master = path.join(staging, version, 'index.m3u8');
  await writeFile(master, `master ${version}`);
  return { jobId, folders, master: { dirPath: 'processed/movie', name: 'index.m3u8', sourceFile: master } };
}

const opts = () => ({ nasRoot: nas, stateDir: state, concurrency: 2 });

/** Version tags of what is published: every rung's files and the master must agree. */
async function versions(): Promise<Set<string>> {
  const seen = new Set<string>();
  const dir = path.join(nas, 'processed', 'movie');
  for (const name of await readdir(dir)) {
    if (name === '.transcode-worker.json') continue;
    if (name === 'index.m3u8') seen.add((await readFile(path.join(dir, name), 'utf8')).split(' ').at(-1)!);
    else if (!name.startsWith('.'))
      for (const f of (await readdir(path.join(dir, name))).filter((x) => !x.startsWith('.')))
        seen.add((await readFile(path.join(dir, name, f), 'utf8')).split(' ').at(-1)!);
  }
  return seen;
}

async function hiddenLeftovers(): Promise<string[]> {
  return (await readdir(path.join(nas, 'processed', 'movie'))).filter((n) => n.startsWith('.tw-'));
}

/** Starts a commit in a child process that stops at the chosen point, waits for it to get there, and SIGKILLs it. */
async function killCommitAt(spec: CommitSpec, at: { pauseAtRename?: number; pauseAtCopy?: number }): Promise<void> {
  const readyFile = path.join(root, `ready-${Date.now()}`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ spec, nasRoot: nas, stateDir: state, readyFile, ...at })],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => existsSync(readyFile) || child.exitCode !== null, {
    timeoutMs: 30_000,
    message: () => `the commit child to reach its stop (output: ${output})`,
  });
  expect(child.exitCode, output).toBe(null);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('a worker killed mid-commit is repaired at the next start', () => {
  it('killed between the swaps of a two-rung ladder (half old, half new): rolled back to all old', async () => {
    await commitOutputs(await ladder('v1'), opts());
    const before = await snapshotTree(nas);
    // Renames: 720p -> .old, .tmp -> 720p, then stop before 360p -> .old.
    await killCommitAt(await ladder('v2'), { pauseAtRename: 3 });
    expect(await versions()).toEqual(new Set(['v1', 'v2'])); // the mixed state a dead worker leaves
    expect(await recoverInterruptedCommits({ stateDir: state, nasRoot: nas })).toBe(1);
    expect(await snapshotTree(nas)).toEqual(before);
    expect(await readdir(path.join(state, 'commits'))).toEqual([]);
  });

  it('killed between "dest -> .old" and ".tmp -> dest" (the output hidden): the old output is back', async () => {
    await commitOutputs(await ladder('v1'), opts());
    const before = await snapshotTree(nas);
    await killCommitAt(await ladder('v2'), { pauseAtRename: 2 });
    expect(existsSync(path.join(nas, 'processed/movie/720p'))).toBe(false);
    await recoverInterruptedCommits({ stateDir: state, nasRoot: nas });
    expect(await snapshotTree(nas)).toEqual(before);
  });

  it('killed after every folder was swapped, before the master: rolled forward to all new', async () => {
    await commitOutputs(await ladder('v1'), opts());
    await killCommitAt(await ladder('v2'), { pauseAtRename: 5 });
    expect(await hiddenLeftovers()).not.toEqual([]);
    await recoverInterruptedCommits({ stateDir: state, nasRoot: nas });
    expect(await versions()).toEqual(new Set(['v2']));
    expect(await hiddenLeftovers()).toEqual([]);
    expect(await readdir(path.join(state, 'commits'))).toEqual([]);
  });

  it('killed while copying (first commit, folders created by it): the hidden leftovers and its folders go', async () => {
    await killCommitAt(
      {
        ...(await ladder('v1')),
        folders: (await ladder('v1')).folders.map((f) => ({
          ...f,
          destPath: f.destPath.replace('processed/movie', 'processed/new/movie'),
        })),
        master: { ...(await ladder('v1')).master!, dirPath: 'processed/new/movie' },
      },
      { pauseAtCopy: 3 },
    );
    expect(existsSync(path.join(nas, 'processed/new/movie'))).toBe(true);
    await recoverInterruptedCommits({ stateDir: state, nasRoot: nas });
    expect(existsSync(path.join(nas, 'processed/new'))).toBe(false);
    expect(await readdir(path.join(state, 'commits'))).toEqual([]);
  });

  it('a corrupt or wrong-shaped journal is moved aside with a warning, never a crash', async () => {
    await mkdir(path.join(state, 'commits'), { recursive: true });
    await writeFile(path.join(state, 'commits', 'a.json'), '{"trunc');
    await writeFile(path.join(state, 'commits', 'b.json'), '{}');
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), error: () => undefined };
    expect(await recoverInterruptedCommits({ stateDir: state, nasRoot: nas, log: log as never })).toBe(0);
    const names = (await readdir(path.join(state, 'commits'))).sort();
    expect(names).toHaveLength(2);
    for (const n of names) expect(n).toMatch(/^[ab]\.json\.corrupt-\d{8}T\d{9}Z$/);
    expect(warnings).toHaveLength(2);
  });
});

describe('confinement mid-commit', () => {
  it('the destination parent swapped for a link to outside between two renames: fails naming it, outside untouched', async () => {
    await commitOutputs(await ladder('v1'), opts());
    // What lies outside, shaped like the output, so a commit that followed the link would write and delete there.
    await mkdir(path.join(outside, '720p'));
    await mkdir(path.join(outside, '360p'));
    await writeFile(path.join(outside, '720p', 'precious.txt'), 'keep me');
    await writeFile(path.join(outside, '360p', 'precious.txt'), 'keep me too');
    const outsideBefore = await snapshotTree(outside);
    const movie = path.join(nas, 'processed', 'movie');
    let renames = 0;
    const err = await commitOutputs(await ladder('v2'), {
      ...opts(),
      renameFn: async (from, to) => {
        await rename(from, to);
        if (++renames === 1) {
          await rename(movie, movie + '-moved');
          await symlink(outside, movie);
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/processed\/movie is a symbolic link/);
    expect(await snapshotTree(outside)).toEqual(outsideBefore);
    // The rollback refused to act through the link too; its journal stays for the next start.
    expect(await readdir(path.join(state, 'commits'))).toHaveLength(1);
  });
});

describe('abort while copying', () => {
  it('an abort during the copy of a many-file ladder stops within a file and leaves the NAS unchanged', async () => {
    await commitOutputs(await ladder('v1', ['1080p', '720p', '480p', '360p'], 10), opts());
    const before = await snapshotTree(nas);
    const spec = await ladder('v2', ['1080p', '720p', '480p', '360p'], 10);
    const total = spec.folders.reduce((n, f) => n + f.files.length, 0) + 1;
    const ac = new AbortController();
    let copied = 0;
    const err = await commitOutputs(spec, {
      ...opts(),
      concurrency: 1,
      allowHardLinks: false,
      signal: ac.signal,
      copyFn: async (from, to) => {
        if (++copied === 5) ac.abort('worker shutting down');
        await copyFile(from, to);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    expect(copied).toBe(5);
    expect(copied).toBeLessThan(total);
    expect(await snapshotTree(nas)).toEqual(before);
    expect(await readdir(path.join(state, 'commits'))).toEqual([]);
  });
});

describe('a link planted in the hidden folder while copying', () => {
  it('is never written through: the commit fails naming the file, the outside file is untouched', async () => {
    const outsideDir = path.join(path.dirname(nas), 'outside');
    await mkdir(outsideDir, { recursive: true });
    const victim = path.join(outsideDir, 'precious.txt');
    await writeFile(victim, 'keep me');
    const spec = await ladder('v1', ['720p'], 6);
    let copied = 0;
    let planted = '';
    const err = await commitOutputs(spec, {
      ...opts(),
      concurrency: 1,
      allowHardLinks: false,
      copyFn: async (from, to) => {
        if (++copied === 2) {
          // The next file of this folder, named before the commit gets to it, as someone on the share could.
          const next = spec.folders[0]!.files[2]!;
          planted = path.join(path.dirname(to), next);
          await symlink(victim, planted);
        }
        await copyFile(from, to);
      },
    }).catch((e: unknown) => e);
    expect(planted).not.toBe('');
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/cannot write processed\/movie\/.*on the NAS/);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    expect(existsSync(path.join(nas, 'processed', 'movie', '720p'))).toBe(false);
  });
});
