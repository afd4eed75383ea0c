/**
 * Step 1 of the pipeline: check every rule about the meaning of a parsed job (parse-job.ts has checked its shape)
 * and resolve its paths inside the NAS, before anything runs. Every failure is a JobValidationError whose message
 * names the field and the value, e.g.
 *   outputs[1].bitrate = "fast": expected a bitrate such as "2500k" or "5M"
 *
 * Nothing from the job ever reaches a shell (there is none), and nothing reaches ffmpeg's argv where ffmpeg could
 * read it as an option: paths are absolute, encoder names come from a fixed list, numbers are parsed.
 */
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, JobValidationError } from '../errors.js';
import type { Job } from '../protocol/schemas.js';
import {
  destFolderNameProblem,
  encoderFamilyOf,
  isPlainPlaylistName,
  MAX_OUTPUTS,
  MAX_VIDEO_BITRATE,
  MIN_VIDEO_BITRATE,
  parseBitrate,
  REFUSED_AV1_ENCODERS,
} from '../transcode/job-fields.js';
import { parseResolution } from '../media/resolutions.js';
import { deepestExisting, nasFoldsCase } from '../transcode/case-folding.js';
import { realNasRoot, resolveNasPath, type NasPathOptions, type ResolvedNasPath } from '../transcode/nas-path.js';
import { RESERVED_NAME_BYTES } from '../transcode/path-limits.js';
import {
  DEFAULT_MASTER_PLAYLIST,
  DEFAULT_SEGMENT_TIME,
  type ValidatedJob,
  type ValidatedOutput,
} from '../transcode/validated-job.js';
import { failField as fail, showValue as show } from './field-error.js';
import {
  assertSeparateFolders,
  assertTracksFolderFree,
  comparablePath,
  isWithin,
  masterDirOf,
} from './output-folders.js';
import { outputAudioBitrate, validateAudioConfig, validateSubtitleConfig } from './validate-tracks.js';

export { assertSeparateFolders, commonDir, comparablePath } from './output-folders.js';

export interface ValidateOptions {
  nasRoot: string;
  platform?: NodeJS.Platform;
  /**
   * Whether the NAS folds case in these existing folders; nasFoldsCase on the real disk by default (tests inject
   * the answer of a case-folding disk they cannot mount).
   */
  caseFolding?: (dirs: string[]) => Promise<boolean>;
}

function checkCodec(field: string, codec: string): string {
  if (encoderFamilyOf(codec)) return codec;
  if (REFUSED_AV1_ENCODERS.has(codec))
    fail(
      field,
      codec,
      'this AV1 encoder is not offered (too slow for a ladder, or no HLS-ready output); use libsvtav1, av1_nvenc, ' +
        'av1_qsv or av1_vaapi for AV1 rungs',
    );
  return fail(
    field,
    codec,
    'expected an H.264/HEVC/AV1 encoder name such as libx264, libx265, libsvtav1, h264_nvenc, h264_qsv or h264_vaapi',
  );
}

async function checkInputFile(abs: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await stat(abs)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new JobValidationError(`input file does not exist: ${abs}`);
    throw new JobValidationError(`input file cannot be read: ${abs} (${code ?? String(err)})`);
  }
  if (!isFile) throw new JobValidationError(`input file is not a regular file: ${abs}`);
  try {
    await access(abs, constants.R_OK);
  } catch {
    throw new JobValidationError(`input file is not readable by the worker: ${abs} (permission denied)`);
  }
}

function checkSegmentTime(value: unknown): number {
  // 0 is what an orchestrator that never set the field sends (Go's zero value): the default, not an error.
  if (value === undefined || value === 0) return DEFAULT_SEGMENT_TIME;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 30)
    fail('hls_settings.segment_time', value, 'expected a number of seconds from 1 to 30');
  return value;
}

/** Whether the job's folders fold case: Windows always; elsewhere asked of the NAS (only on the host's platform). */
async function detectCaseFolding(
  opts: ValidateOptions,
  pathOpts: NasPathOptions,
  realRoot: string,
  input: string,
  dests: readonly string[],
): Promise<boolean> {
  if (pathOpts.platform === 'win32' || pathOpts.platform !== process.platform) return pathOpts.platform === 'win32';
  const root = path.resolve(pathOpts.nasRoot);
  const dirs = [realRoot, path.dirname(input), ...(await Promise.all(dests.map((d) => deepestExisting(d, root))))];
  return (opts.caseFolding ?? ((d) => nasFoldsCase(d, pathOpts.platform)))(dirs);
}

function checkHlsSettings(hls: NonNullable<Job['hls_settings']>) {
  const segmentTime = checkSegmentTime(hls.segment_time);
  const masterPlaylistName = hls.master_playlist_name || DEFAULT_MASTER_PLAYLIST;
  if (!isPlainPlaylistName(masterPlaylistName))
    fail(
      'hls_settings.master_playlist_name',
      masterPlaylistName,
      'expected a plain file name ending in .m3u8, such as "index.m3u8"',
    );
  return { segmentTime, masterPlaylistName, segmentType: hls.segment_type || 'ts' };
}

