/**
 * output_base (issue 11): the folder of the master, against which each relative dest_path resolves; confined to
 * the NAS root like a dest_path, and every output inside it. Without it, the master's folder stays the deepest
 * folder common to the outputs. Also the master's tracks folder ("<masterDir>/<master stem>_tracks"), which no
 * output may be or lie in. Real folders in a temporary NAS.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../src/errors.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';
import { validateJob, type ValidateOptions } from '../../../src/job/validate.js';
import { tracksFolderName } from '../../../src/transcode/job-fields.js';
import type { ValidatedJob } from '../../../src/transcode/validated-job.js';

let base: string;
let nas: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tw-output-base-'));
  nas = path.join(base, 'nas');
  outside = path.join(base, 'outside');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  await mkdir(path.join(nas, 'processed', 't', 'index_tracks'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(nas, 'movies', 'a.mkv'), 'validation does not read it');
  await writeFile(path.join(nas, 'processed', 't', 'index_tracks', 'a.mkv'), 'a source in a tracks folder');
  await symlink(outside, path.join(nas, 'escape'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

type Raw = Record<string, unknown>;

function raw(over: Raw, ...dests: string[]): Raw {
  return {
    job_id: 'job-1',
    input: { source_url: 'movies/a.mkv' },
    outputs: dests.map((d) => ({ resolution: '720p', bitrate: '1M', codec: 'libx264', dest_path: d })),
    ...over,
  };
}

async function validated(job: Raw, opts: Partial<ValidateOptions> = {}): Promise<ValidatedJob> {
  const p = parseAssignedJob(job);
  if (!p.ok) throw new Error(`expected the job to parse: ${p.problem}`);
  return validateJob(p.job, { nasRoot: nas, ...opts });
}

async function refusal(job: Raw, opts: Partial<ValidateOptions> = {}): Promise<string> {
  try {
    await validated(job, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the job to be refused');
}

describe('output_base: where the master goes and what dest_paths are relative to', () => {
  it('resolves each relative dest_path under it and puts the master there', async () => {
    const v = await validated(raw({ output_base: 'processed/Movie (2001)/' }, '720p', 'sd/360p'));
    expect(v.masterDir).toBe('processed/Movie (2001)');
    expect(v.manifestUrl).toBe('/processed/Movie (2001)/index.m3u8');
    expect(v.outputs.map((o) => o.destPath)).toEqual(['processed/Movie (2001)/720p', 'processed/Movie (2001)/sd/360p']);
    expect(v.outputs[1]!.absDestDir).toBe(path.join(nas, 'processed', 'Movie (2001)', 'sd', '360p'));
  });

  it("is the master's folder even when the outputs share a deeper one", async () => {
    const v = await validated(raw({ output_base: 'processed/m' }, 'hls/720p', 'hls/360p'));
    expect(v.masterDir).toBe('processed/m');
    // Without output_base, the deepest common folder.
    expect((await validated(raw({}, 'processed/m/hls/720p', 'processed/m/hls/360p'))).masterDir).toBe(
      'processed/m/hls',
    );
  });

  it('accepts backslashes, "." and ".." that stay inside it, and an absolute dest_path inside it', async () => {
    const v = await validated(
      raw({ output_base: 'processed\\m' }, '.\\720p', 'x/../360p', path.join(nas, 'processed', 'm', '240p')),
    );
    expect(v.outputs.map((o) => o.destPath)).toEqual(['processed/m/720p', 'processed/m/360p', 'processed/m/240p']);
  });

  it('an absolute output_base inside the NAS root is accepted, like a dest_path', async () => {
    const v = await validated(raw({ output_base: path.join(nas, 'processed', 'abs') }, '720p'));
    expect(v.masterDir).toBe('processed/abs');
  });

  it('a single output may be output_base itself: the master then lives in its folder, as without output_base', async () => {
    const v = await validated(raw({ output_base: 'processed/one' }, '.'));
    expect(v.outputs[0]!.destPath).toBe('processed/one');
    expect(v.masterDir).toBe('processed/one');
  });

  it("may hold the source: only the outputs' folders are replaced", async () => {
    const v = await validated(raw({ output_base: 'movies' }, 'a-hls/720p'));
    expect(v.masterDir).toBe('movies');
  });

  it('"" and null (Go\'s zero values) mean no output_base', async () => {
    for (const output_base of ['', null]) {
      const v = await validated(raw({ output_base }, 'processed/z/720p', 'processed/z/360p'));
      expect(v.masterDir).toBe('processed/z');
    }
  });
});

describe('output_base: refusals name the field', () => {
  it.each([
    ['../x', 'output_base = "../x": resolves outside the NAS root'],
    ['processed/../../x', 'output_base = "processed/../../x": resolves outside the NAS root'],
    ['/etc', 'output_base = "/etc": an absolute path outside the NAS root'],
    ['C:\\out', 'output_base = "C:\\\\out": an absolute Windows path is outside the NAS root'],
    ['escape/m', 'output_base = "escape/m": leads outside the NAS root through a symbolic link'],
    ['./', 'output_base = "./": expected a folder inside the NAS root, not the root itself'],
    ['processed/CON', 'output_base = "processed/CON": folder name "CON" is a name Windows reserves for a device'],
    ['processed/a?', 'output_base = "processed/a?": folder name "a?" must not contain "?"'],
    [
      'http://nas/processed',
      'output_base = "http://nas/processed": expected a path relative to the NAS root, not a URL',
    ],
  ])('output_base %j', async (output_base, expected) => {
    expect(await refusal(raw({ output_base }, '720p'))).toContain(expected);
  });

  it('a dest_path that leaves output_base but stays in the NAS ("../x") is refused, saying where it went', async () => {
    expect(await refusal(raw({ output_base: 'processed/m' }, '720p', '../x'))).toBe(
      'outputs[1].dest_path = "../x": lies outside output_base "processed/m" (it is "processed/x"); ' +
        'every output must be inside it',
    );
  });

  it('a dest_path that leaves the NAS root from output_base is refused as an escape', async () => {
    expect(await refusal(raw({ output_base: 'processed/m' }, '../../../x'))).toContain(
      'outputs[0].dest_path = "../../../x": resolves outside the NAS root',
    );
  });

  it('an absolute dest_path outside output_base is refused, inside the NAS or not', async () => {
    expect(await refusal(raw({ output_base: 'processed/m' }, path.join(nas, 'processed', 'other')))).toContain(
      'lies outside output_base "processed/m" (it is "processed/other")',
    );
    expect(await refusal(raw({ output_base: 'processed/m' }, '/tmp/x'))).toContain(
      'outputs[0].dest_path = "/tmp/x": an absolute path outside the NAS root',
    );
  });

  it('a dest_path that names a prefix sibling of output_base is outside it ("processed/m2" is not in "processed/m")', async () => {
    expect(await refusal(raw({ output_base: 'processed/m' }, '../m2/720p'))).toContain(
      'lies outside output_base "processed/m"',
    );
  });

  it('still refuses a dest_path holding the source, relative to output_base', async () => {
    expect(await refusal(raw({ output_base: 'movies' }, '.', 'x'))).toContain(
      'outputs[0].dest_path = ".": contains the input file',
    );
  });

  it('compares with output_base as the NAS does: case folded where it folds case', async () => {
    const folding = { caseFolding: async () => true };
    const abs = path.join(nas, 'Processed', 'M', '720p');
    expect((await validated(raw({ output_base: 'processed/m' }, abs), folding)).masterDir).toBe('processed/m');
    expect(await refusal(raw({ output_base: 'processed/m' }, abs))).toContain('lies outside output_base');
  });
});

describe("the master's tracks folder", () => {
  it('is named after the master playlist', () => {
    expect(tracksFolderName('index.m3u8')).toBe('index_tracks');
    expect(tracksFolderName('master.m3u8')).toBe('master_tracks');
    expect(tracksFolderName('My.Show-1.m3u8')).toBe('My.Show-1_tracks');
  });

  it.each([
    [{}, ['processed/a/index_tracks', 'processed/a/720p'], 0, 'processed/a/index_tracks'],
    [{}, ['processed/a/720p', 'processed/a/index_tracks/360p'], 1, 'processed/a/index_tracks/360p'],
    [{ output_base: 'processed/b' }, ['720p', 'index_tracks'], 1, 'index_tracks'],
    [
      { output_base: 'processed/b', hls_settings: { master_playlist_name: 'master.m3u8' } },
      ['master_tracks/a0'],
      0,
      'master_tracks/a0',
    ],
  ])('refuses an output that is or lies in it: %o %j', async (over, dests, index, value) => {
    const job = raw(over, ...dests);
    const master = (over as { hls_settings?: { master_playlist_name: string } }).hls_settings?.master_playlist_name;
    const dir = (over as { output_base?: string }).output_base ?? 'processed/a';
    expect(await refusal(job)).toBe(
      `outputs[${index}].dest_path = "${value}": is or lies inside the master's tracks folder ` +
        `"${dir}/${tracksFolderName(master ?? 'index.m3u8')}", where the audio and subtitle renditions go; ` +
        'choose another folder',
    );
  });

  it('leaves other names alone: "index_tracks" beside another master, "index_tracks2", a single output', async () => {
    const other = raw(
      { hls_settings: { master_playlist_name: 'master.m3u8' } },
      'processed/c/index_tracks',
      'processed/c/720p',
    );
    expect((await validated(other)).masterDir).toBe('processed/c');
    expect((await validated(raw({}, 'processed/c/index_tracks2', 'processed/c/720p'))).masterDir).toBe('processed/c');
    // One output named like a tracks folder is the master's folder itself; its tracks go inside it.
    expect((await validated(raw({}, 'processed/c/index_tracks'))).masterDir).toBe('processed/c/index_tracks');
  });

  it('compares as the NAS does: "INDEX_TRACKS" is the tracks folder where the NAS folds case', async () => {
    const job = raw({}, 'processed/a/720p', 'processed/a/INDEX_TRACKS');
    expect(await refusal(job, { caseFolding: async () => true })).toContain('is or lies inside the master');
    expect((await validated(job)).masterDir).toBe('processed/a');
  });

  it('refuses a job whose source lies in the tracks folder (the commit would replace it)', async () => {
    const job = {
      ...raw({ output_base: 'processed/t' }, '720p'),
      input: { source_url: 'processed/t/index_tracks/a.mkv' },
    };
    expect(await refusal(job)).toBe(
      'input.source_url = "processed/t/index_tracks/a.mkv": lies inside the master\'s tracks folder ' +
        '"processed/t/index_tracks", where the audio and subtitle renditions go; the commit would replace it',
    );
  });
});
