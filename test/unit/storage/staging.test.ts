import { readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../../src/errors.js';
import { jobStagingDir } from '../../../src/storage/paths.js';
import {
  assertStagingSpace,
  createStagingDir,
  estimateOutputBytes,
  freeBytes,
  removeStagingDir,
} from '../../../src/storage/staging.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

let tmp: string;
beforeEach(async () => {
  tmp = await makeTempDir('tw-staging-');
});
afterEach(() => removeDir(tmp));

const MB = 1024 * 1024;

describe('estimateOutputBytes', () => {
  it('sums video (at least maxrate) per rung and each audio rendition once, over the duration, +20% and a margin', () => {
    const bytes = estimateOutputBytes({
      source: { durationSec: 100 } as never,
      audioGroups: [{ renditions: [{ bitrate: 128_000 }, { bitrate: 128_000 }] }] as never,
      renditions: [
        { videoBitrate: 2_000_000, maxRate: 3_000_000 },
        { videoBitrate: 800_000, maxRate: 0 },
      ] as never,
    });
    expect(bytes).toBe(Math.ceil((((3_000_000 + 800_000 + 2 * 128_000) * 100) / 8) * 1.2) + 32 * MB);
  });
});

describe('assertStagingSpace', () => {
  it('fails early with sizes in MB when the output cannot fit', async () => {
    const err = await assertStagingSpace(tmp, 500 * MB, async () => 120 * MB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toBe(
      `not enough space in temp_dir (${tmp}): this job needs about 500 MB, 120 MB free (free some space or point temp_dir at a larger disk)`,
    );
  });
  it('passes when there is room, measuring with statfs', async () => {
    expect(await freeBytes(tmp)).toBeGreaterThan(0);
    await expect(assertStagingSpace(tmp, 1)).resolves.toBeUndefined();
  });
});

describe('staging folder', () => {
  it('is created empty under temp_dir/jobs (a crashed run leftover is wiped) and removed afterwards', async () => {
    const expected = jobStagingDir(tmp, 'job/../1');
    await mkdir(expected, { recursive: true });
    await writeFile(path.join(expected, 'leftover.ts'), 'x');
    const dir = await createStagingDir(tmp, 'job/../1');
    expect(dir).toBe(expected);
    expect(path.dirname(dir)).toBe(path.join(tmp, 'jobs'));
    expect(await readdir(dir)).toEqual([]);
    expect(await removeStagingDir(dir)).toBeUndefined();
    expect(await readdir(path.join(tmp, 'jobs'))).toEqual([]);
  });
});