/** An output's field values, checked without I/O. */
function parseOutputValues(o: Job['outputs'][number], i: number, audio: ValidatedJob['audio']) {
  const at = `outputs[${i}]`;
  const resolution = parseResolution(o.resolution);
  if (!resolution)
    fail(
      `${at}.resolution`,
      o.resolution,
      'expected an even height such as 360p, 576p, 720p or 1080p (16p to 4320p), 4k, 8k, or WIDTHxHEIGHT such as "1280x720"',
    );
  const videoBitrate = parseBitrate(o.bitrate);
  if (videoBitrate === null || videoBitrate < MIN_VIDEO_BITRATE || videoBitrate > MAX_VIDEO_BITRATE)
    fail(`${at}.bitrate`, o.bitrate, 'expected a bitrate such as "2500k" or "5M", from 16k to 500M');
  const audioBitrate = outputAudioBitrate(o, i, audio);
  const codec = checkCodec(`${at}.codec`, o.codec);
  return { resolution, videoBitrate, audioBitrate, codec, index: i };
}

/** Refuses a folder (dest_path or output_base) that is the NAS root or has a name the NAS's readers cannot open. */
function checkFolder(field: string, raw: string, folder: ResolvedNasPath): void {
  if (folder.rel === '') fail(field, raw, 'expected a folder inside the NAS root, not the root itself');
  for (const seg of folder.rel.split('/')) {
    const problem = destFolderNameProblem(seg);
    if (problem) fail(field, raw, `folder name ${show(seg)} ${problem}`);
  }
}

/** output_base resolved inside the NAS root like a dest_path; null when absent or "" (Go's zero value). */
async function resolveOutputBase(
  raw: string | undefined,
  pathOpts: NasPathOptions,
  realRoot: string,
): Promise<ResolvedNasPath | null> {
  if (raw === undefined || raw === '') return null;
  const base = await resolveNasPath(raw, 'output_base', pathOpts, realRoot, RESERVED_NAME_BYTES);
  checkFolder('output_base', raw, base);
  return base;
}

export async function validateJob(job: Job, opts: ValidateOptions): Promise<ValidatedJob> {
  const { segmentTime, masterPlaylistName, segmentType } = checkHlsSettings(job.hls_settings ?? {});
  const audio = validateAudioConfig(job.audio_config);
  const subtitles = validateSubtitleConfig(job.subtitles);

  const pathOpts: NasPathOptions = { nasRoot: opts.nasRoot, platform: opts.platform ?? process.platform };
  const realRoot = await realNasRoot(pathOpts);

  if (job.outputs.length > MAX_OUTPUTS)
    throw new JobValidationError(
      `outputs = ${job.outputs.length} outputs: expected at most ${MAX_OUTPUTS} renditions in one job`,
    );

  // Field values first (cheap, no I/O), then paths.
  const parsed = job.outputs.map((o, i) => parseOutputValues(o, i, audio));

  const inputField = 'input.source_url';
  const input = await resolveNasPath(job.input.source_url, inputField, pathOpts, realRoot);
  if (input.rel === '')
    fail(inputField, job.input.source_url, 'expected a file inside the NAS root, not the root itself');

  const base = await resolveOutputBase(job.output_base, pathOpts, realRoot);
  // With output_base, a relative dest_path is relative to it (an absolute one stays absolute).
  const destOpts: NasPathOptions = base ? { ...pathOpts, base: base.rel } : pathOpts;
  const dests = [];
  for (const [i, o] of job.outputs.entries())
    dests.push(await resolveNasPath(o.dest_path, `outputs[${i}].dest_path`, destOpts, realRoot, RESERVED_NAME_BYTES));
  const caseInsensitive = await detectCaseFolding(opts, pathOpts, realRoot, input.abs, [
    ...dests.map((d) => d.abs),
    ...(base ? [base.abs] : []),
  ]);
  const inputKey = comparablePath(input.rel, caseInsensitive);

  const outputs: ValidatedOutput[] = [];
  const seen = new Map<string, number>();
  for (const [i, o] of job.outputs.entries()) {
    const field = `outputs[${i}].dest_path`;
    const dest = dests[i]!;
    checkFolder(field, o.dest_path, dest);
    if (base && !isWithin(dest.rel, base.rel, caseInsensitive))
      fail(
        field,
        o.dest_path,
        `lies outside output_base ${show(base.rel)} (it is ${show(dest.rel)}); every output must be inside it`,
      );
    // Where the NAS folds case, "A/720p" and "a/720p" are the same folder.
    const key = comparablePath(dest.rel, caseInsensitive);
    const earlier = seen.get(key);
    if (earlier !== undefined)
      fail(field, o.dest_path, `the same folder as outputs[${earlier}].dest_path; each output needs its own folder`);
    seen.set(key, i);
    if (key === inputKey || inputKey.startsWith(key + '/'))
      fail(field, o.dest_path, 'contains the input file; the commit would replace it');
    outputs.push({ destPath: dest.rel, absDestDir: dest.abs, ...parsed[i]! });
  }

  await checkInputFile(input.abs);

  const masterDir = masterDirOf(base, outputs, caseInsensitive);
  assertTracksFolderFree(job, { outputs, masterDir, masterPlaylistName, caseInsensitive }, input.rel);
  assertSeparateFolders({ outputs, caseInsensitive });
  return {
    job,
    inputPath: input.abs,
    outputs,
    masterPlaylistName,
    segmentTime,
    segmentType,
    masterDir,
    manifestUrl: `/${masterDir}/${masterPlaylistName}`,
    caseInsensitive,
    audio,
    subtitles,
  };
}

/**
 * The job's staging folder (under temp_dir) must hold no '%': the hls muxer expands %d/%v sequences in its output
 * patterns, so one in the staging path would corrupt them. A fault of temp_dir, so a ConfigError; checked with the
 * job, before any work, because the folder is the job's.
 */
export function assertStagingDirUsable(stagingDir: string): void {
  if (stagingDir.includes('%'))
    throw new ConfigError(`invalid temp_dir: the staging folder ${stagingDir} must not contain "%"`);
}
