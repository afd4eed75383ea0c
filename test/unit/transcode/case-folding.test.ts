/**
 * Case-insensitive comparisons where the filesystem folds case (issue 9 item 2): on a case-insensitive SMB mount
 * or ext4 casefold folder, `dest_path: "movies"` for the source `Movies/a.mkv` names the source's own folder.
 *
 * This sandbox cannot mount a case-folding filesystem (no vfat, kernel without CONFIG_UNICODE for ext4 casefold),
 * so the detector runs on real case-sensitive folders, its decision on a case-folding one is shown through a
 * view of a real folder that resolves names as such a filesystem does, and validation is run with the answer
 * injected.
 */
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../src/errors.js';
import type { Job } from '../../../src/protocol/schemas.js';
import {
  folderFoldsCase,
  nasFoldsCase,
  nodeCaseProbeFs,
  swapCase,
  type CaseProbeFs,
} from '../../../src/transcode/case-folding.js';
import { assertSeparateFolders, validateJob } from '../../../src/job/validate.js';

let base: string;
let nas: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tw-case-'));
  nas = path.join(base, 'nas');
  await mkdir(path.join(nas, 'Movies'), { recursive: true });
  await writeFile(path.join(nas, 'Movies', 'a.mkv'), 'validation does not read it');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A real folder seen through a case-folding filesystem: a name resolves to the entry that matches it ignoring case. */
function foldingView(): CaseProbeFs {
  return {
    names: nodeCaseProbeFs.names,
    async identity(file) {
      const dir = path.dirname(file);
      const want = path.basename(file).toLowerCase();
      const match = (await readdir(dir).catch(() => [])).find((n) => n.toLowerCase() === want);
      if (match === undefined) return null;
      const s = await lstat(path.join(dir, match));
      return { dev: s.dev, ino: s.ino };
    },
  };
}

function job(source: string, ...dests: string[]): Job {
  return {
    job_id: 'job-1',
    input: { source_url: source },
    outputs: dests.map((d) => ({ resolution: '720p', bitrate: '1M', codec: 'libx264', dest_path: d })),
  };
}

async function refusal(j: Job, caseFolding: () => Promise<boolean>): Promise<string> {
  try {
    const v = await validateJob(j, { nasRoot: nas, caseFolding });
    assertSeparateFolders(v);
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the job to be refused');
}

describe('the detector on real folders', () => {
  it('swaps the case of letters only', () => {
    expect(swapCase('Movies 2 (é)')).toBe('mOVIES 2 (É)');
    expect(swapCase('2024')).toBe('2024');
  });

  it('a case-sensitive folder (this one) does not fold case', async () => {
    expect(await folderFoldsCase(nas)).toBe(false);
    expect(await folderFoldsCase(path.join(nas, 'Movies'))).toBe(false);
  });

  it('"A" and "a" side by side are two files: the folder does not fold case', async () => {
    const dir = path.join(base, 'both');
    await mkdir(dir);
    await writeFile(path.join(dir, 'A'), '1');
    await writeFile(path.join(dir, 'a'), '2');
    expect(await folderFoldsCase(dir)).toBe(false);
  });

  it('a folder with no names to tell by (empty, or only digits) gives no answer', async () => {
    const empty = path.join(base, 'empty');
    await mkdir(path.join(empty, 'digits'), { recursive: true });
    await writeFile(path.join(empty, 'digits', '2024'), '');
    expect(await folderFoldsCase(path.join(empty, 'digits'))).toBeUndefined();
    expect(await folderFoldsCase(path.join(base, 'missing'))).toBeUndefined();
  });

  it('a case-folding filesystem (the same folder seen through one) folds case', async () => {
    expect(await folderFoldsCase(nas, foldingView())).toBe(true);
  });

  it('the job folds case when any of its folders does, or when none can tell; never on a plain disk', async () => {
    const digits = path.join(base, 'empty', 'digits');
    expect(await nasFoldsCase([nas, path.join(nas, 'Movies')], 'linux')).toBe(false);
    expect(await nasFoldsCase([nas], 'linux', foldingView())).toBe(true);
    expect(await nasFoldsCase([digits, path.join(base, 'missing')], 'linux')).toBe(true);
    expect(await nasFoldsCase([digits, nas], 'linux')).toBe(false);
    expect(await nasFoldsCase([nas], 'win32')).toBe(true);
  });
});

describe('validation on a NAS that folds case', () => {
  const folds = () => Promise.resolve(true);
  const doesNot = () => Promise.resolve(false);

  it('refuses dest_path "movies" for the source Movies/a.mkv: it is the source\'s own folder', async () => {
    expect(await refusal(job('Movies/a.mkv', 'movies'), folds)).toBe(
      'outputs[0].dest_path = "movies": contains the input file; the commit would replace it',
    );
    expect(await refusal(job('Movies/a.mkv', 'MOVIES/A.MKV'), folds)).toContain('contains the input file');
  });

  it('refuses two outputs that differ only in case', async () => {
    expect(await refusal(job('Movies/a.mkv', 'out/A/720p', 'out/a/720P'), folds)).toContain(
      'outputs[1].dest_path = "out/a/720P": the same folder as outputs[0].dest_path',
    );
  });

  it('refuses an output inside another that differs only in case', async () => {
    expect(await refusal(job('Movies/a.mkv', 'out/A', 'out/a/720p'), folds)).toContain(
      'outputs[1].dest_path = "out/a/720p" is inside outputs[0].dest_path = "out/A"',
    );
  });

  it('on a case-sensitive NAS the same spellings are different folders and are accepted', async () => {
    const v = await validateJob(job('Movies/a.mkv', 'out/A/720p', 'out/a/720p', 'out/B', 'out/b/720p'), {
      nasRoot: nas,
      caseFolding: doesNot,
    });
    expect(v.caseInsensitive).toBe(false);
    expect(() => assertSeparateFolders(v)).not.toThrow();
  });

  it('asks the NAS itself by default: this case-sensitive disk lets "movies" sit beside "Movies"', async () => {
    const v = await validateJob(job('Movies/a.mkv', 'movies'), { nasRoot: nas });
    expect(v.caseInsensitive).toBe(false);
  });

  it('asks about the folders the job goes through: the NAS root, the source folder, each destination', async () => {
    const asked: string[][] = [];
    await validateJob(job('Movies/a.mkv', 'Movies/new/deeper/720p', 'Movies/x'), {
      nasRoot: nas,
      caseFolding: (dirs) => {
        asked.push(dirs);
        return Promise.resolve(false);
      },
    });
    // Movies/new/deeper/720p does not exist yet: its deepest existing folder is Movies.
    const movies = path.join(nas, 'Movies');
    expect(asked).toEqual([[nas, movies, movies, movies]]);
  });
});
