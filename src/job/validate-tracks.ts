/**
 * The job's audio and subtitle wishes (audio_config, outputs[].audio_codec / audio_bitrate, subtitles), checked and
 * resolved without I/O. Go's zero values ("" and a missing field; parse-job.ts has already dropped nulls) mean the
 * default. Every failure names the field and the value (field-error.ts).
 */
import type { Job, JobOutput } from '../protocol/schemas.js';
import {
  jobLanguage,
  MAX_AAC_BITRATE,
  MAX_SURROUND_BITRATE,
  MIN_AAC_BITRATE,
  MIN_SURROUND_BITRATE,
  parseBitrate,
  parseStereoCodec,
  parseSurroundCodec,
} from '../transcode/job-fields.js';
import {
  DEFAULT_AUDIO_BITRATE,
  DEFAULT_SURROUND_BITRATE,
  type ValidatedAudioConfig,
  type ValidatedSubtitleConfig,
} from '../transcode/validated-job.js';
import { failField } from './field-error.js';

const STEREO_ONLY = 'only "aac" is supported (the stereo group every player plays); surround is audio_config.surround';

function checkStereoCodec(field: string, value: string | undefined): 'aac' {
  if (value === undefined) return 'aac';
  return parseStereoCodec(value) ?? failField(field, value, STEREO_ONLY);
}

/** An AAC stereo bitrate field: `fallback` when absent or "". */
function checkAacBitrate(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const bps = parseBitrate(value);
  if (bps === null || bps < MIN_AAC_BITRATE || bps > MAX_AAC_BITRATE)
    failField(field, value, 'expected an AAC bitrate from "32k" to "512k", such as "128k"');
  return bps;
}

function checkSurroundBitrate(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SURROUND_BITRATE;
  const bps = parseBitrate(value);
  if (bps === null || bps < MIN_SURROUND_BITRATE || bps > MAX_SURROUND_BITRATE)
    failField(
      'audio_config.surround_bitrate',
      value,
      'expected an E-AC-3/AC-3 5.1 bitrate from "192k" to "640k", such as "384k"',
    );
  return bps;
}

/** Lower-case primary subtags, in the job's order, each once. */
function checkLanguages(tags: readonly string[] | undefined): string[] {
  const out: string[] = [];
  (tags ?? []).forEach((tag, i) => {
    const lang = jobLanguage(tag);
    if (lang === undefined)
      failField(
        `audio_config.languages[${i}]`,
        tag,
        'expected a language code such as "en", "fre" (ISO 639) or "pt-BR" (BCP-47)',
      );
    if (!out.includes(lang)) out.push(lang);
  });
  return out;
}

/**
 * audio_config, resolved. The surround fields are checked even when surround is off (a typo fails now, not on
 * the day surround is switched on); they only take effect with surround: true.
 */
export function validateAudioConfig(config: Job['audio_config']): ValidatedAudioConfig {
  const c = config ?? {};
  const codec = checkStereoCodec('audio_config.codec', c.codec);
  const bitrate = checkAacBitrate('audio_config.bitrate', c.bitrate, DEFAULT_AUDIO_BITRATE);
  const surroundCodec =
    c.surround_codec === undefined
      ? 'eac3'
      : (parseSurroundCodec(c.surround_codec) ??
        failField('audio_config.surround_codec', c.surround_codec, 'expected "eac3" (E-AC-3) or "ac3" (AC-3)'));
  const surroundBitrate = checkSurroundBitrate(c.surround_bitrate);
  return {
    codec,
    bitrate,
    surround: c.surround === true ? { codec: surroundCodec, bitrate: surroundBitrate } : null,
    languages: checkLanguages(c.languages),
  };
}

/**
 * The AAC bitrate of the stereo group output `index` plays with: its audio_bitrate, else the job's
 * (audio_config.bitrate, already resolved). Its audio_codec must be AAC.
 */
export function outputAudioBitrate(output: JobOutput, index: number, audio: ValidatedAudioConfig): number {
  checkStereoCodec(`outputs[${index}].audio_codec`, output.audio_codec);
  return checkAacBitrate(`outputs[${index}].audio_bitrate`, output.audio_bitrate, audio.bitrate);
}

/** The subtitles object, resolved: each field true unless it is false. */
export function validateSubtitleConfig(config: Job['subtitles']): ValidatedSubtitleConfig {
  return { include: config?.include !== false, sidecars: config?.sidecars !== false };
}
