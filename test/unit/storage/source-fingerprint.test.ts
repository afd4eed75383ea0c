import { createHash, randomBytes } from 'node:crypto';
import { open, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintSource, settingsDigest } from '../../../src/storage/source-fingerprint.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir('tw-fingerprint-');
});
afterAll(() => removeDir(tmp));

describe('fingerprintSource', () => {
  it('hashes the first and the last MiB, with size and whole-millisecond mtime', async () => {
    const data = randomBytes(3 * MiB + 17);
    const file = path.join(tmp, 'big.mkv');
    await writeFile(file, data);
    await utimes(file, 1_700_000_000.5, 1_700_000_000.25);
    const fp = await fingerprintSource(file);
    expect(fp).toEqual({
      size: data.length,
      mtime_ms: 1_700_000_000_250,
      head_sha256: sha(data.subarray(0, MiB)),
      tail_sha256: sha(data.subarray(data.length - MiB)),
    });
    // A change in the middle is not seen (by design: cheap); one at the end is.
    const h = await open(file, 'r+');
    await h.write(Buffer.from([data[data.length - 1]! ^ 1]), 0, 1, data.length - 1);
    await h.close();
    await utimes(file, 1_700_000_000.5, 1_700_000_000.25);
    expect((await fingerprintSource(file)).tail_sha256).not.toBe(fp.tail_sha256);
  });

  it('works for a file under 1 MiB (head and tail are the whole file)', async () => {
    const data = randomBytes(1000);
    const file = path.join(tmp, 'small.ts');
    await writeFile(file, data);
    const fp = await fingerprintSource(file);
    expect(fp.size).toBe(1000);
    expect(fp.head_sha256).toBe(sha(data));
    expect(fp.tail_sha256).toBe(sha(data));
  });
});

describe('settingsDigest', () => {
  it('does not depend on key order at any level, but on every value', () => {
    const a = settingsDigest({ t: 4, ladder: [{ h: 720, b: '3M' }], audio: { codec: 'aac', ch: 2 } });
    const b = settingsDigest({ audio: { ch: 2, codec: 'aac' }, ladder: [{ b: '3M', h: 720 }], t: 4 });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(settingsDigest({ t: 4, ladder: [{ h: 720, b: '3M' }], audio: { codec: 'aac', ch: 6 } })).not.toBe(a);
    expect(settingsDigest([1, 2])).not.toBe(settingsDigest([2, 1]));
    expect(settingsDigest({ a: 1, b: undefined })).toBe(settingsDigest({ a: 1 }));
  });
});
