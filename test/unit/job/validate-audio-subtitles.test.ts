/**
 * The job's audio and subtitle fields (issue 11): audio_config, outputs[].audio_codec / audio_bitrate, subtitles.
 * Defaults, Go zero values, and one refusal per rule, each naming the field and the value. Jobs go through the one
 * parse (parseAssignedJob) then validateJob, as the worker runs them, on a real temporary NAS.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../src/errors.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';
import { validateJob } from '../../../src/job/validate.js';
import type { ValidatedJob } from '../../../src/transcode/validated-job.js';

let base: string;
let nas: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tw-audio-fields-'));
  nas = path.join(base, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
  await writeFile(path.join(nas, 'movies', 'a.mkv'), 'validation does not read it');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

type Raw = Record<string, unknown>;

/** A two-rung job as an orchestrator sends it; `over` replaces top-level fields, `outputs` patches each output. */
function raw(over: Raw = {}, ...outputs: Raw[]): Raw {
  return {
    job_id: 'job-1',
    input: { source_url: 'movies/a.mkv' },
    outputs: [
      { resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/a/720p', ...outputs[0] },
      { resolution: '360p', bitrate: '800k', codec: 'libx264', dest_path: 'processed/a/360p', ...outputs[1] },
    ],
    ...over,
  };
}

async function validated(job: Raw): Promise<ValidatedJob> {
  const p = parseAssignedJob(job);
  if (!p.ok) throw new Error(`expected the job to parse: ${p.problem}`);
  return validateJob(p.job, { nasRoot: nas });
}

/** Why the job is refused, as the worker words it (the parse's problem, or validation's message). */
async function refusal(job: Raw): Promise<string> {
  const p = parseAssignedJob(job);
  if (!p.ok) return `invalid job: ${p.problem}`;
  try {
    await validateJob(p.job, { nasRoot: nas });
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the job to be refused');
}

const DEFAULT_AUDIO = { codec: 'aac', bitrate: 128_000, surround: null, languages: [] };
const DEFAULT_SUBTITLES = { include: true, sidecars: true };

describe('audio_config and subtitles: defaults', () => {
  it('absent: AAC stereo at 128k for every output, no surround, every language, subtitles and sidecars on', async () => {
    const v = await validated(raw());
    expect(v.audio).toEqual(DEFAULT_AUDIO);
    expect(v.subtitles).toEqual(DEFAULT_SUBTITLES);
    expect(v.outputs.map((o) => o.audioBitrate)).toEqual([128_000, 128_000]);
  });

  it.each([
    ['null objects (nil pointers)', { audio_config: null, subtitles: null, output_base: null }],
    [
      'zero-valued structs, a nil slice and nil *bools',
      {
        audio_config: {
          codec: '',
          bitrate: '',
          surround: false,
          surround_codec: '',
          surround_bitrate: '',
          languages: null,
        },
        subtitles: { include: null, sidecars: null },
        output_base: '',
      },
    ],
    ['empty objects', { audio_config: {}, subtitles: {} }],
  ])('Go zero values mean the defaults: %s', async (_what, fields) => {
    const v = await validated(raw(fields, { audio_codec: '', audio_bitrate: '' }, { audio_codec: '' }));
    expect(v.audio).toEqual(DEFAULT_AUDIO);
    expect(v.subtitles).toEqual(DEFAULT_SUBTITLES);
    expect(v.outputs.map((o) => o.audioBitrate)).toEqual([128_000, 128_000]);
    expect(v.masterDir).toBe('processed/a');
  });
});

describe("audio_config and the outputs' audio: values", () => {
  it("audio_config.bitrate is every output's default; an output's audio_bitrate overrides it for that output", async () => {
    const v = await validated(raw({ audio_config: { codec: 'aac', bitrate: '192k' } }, { audio_bitrate: '96k' }));
    expect(v.audio.bitrate).toBe(192_000);
    expect(v.outputs.map((o) => o.audioBitrate)).toEqual([96_000, 192_000]);
  });

  it('accepts "AAC" in any case, per job and per output', async () => {
    const v = await validated(raw({ audio_config: { codec: 'AAC' } }, { audio_codec: 'Aac' }));
    expect(v.audio.codec).toBe('aac');
  });

  it('surround: true makes an E-AC-3 5.1 group at 384k by default; ac3 and a bitrate can be chosen', async () => {
    expect((await validated(raw({ audio_config: { surround: true } }))).audio.surround).toEqual({
      codec: 'eac3',
      bitrate: 384_000,
    });
    const ac3 = await validated(
      raw({ audio_config: { surround: true, surround_codec: 'ac3', surround_bitrate: '640k' } }),
    );
    expect(ac3.audio.surround).toEqual({ codec: 'ac3', bitrate: 640_000 });
    // The stereo group is unchanged by surround.
    expect(ac3.audio.codec).toBe('aac');
    expect(ac3.audio.bitrate).toBe(128_000);
  });

  it('surround settings without surround: true are checked, but no surround group is made', async () => {
    const v = await validated(raw({ audio_config: { surround_codec: 'ac3', surround_bitrate: '448k' } }));
    expect(v.audio.surround).toBeNull();
  });

  it('languages: ISO 639-1, 639-2 (B and T) and BCP-47 become primary subtags, in order, each once', async () => {
    const v = await validated(
      raw({ audio_config: { languages: ['fre', 'EN', 'fra', 'pt-BR', 'fr', 'eng', 'ger', 'ja'] } }),
    );
    expect(v.audio.languages).toEqual(['fr', 'en', 'pt', 'de', 'ja']);
  });

  it('subtitles: each field is true unless it is false', async () => {
    expect((await validated(raw({ subtitles: { include: false } }))).subtitles).toEqual({
      include: false,
      sidecars: true,
    });
    expect((await validated(raw({ subtitles: { include: true, sidecars: false } }))).subtitles).toEqual({
      include: true,
      sidecars: false,
    });
  });
});

describe('audio and subtitle fields: every bad value names the field and the value', () => {
  const STEREO = 'only "aac" is supported (the stereo group every player plays); surround is audio_config.surround';
  it.each([
    [raw({}, {}, { audio_codec: 'mp3' }), `outputs[1].audio_codec = "mp3": ${STEREO}`],
    [raw({}, { audio_codec: 'opus' }), `outputs[0].audio_codec = "opus": ${STEREO}`],
    [raw({}, { audio_codec: 'flac' }), `outputs[0].audio_codec = "flac": ${STEREO}`],
    [raw({}, { audio_codec: 'ac3' }), `outputs[0].audio_codec = "ac3": ${STEREO}`],
    [raw({}, { audio_codec: 'libfdk_aac' }), `outputs[0].audio_codec = "libfdk_aac": ${STEREO}`],
    [raw({ audio_config: { codec: 'mp3' } }), `audio_config.codec = "mp3": ${STEREO}`],
    [raw({ audio_config: { codec: 'eac3' } }), `audio_config.codec = "eac3": ${STEREO}`],
  ])('an unsupported stereo codec: %#', async (job, expected) => {
    expect(await refusal(job)).toBe(expected);
  });

  const AAC = 'expected an AAC bitrate from "32k" to "512k", such as "128k"';
  it.each([
    [raw({}, { audio_bitrate: '31k' }), `outputs[0].audio_bitrate = "31k": ${AAC}`],
    [raw({}, {}, { audio_bitrate: '513k' }), `outputs[1].audio_bitrate = "513k": ${AAC}`],
    [raw({}, { audio_bitrate: 'loud' }), `outputs[0].audio_bitrate = "loud": ${AAC}`],
    [raw({ audio_config: { bitrate: '16k' } }), `audio_config.bitrate = "16k": ${AAC}`],
    [raw({ audio_config: { bitrate: '1M' } }), `audio_config.bitrate = "1M": ${AAC}`],
    [raw({ audio_config: { bitrate: '128 kbps' } }), `audio_config.bitrate = "128 kbps": ${AAC}`],
  ])('an AAC bitrate out of 32k..512k: %#', async (job, expected) => {
    expect(await refusal(job)).toBe(expected);
  });

  it('the bounds themselves are accepted', async () => {
    const v = await validated(raw({ audio_config: { bitrate: '32k' } }, { audio_bitrate: '512k' }));
    expect(v.outputs.map((o) => o.audioBitrate)).toEqual([512_000, 32_000]);
    const s = await validated(raw({ audio_config: { surround: true, surround_bitrate: '192k' } }));
    expect(s.audio.surround?.bitrate).toBe(192_000);
  });

  const SURROUND = 'expected an E-AC-3/AC-3 5.1 bitrate from "192k" to "640k", such as "384k"';
  it.each([
    [
      { surround: true, surround_codec: 'dts' },
      'audio_config.surround_codec = "dts": expected "eac3" (E-AC-3) or "ac3" (AC-3)',
    ],
    [{ surround_codec: 'aac' }, 'audio_config.surround_codec = "aac": expected "eac3" (E-AC-3) or "ac3" (AC-3)'],
    [{ surround: true, surround_bitrate: '128k' }, `audio_config.surround_bitrate = "128k": ${SURROUND}`],
    [
      { surround: true, surround_codec: 'ac3', surround_bitrate: '641k' },
      `audio_config.surround_bitrate = "641k": ${SURROUND}`,
    ],
    [{ surround_bitrate: 'max' }, `audio_config.surround_bitrate = "max": ${SURROUND}`],
  ])('a bad surround setting: %o', async (audio_config, expected) => {
    expect(await refusal(raw({ audio_config }))).toBe(expected);
  });

  const LANGUAGE = 'expected a language code such as "en", "fre" (ISO 639) or "pt-BR" (BCP-47)';
  it.each([
    [['en', 'klingon'], `audio_config.languages[1] = "klingon": ${LANGUAGE}`],
    [['xyz'], `audio_config.languages[0] = "xyz": ${LANGUAGE}`],
    [['42'], `audio_config.languages[0] = "42": ${LANGUAGE}`],
    [['und'], `audio_config.languages[0] = "und": ${LANGUAGE}`],
    [['fr', ''], `audio_config.languages[1] = "": ${LANGUAGE}`],
    [['pt-'], `audio_config.languages[0] = "pt-": ${LANGUAGE}`],
  ])('a language that names none: %j', async (languages, expected) => {
    expect(await refusal(raw({ audio_config: { languages } }))).toBe(expected);
  });

  it.each([
    [{ audio_config: { surround: 'yes' } }, 'invalid job: audio_config.surround = "yes": expected a boolean'],
    [{ audio_config: { languages: 'fr' } }, 'invalid job: audio_config.languages = "fr": expected an array'],
    [{ audio_config: { languages: ['fr', 7] } }, 'invalid job: audio_config.languages[1] = 7: expected a string'],
    [{ audio_config: { bitrate: 128000 } }, 'invalid job: audio_config.bitrate = 128000: expected a string'],
    [{ audio_config: 'aac' }, 'invalid job: audio_config = "aac": expected an object'],
    [{ subtitles: { include: 'no' } }, 'invalid job: subtitles.include = "no": expected a boolean'],
    [{ subtitles: true }, 'invalid job: subtitles = true: expected an object'],
    [{ output_base: 5 }, 'invalid job: output_base = 5: expected a string'],
  ])('a value of the wrong type is refused by the parse: %o', async (fields, expected) => {
    expect(await refusal(raw(fields))).toBe(expected);
  });

  it("refuses more than 64 languages (the schema's limit)", async () => {
    const languages = Array.from({ length: 65 }, () => 'en');
    expect(await refusal(raw({ audio_config: { languages } }))).toContain('invalid job: audio_config.languages');
  });
});
