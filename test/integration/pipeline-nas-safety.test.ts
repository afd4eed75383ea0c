/**
 * What a job may write and remove on the NAS, end to end with real ffmpeg: a folder swapped for a symlink just
 * before the commit, a destination that holds someone else's files, our own marked output, a 245-byte folder name.
 */
import { renameSync, symlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError, StorageError } from '../../src/errors.js';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { makeSource, makeTempDir, removeDir } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

const MARKER = '.transcode-worker.json';

let h: PipelineHarness;
let outside: string;
beforeAll(async () => {
  h = await createPipelineHarness();
  outside = await makeTempDir('tw-outside-');
  await makeSource(path.join(h.nas, 'movies'), { name: 'a.mp4', width: 320, height: 180, duration: 1 });
});
afterAll(async () => {
  await h.cleanup();
  await removeDir(outside);
});

/** A runner that records every program the job started. */
function recordingRunner(): { runner: CommandRunner; programs: string[] } {
  const programs: string[] = [];
  return {
    programs,
    runner: (command, args, opts) => {
      programs.push(path.basename(command));
      return execaRunner(command, args, opts);
    },
  };
}

describe('pipeline: confinement at commit time', () => {
  it('a destination parent swapped for a symlink to outside the NAS after verification fails the job naming it; outside is untouched', async () => {
    const dir = path.join(outside, 'swap1');
    await mkdir(path.join(dir, '360p'), { recursive: true });
    await writeFile(path.join(dir, '360p', 'precious.txt'), 'keep me');
    await writeFile(path.join(dir, 'index.m3u8'), 'theirs');
    const before = await snapshotTree(dir);
    const parent = path.join(h.nas, 'processed', 'swap1');
    await mkdir(parent, { recursive: true });
    const job = ladderJob('movies/a.mp4', [
      ['320x180', '300k', 'processed/swap1/360p'],
      ['160x90', '100k', 'processed/swap1/180p'],
    ]);
    let swapped = false;
    const r = await h.run(job, {
      onProgress: (p) => {
        // 97 % is reported after verification, right before the commit starts.
        if (p.progress >= 97 && !swapped) {
          swapped = true;
          renameSync(parent, parent + '-real');
          symlinkSync(dir, parent);
        }
      },
    });
    expect(swapped).toBe(true);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(StorageError);
    expect(r.error.message).toContain('processed/swap1');
    expect(r.error.message).toMatch(/symbolic link/);
    expect(await snapshotTree(dir)).toEqual(before);
  });
});

describe('pipeline: only our own folders are replaced', () => {
  it('a destination holding foreign files fails before ffmpeg runs, naming the folder and a file, and keeps them', async () => {
    await mkdir(path.join(h.nas, 'library', 'film1'), { recursive: true });
    await writeFile(path.join(h.nas, 'library', 'film1', 'family-video.mkv'), 'irreplaceable');
    const { runner, programs } = recordingRunner();
    const r = await h.run(ladderJob('movies/a.mp4', [['320x180', '300k', 'library']]), { deps: { runner } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(JobValidationError);
    expect(r.error.message).toContain('"library"');
    expect(r.error.message).toContain('film1/family-video.mkv');
    expect(programs).not.toContain('ffmpeg');
    expect(await readFile(path.join(h.nas, 'library', 'film1', 'family-video.mkv'), 'utf8')).toBe('irreplaceable');
    expect(await h.stagingLeft()).toEqual([]);
  });

  it('an existing master playlist in a folder that is not ours is not overwritten (fails before ffmpeg)', async () => {
    await mkdir(path.join(h.nas, 'shared'), { recursive: true });
    await writeFile(path.join(h.nas, 'shared', 'index.m3u8'), '#EXTM3U\n# someone else');
    const { runner, programs } = recordingRunner();
    const r = await h.run(
      ladderJob('movies/a.mp4', [
        ['320x180', '300k', 'shared/360p'],
        ['160x90', '100k', 'shared/180p'],
      ]),
      { deps: { runner } },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(JobValidationError);
    expect(r.error.message).toContain('shared/index.m3u8');
    expect(programs).not.toContain('ffmpeg');
    expect(await readFile(path.join(h.nas, 'shared', 'index.m3u8'), 'utf8')).toBe('#EXTM3U\n# someone else');
  });

  it('an empty folder is replaced, our marked output is replaced by a re-run and by another job', async () => {
    await mkdir(path.join(h.nas, 'out', 'empty'), { recursive: true });
    const job = ladderJob('movies/a.mp4', [['320x180', '300k', 'out/empty']], { job_id: 'rerun-1' });
    const first = await h.run(job);
    if (!first.ok) throw first.error;
    const marker = JSON.parse(await readFile(path.join(h.nas, 'out', 'empty', MARKER), 'utf8')) as { job_id: string };
    expect(marker.job_id).toBe('rerun-1');
    const again = await h.run(job);
    if (!again.ok) throw again.error;
    const other = await h.run({ ...job, job_id: 'rerun-2' });
    if (!other.ok) throw other.error;
    const names = await readdir(path.join(h.nas, 'out'));
    expect(names).toEqual(['empty']);
    expect(
      (JSON.parse(await readFile(path.join(h.nas, 'out', 'empty', MARKER), 'utf8')) as { job_id: string }).job_id,
    ).toBe('rerun-2');
  });

  it('a ladder re-run overwrites its own master (the master folder carries our marker)', async () => {
    const job = ladderJob('movies/a.mp4', [
      ['320x180', '300k', 'lad/360p'],
      ['160x90', '100k', 'lad/180p'],
    ]);
    for (const id of ['lad-1', 'lad-2']) {
      const r = await h.run({ ...job, job_id: id });
      if (!r.ok) throw r.error;
    }
    expect((await readdir(path.join(h.nas, 'lad'))).sort()).toEqual(
      ['180p', '360p', MARKER, 'index.m3u8', 'index_tracks'].sort(),
    );
  });
});

describe('pipeline: any legal folder name', () => {
  it('a 245-byte folder name commits (the hidden temporary names stay short)', async () => {
    const name = 'n'.repeat(245);
    const r = await h.run(ladderJob('movies/a.mp4', [['320x180', '300k', `long/${name}`]]));
    if (!r.ok) throw r.error;
    expect(await readdir(path.join(h.nas, 'long'))).toEqual([name]);
    expect((await readdir(path.join(h.nas, 'long', name))).sort()).toContain('index.m3u8');
  });
});
