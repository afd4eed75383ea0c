import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, JobValidationError, StorageError } from '../../../src/errors.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';
import type { Job } from '../../../src/protocol/schemas.js';
import { assertStagingDirUsable, commonDir, validateJob } from '../../../src/job/validate.js';

let base: string;
let nas: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tw-validate-'));
  nas = path.join(base, 'nas');
  outside = path.join(base, 'outside');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  await mkdir(path.join(nas, 'processed'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(nas, 'movies', 'a.mkv'), 'not really a movie; validation does not read it');
  await writeFile(path.join(nas, 'movies', '-y .mkv'), 'hostile name');
  await writeFile(path.join(outside, 'secret.mkv'), 'outside');
  // A link inside the NAS that leads out of it, and one that stays inside.
  await symlink(outside, path.join(nas, 'escape'));
  await symlink(path.join(nas, 'movies'), path.join(nas, 'alias'));
  await symlink(path.join(outside, 'secret.mkv'), path.join(nas, 'movies', 'linked.mkv'));
  await symlink(path.join(outside, 'not-yet'), path.join(nas, 'processed', 'dangling'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function job(over: Partial<Job> = {}, output: Partial<Job['outputs'][number]> = {}): Job {
  return {
    job_id: 'job-1',
    input: { source_url: 'movies/a.mkv' },
    outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/a/720p/', ...output }],
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 6 },
    ...over,
  };
}

function ladder(...dests: string[]): Job['outputs'] {
  return dests.map((d) => ({ resolution: '720p', bitrate: '1M', codec: 'libx264', dest_path: d }));
}

/** The one parse of the job, as the worker and run-job do it; throws when the job does not parse. */
function parsed(raw: unknown): Job {
  const p = parseAssignedJob(raw);
  if (!p.ok) throw new Error(`expected the job to parse: ${p.problem}`);
  return p.job;
}

/** Why the job is refused: by the parse (worded as the worker's error_msg) or by validation. */
async function refusal(j: unknown, platform?: NodeJS.Platform, root = nas): Promise<string> {
  const p = parseAssignedJob(j);
  if (!p.ok) return `invalid job: ${p.problem}`;
  try {
    await validateJob(p.job, { nasRoot: root, platform });
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the job to be refused');
}

describe('validateJob: a good job', () => {
  it('resolves paths, parses values and applies defaults', async () => {
    const v = await validateJob(
      job({
        hls_settings: undefined,
        outputs: [
          { resolution: '1080p', bitrate: '5M', codec: 'h264_nvenc', dest_path: 'processed/a/1080p/' },
          {
            resolution: '1280x720',
            bitrate: '2500k',
            codec: 'libx265',
            dest_path: 'processed\\a\\.\\720p',
            audio_bitrate: '96k',
          },
        ],
      }),
      { nasRoot: nas },
    );
    expect(v.inputPath).toBe(path.join(nas, 'movies', 'a.mkv'));
    expect(v.segmentTime).toBe(6);
    expect(v.segmentType).toBe('ts');
    expect(v.masterPlaylistName).toBe('index.m3u8');
    expect(v.masterDir).toBe('processed/a');
    expect(v.manifestUrl).toBe('/processed/a/index.m3u8');
    expect(v.outputs).toEqual([
      {
        destPath: 'processed/a/1080p',
        absDestDir: path.join(nas, 'processed', 'a', '1080p'),
        resolution: { kind: 'height', height: 1080 },
        videoBitrate: 5_000_000,
        audioBitrate: 128_000,
        codec: 'h264_nvenc',
        index: 0,
      },
      {
        destPath: 'processed/a/720p',
        absDestDir: path.join(nas, 'processed', 'a', '720p'),
        resolution: { kind: 'size', width: 1280, height: 720 },
        videoBitrate: 2_500_000,
        audioBitrate: 96_000,
        codec: 'libx265',
        index: 1,
      },
    ]);
  });

  it('puts the master of a single output in its own folder (the description example)', async () => {
    const v = await validateJob(job(), { nasRoot: nas });
    expect(v.masterDir).toBe('processed/a/720p');
    expect(v.manifestUrl).toBe('/processed/a/720p/index.m3u8');
  });

  it('accepts the folder names real libraries use: spaces, parentheses, commas, apostrophes, %, & # [], any letter', async () => {
    const movie = "processed/Amélie, l'été (2001) 100%";
    const v = await validateJob(
      job({
        outputs: ladder(`${movie}/720p HD/`, `${movie}\\[SD] #2 & more`, `${movie}/.hidden`, `${movie}/Vol. 2 - 東京`),
      }),
      { nasRoot: nas },
    );
    expect(v.masterDir).toBe(movie);
    expect(v.manifestUrl).toBe(`/${movie}/index.m3u8`);
    expect(v.outputs.map((o) => o.destPath)).toEqual([
      `${movie}/720p HD`,
      `${movie}/[SD] #2 & more`,
      `${movie}/.hidden`,
      `${movie}/Vol. 2 - 東京`,
    ]);
    expect(v.outputs[0]!.absDestDir).toBe(path.join(nas, 'processed', "Amélie, l'été (2001) 100%", '720p HD'));
    // Still inside the NAS: the relaxed names change nothing about escapes.
    expect(await refusal(job({}, { dest_path: `${movie}/../../../outside` }))).toContain(
      'resolves outside the NAS root',
    );
  });

  it('accepts an absolute path that lies inside the NAS root, and a symlink that stays inside', async () => {
    const v = await validateJob(job({ input: { source_url: path.join(nas, 'movies', 'a.mkv') } }), { nasRoot: nas });
    expect(v.inputPath).toBe(path.join(nas, 'movies', 'a.mkv'));
    const viaAlias = await validateJob(job({ input: { source_url: 'alias/a.mkv' } }), { nasRoot: nas });
    expect(viaAlias.inputPath).toBe(path.join(nas, 'alias', 'a.mkv'));
  });

  it('renders an option-looking file name harmless: the input path is absolute', async () => {
    const ok = await validateJob(job({ input: { source_url: 'movies/-y .mkv' } }), { nasRoot: nas });
    expect(path.isAbsolute(ok.inputPath)).toBe(true);
    expect(ok.inputPath.startsWith('-')).toBe(false);
  });

  it('treats option-looking and shell-looking source names as plain file names inside the NAS', async () => {
    for (const hostile of ['-y /tmp/x', 'movies/$(rm -rf ~).mkv', 'movies/a.mkv; reboot', '`id`|sh']) {
      const msg = await refusal(job({ input: { source_url: hostile } }));
      // Resolved to an absolute path inside the NAS (never an option, never a command): it simply does not exist.
      expect(msg).toBe(`input file does not exist: ${path.join(nas, hostile)}`);
    }
  });

  it('computes the deepest common folder', () => {
    expect(commonDir(['a/b/c', 'a/b/d'])).toBe('a/b');
    expect(commonDir(['a/b', 'a/b/c'])).toBe('a/b');
    expect(commonDir(['a/bc', 'a/b'])).toBe('a');
    expect(commonDir(['x/1', 'y/2'])).toBe('');
    expect(commonDir(['Movies/a/1', 'movies/A/2'], true)).toBe('Movies/a');
    expect(commonDir(['Movies/a/1', 'movies/A/2'])).toBe('');
  });
});

describe('validateJob: zero values (an orchestrator in Go that did not set a field) mean the defaults', () => {
  it.each([
    ['hls_settings null', null],
    ['hls_settings of zero values', { master_playlist_name: '', segment_time: 0, segment_type: '' }],
  ])('%s', async (_what, hls) => {
    const v = await validateJob(
      parsed(
        job({ hls_settings: hls as Job['hls_settings'] }, { audio_bitrate: '' } as Partial<Job['outputs'][number]>),
      ),
      { nasRoot: nas },
    );
    expect(v.segmentTime).toBe(6);
    expect(v.segmentType).toBe('ts');
    expect(v.masterPlaylistName).toBe('index.m3u8');
    expect(v.outputs[0]!.audioBitrate).toBe(128_000);
  });
});

describe('validateJob: every bad field names the field and the value', () => {
  it.each([
    [{ bitrate: 'fast' }, 'outputs[0].bitrate = "fast": expected a bitrate such as "2500k" or "5M"'],
    [{ bitrate: '0k' }, 'outputs[0].bitrate = "0k"'],
    [{ bitrate: '1M -y' }, 'outputs[0].bitrate = "1M -y"'],
    [{ resolution: '999p' }, 'outputs[0].resolution = "999p": expected an even height such as 360p, 576p'],
    [{ resolution: '$(reboot)' }, 'outputs[0].resolution = "$(reboot)"'],
    [{ resolution: '99999x10' }, 'outputs[0].resolution = "99999x10"'],
    [{ codec: 'libfoo' }, 'outputs[0].codec = "libfoo": expected an H.264/HEVC/AV1 encoder name'],
    [{ codec: '-y' }, 'outputs[0].codec = "-y"'],
    [{ codec: 'libaom-av1' }, 'outputs[0].codec = "libaom-av1": this AV1 encoder is not offered'],
    [{ audio_bitrate: 'loud' }, 'outputs[0].audio_bitrate = "loud": expected an AAC bitrate'],
    [
      { dest_path: 'processed/a/720p; rm -rf /' },
      'outputs[0].dest_path = "processed/a/720p; rm -rf /": folder name "720p; rm -rf "',
    ],
    [{ dest_path: 'processed/-y /tmp/x' }, 'outputs[0].dest_path = "processed/-y /tmp/x": folder name "-y "'],
    [{ dest_path: 'processed/a|b/720p' }, 'folder name "a|b" must not contain "|"'],
    [{ dest_path: 'processed/a:b/720p' }, 'folder name "a:b" must not contain ":"'],
    [{ dest_path: 'processed/what?/720p' }, 'folder name "what?" must not contain "?"'],
    [{ dest_path: 'processed/<a>/720p' }, 'folder name "<a>" must not contain "<"'],
    [{ dest_path: 'processed/"a"/720p' }, 'must not contain """'],
    [{ dest_path: 'processed/a*/720p' }, 'must not contain "*"'],
    [{ dest_path: 'processed/a\tb/720p' }, 'must not contain control character U+0009'],
    [{ dest_path: 'processed/a\nb/720p' }, 'must not contain control character U+000A'],
    [{ dest_path: 'processed/a\u007fb/720p' }, 'must not contain control character U+007F'],
    [{ dest_path: 'processed/Vol. 2./720p' }, 'folder name "Vol. 2." must not end with a dot or a space'],
    [{ dest_path: 'processed/Movie /720p' }, 'folder name "Movie " must not end with a dot or a space'],
    [{ dest_path: 'processed/CON/720p' }, 'folder name "CON" is a name Windows reserves for a device'],
    [{ dest_path: 'processed/nul.txt/720p' }, 'folder name "nul.txt" is a name Windows reserves'],
    [{ dest_path: '' }, 'outputs[0].dest_path = "": expected a path relative to the NAS root'],
    [{ dest_path: './' }, 'outputs[0].dest_path = "./": expected a folder inside the NAS root, not the root itself'],
  ])('%o', async (output, expected) => {
    expect(await refusal(job({}, output))).toContain(expected);
  });

  it.each([
    [{ segment_time: 0.5 }, 'hls_settings.segment_time = 0.5: expected a number of seconds from 1 to 30'],
    [{ segment_time: -6 }, 'hls_settings.segment_time = -6'],
    [{ segment_time: 31 }, 'hls_settings.segment_time = 31'],
    [
      { master_playlist_name: '../x.m3u8' },
      'hls_settings.master_playlist_name = "../x.m3u8": expected a plain file name',
    ],
    [{ master_playlist_name: 'a/b.m3u8' }, 'hls_settings.master_playlist_name = "a/b.m3u8"'],
    [{ master_playlist_name: 'index.txt' }, 'hls_settings.master_playlist_name = "index.txt"'],
    [{ master_playlist_name: '-y.m3u8' }, 'hls_settings.master_playlist_name = "-y.m3u8"'],
    [{ segment_type: 'mp4' }, 'hls_settings.segment_type = "mp4": expected "ts" or "fmp4"'],
  ])('%o', async (hls, expected) => {
    expect(await refusal(job({ hls_settings: hls as Job['hls_settings'] }))).toContain(expected);
  });

  it('reports schema problems with the field path', async () => {
    expect(await refusal({ ...job(), outputs: [] })).toContain('outputs');
    expect(await refusal({ ...job(), outputs: [{ ...job().outputs[0], bitrate: 5 }] })).toBe(
      'invalid job: outputs[0].bitrate = 5: expected a string',
    );
    expect(await refusal({ ...job(), hls_settings: { segment_time: '6' } })).toBe(
      'invalid job: hls_settings.segment_time = "6": expected a number',
    );
    expect(await refusal({ ...job(), input: {} })).toBe('invalid job: input.source_url is required');
  });

  it('refuses two outputs with the same folder after normalisation', async () => {
    const msg = await refusal(job({ outputs: ladder('processed/a/720p/', 'processed/a/./720p') }));
    expect(msg).toContain('outputs[1].dest_path = "processed/a/./720p": the same folder as outputs[0].dest_path');
  });

  it('refuses outputs that share nothing but the NAS root', async () => {
    expect(await refusal(job({ outputs: ladder('a/720p', 'b/720p') }))).toContain('share no folder below the NAS root');
  });

  it('refuses a destination that contains the input', async () => {
    expect(await refusal(job({}, { dest_path: 'movies' }))).toContain('contains the input file');
  });
});

describe('validateJob: paths stay inside the NAS', () => {
  it.each([
    ['../outside/secret.mkv', 'input.source_url = "../outside/secret.mkv": resolves outside the NAS root'],
    ['movies/../../outside/secret.mkv', 'resolves outside the NAS root'],
    ['..\\outside\\secret.mkv', 'resolves outside the NAS root'],
    ['/etc/passwd', 'input.source_url = "/etc/passwd": an absolute path outside the NAS root'],
    ['C:\\Windows\\win.ini', 'an absolute Windows path is outside the NAS root'],
    ['\\\\server\\share\\a.mkv', 'an absolute path outside the NAS root'],
    ['escape/secret.mkv', 'input.source_url = "escape/secret.mkv": leads outside the NAS root through a symbolic link'],
    ['movies/linked.mkv', 'input.source_url = "movies/linked.mkv": leads outside the NAS root through a symbolic link'],
    ['movies/a.mkv\0.txt', 'contains a NUL byte'],
    ['http://example.com/a.mkv', 'not a URL'],
  ])('source_url %j is refused', async (source, expected) => {
    expect(await refusal(job({ input: { source_url: source } }))).toContain(expected);
  });

  it.each([
    ['../processed/720p', 'outputs[0].dest_path = "../processed/720p": resolves outside the NAS root'],
    ['/tmp/x/720p', 'an absolute path outside the NAS root'],
    ['escape/new/720p', 'leads outside the NAS root through a symbolic link'],
    ['processed/dangling/720p', 'goes through a broken symbolic link'],
  ])('dest_path %j is refused', async (dest, expected) => {
    expect(await refusal(job({}, { dest_path: dest }))).toContain(expected);
  });

  it('says which input is missing, with its absolute path', async () => {
    expect(await refusal(job({ input: { source_url: 'movies/nope.mkv' } }))).toBe(
      `input file does not exist: ${path.join(nas, 'movies', 'nope.mkv')}`,
    );
    expect(await refusal(job({ input: { source_url: 'movies' } }))).toContain('input file is not a regular file');
  });

  it('says when the NAS itself is missing (not mounted)', async () => {
    const missing = path.join(base, 'unmounted');
    await expect(validateJob(job(), { nasRoot: missing })).rejects.toThrow(
      new StorageError(`the NAS root ${missing} does not exist (is the NAS mounted?)`),
    );
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)(
    'says when the input cannot be read',
    async () => {
      const locked = path.join(nas, 'movies', 'locked.mkv');
      await writeFile(locked, 'x');
      await chmod(locked, 0o000);
      expect(await refusal(job({ input: { source_url: 'movies/locked.mkv' } }))).toContain('not readable');
    },
  );
});

describe('validateJob: Windows path rules (platform win32)', () => {
  const root = 'Z:\\nas';
  it.each([
    ['C:\\Windows\\win.ini', 'an absolute path outside the NAS root (Z:\\nas)'],
    ['\\\\server\\share\\a.mkv', 'an absolute path outside the NAS root'],
    ['..\\other\\a.mkv', 'resolves outside the NAS root'],
    ['movies\\..\\..\\a.mkv', 'resolves outside the NAS root'],
    ['/etc/passwd', 'an absolute path outside the NAS root'],
    ['Z:\\nasty\\a.mkv', 'an absolute path outside the NAS root'],
  ])('source_url %j is refused', async (source, expected) => {
    expect(await refusal(job({ input: { source_url: source } }), 'win32', root)).toContain(expected);
  });

  it('accepts drive-letter paths inside the NAS root (any case) and relative ones with backslashes', async () => {
    // The disk is not there on this host, so acceptance shows as the next check failing: the input's existence.
    expect(await refusal(job({ input: { source_url: 'z:\\NAS\\movies\\a.mkv' } }), 'win32', root)).toBe(
      'input file does not exist: z:\\NAS\\movies\\a.mkv',
    );
    expect(
      await refusal(
        job({ input: { source_url: 'movies\\a.mkv' } }, { dest_path: 'Z:\\nas\\processed\\a\\720p' }),
        'win32',
        root,
      ),
    ).toBe('input file does not exist: Z:\\nas\\movies\\a.mkv');
  });

  it('treats folders that differ only in case as the same folder', async () => {
    const msg = await refusal(job({ outputs: ladder('processed/A/720p', 'Processed\\a\\720P') }), 'win32', root);
    expect(msg).toContain('the same folder as outputs[0].dest_path');
  });
});

describe('the staging folder', () => {
  it('refuses a staging folder with "%" (the hls muxer would expand it), as a fault of temp_dir', () => {
    expect(() => assertStagingDirUsable('/tmp/100%/job')).toThrow(ConfigError);
    expect(() => assertStagingDirUsable('/tmp/100%/job')).toThrow(
      'invalid temp_dir: the staging folder /tmp/100%/job must not contain "%"',
    );
    expect(() => assertStagingDirUsable('/tmp/jobs/job-1')).not.toThrow();
  });
});
