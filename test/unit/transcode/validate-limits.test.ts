/**
 * Fail early on impossible jobs (issue 9 item 11): what the filesystem or ffmpeg could only refuse later (after the
 * whole transcode) is refused by validateJob, with the field named. Real folders in a temp NAS.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../src/errors.js';
import type { Job } from '../../../src/protocol/schemas.js';
import { validateJob } from '../../../src/job/validate.js';

let base: string;
let nas: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tw-limits-'));
  nas = path.join(base, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  await writeFile(path.join(nas, 'movies', 'a.mkv'), 'validation does not read it');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function job(output: Partial<Job['outputs'][number]> = {}, over: Partial<Job> = {}): Job {
  return {
    job_id: 'job-1',
    input: { source_url: 'movies/a.mkv' },
    outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/a/720p', ...output }],
    ...over,
  };
}

async function refusal(j: Job, platform?: NodeJS.Platform, root = nas): Promise<string> {
  try {
    await validateJob(j, { nasRoot: root, platform });
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the job to be refused');
}

describe('validateJob: bitrates from 16k to 500M', () => {
  it.each([
    '99999999999999999999M',
    '501M',
    '500000001',
    '15k',
    '15999',
    '0.01M',
    '1e6',
    '1E6k',
    'Infinity',
    'NaN',
    '-5M',
    '0x10M',
  ])('%s is refused, naming the field', async (bitrate) => {
    expect(await refusal(job({ bitrate }))).toBe(
      `outputs[0].bitrate = ${JSON.stringify(bitrate)}: expected a bitrate such as "2500k" or "5M", from 16k to 500M`,
    );
  });

  it.each([
    ['16k', 16_000],
    ['500M', 500_000_000],
    ['2.5M', 2_500_000],
    ['800000', 800_000],
  ])('%s is accepted', async (bitrate, bps) => {
    const v = await validateJob(job({ bitrate }), { nasRoot: nas });
    expect(v.outputs[0]!.videoBitrate).toBe(bps);
  });
});

describe('validateJob: names and paths the filesystem would refuse', () => {
  it('accepts a 245-byte folder name (legal on every filesystem)', async () => {
    const name = 'x'.repeat(245);
    const v = await validateJob(job({ dest_path: `processed/${name}/720p` }), { nasRoot: nas });
    expect(v.outputs[0]!.destPath).toBe(`processed/${name}/720p`);
  });

  it('accepts a 255-byte folder name in multi-byte characters (85 × "日")', async () => {
    await expect(
      validateJob(job({ dest_path: `processed/${'日'.repeat(85)}/720p` }), { nasRoot: nas }),
    ).resolves.toBeDefined();
  });

  it('refuses a folder name over 255 bytes, counting UTF-8 bytes, not characters', async () => {
    const ascii = 'x'.repeat(256);
    expect(await refusal(job({ dest_path: `processed/${ascii}/720p` }))).toMatch(
      /^outputs\[0\]\.dest_path = "processed\/x+.*": folder name "x+.*" is 256 bytes long in UTF-8; a file or folder name may have at most 255 bytes$/,
    );
    // 128 characters, 256 bytes.
    expect(await refusal(job({ dest_path: `processed/${'é'.repeat(128)}` }))).toContain('is 256 bytes long in UTF-8');
  });

  it('refuses a source path with a name over 255 bytes, naming the field (not an ENAMETOOLONG later)', async () => {
    expect(await refusal(job({}, { input: { source_url: `movies/${'a'.repeat(300)}.mkv` } }))).toMatch(
      /^input\.source_url = "movies\/a+.*": file name "a+.*\.mkv" is 304 bytes long in UTF-8/,
    );
  });

  it('refuses a destination whose whole path is over the platform limit', async () => {
    const deep = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/');
    const msg = await refusal(job({ dest_path: `processed/${deep}` }));
    expect(msg).toMatch(/^outputs\[0\]\.dest_path = ".*": its full path is \d+ bytes long; paths on this worker/);
    // The value is shortened in the message, not 4000 characters of it.
    expect(msg.length).toBeLessThan(600);
  });

  it('keeps room for the files written in a destination: a path just under the limit is refused', async () => {
    const prefix = path.join(nas, 'processed') + '/';
    const parts: string[] = [];
    let len = Buffer.byteLength(prefix);
    while (len + 201 <= 4095 - 20) {
      parts.push('p'.repeat(200));
      len += 201;
    }
    parts.push('q'.repeat(4095 - 20 - len));
    const dest = `processed/${parts.join('/')}`;
    expect(Buffer.byteLength(path.join(nas, dest))).toBe(4095 - 20);
    expect(await refusal(job({ dest_path: dest }), 'linux')).toContain('kept for the files written in it');
  });

  it('Windows: the \\\\?\\ form allows long paths, up to 32000 UTF-16 units', async () => {
    const root = 'Z:\\nas';
    const long = Array.from({ length: 130 }, () => 'w'.repeat(250)).join('\\');
    expect(await refusal(job({ dest_path: `processed\\${long}` }), 'win32', root)).toContain(
      'UTF-16 units long; paths on this worker may have at most 32000',
    );
    // 300 characters is fine there (the disk is absent here: the next check, the input's existence, fails).
    const medium = Array.from({ length: 3 }, () => 'w'.repeat(100)).join('\\');
    expect(await refusal(job({ dest_path: `processed\\${medium}` }), 'win32', root)).toMatch(
      /^input file does not exist/,
    );
  });
});

describe('validateJob: other values that could only fail later', () => {
  it('refuses more than 16 outputs (one ffmpeg process encodes them all)', async () => {
    const outputs = Array.from({ length: 17 }, (_, i) => ({
      resolution: '240p',
      bitrate: '300k',
      codec: 'libx264',
      dest_path: `processed/a/r${i}`,
    }));
    expect(await refusal(job({}, { outputs }))).toBe('outputs = 17 outputs: expected at most 16 renditions in one job');
  });
});
