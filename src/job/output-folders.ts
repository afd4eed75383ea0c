/**
 * Where a job's outputs and its master go, relative to the NAS root, and the rules between those folders: each
 * output has its own folder, side by side; the master's folder (masterDir) is output_base or the outputs' deepest
 * common folder; the tracks folder beside the master belongs to the worker. Comparisons fold case where the NAS
 * does ("Movies" and "movies" are one folder there).
 */
import { JobValidationError } from '../errors.js';
import type { Job } from '../protocol/schemas.js';
import { foldName } from '../transcode/case-folding.js';
import { tracksFolderName } from '../transcode/job-fields.js';
import type { ResolvedNasPath } from '../transcode/nas-path.js';
import type { ValidatedJob, ValidatedOutput } from '../transcode/validated-job.js';
import { failField as fail, showValue as show } from './field-error.js';

/** A relative NAS path as the filesystem compares it: case folded when it folds case. */
export function comparablePath(rel: string, caseInsensitive: boolean): string {
  return caseInsensitive ? foldName(rel) : rel;
}

/**
 * Deepest common folder of relative forward-slash paths ("" when they only share the root). Case-insensitive where
 * the NAS folds case, where "Movies" and "movies" are one folder (the first path's spelling is kept).
 */
export function commonDir(paths: readonly string[], caseInsensitive = false): string {
  const same = (a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && comparablePath(a, caseInsensitive) === comparablePath(b, caseInsensitive);
  const split = paths.map((p) => p.split('/').filter(Boolean));
  const first = split[0] ?? [];
  let n = first.length;
  for (const parts of split.slice(1)) {
    let i = 0;
    while (i < n && i < parts.length && same(parts[i], first[i])) i++;
    n = i;
  }
  return first.slice(0, n).join('/');
}

/** True when `rel` is `folder` or lies below it (both relative to the NAS root, compared as the NAS does). */
export function isWithin(rel: string, folder: string, caseInsensitive: boolean): boolean {
  const a = comparablePath(rel, caseInsensitive);
  const b = comparablePath(folder, caseInsensitive);
  return a === b || a.startsWith(b + '/');
}

/**
 * The master's folder: output_base when the job has one, else the deepest folder common to all outputs, which must
 * not be the NAS root (the master would sit at the top of the NAS, among everyone's files).
 */
export function masterDirOf(
  base: ResolvedNasPath | null,
  outputs: readonly ValidatedOutput[],
  caseInsensitive: boolean,
) {
  if (base) return base.rel;
  const dir = commonDir(
    outputs.map((o) => o.destPath),
    caseInsensitive,
  );
  if (dir === '')
    fail(
      'outputs[*].dest_path',
      outputs.map((o) => o.destPath),
      'the outputs share no folder below the NAS root; put them under one folder such as "processed/<movie>/720p", ' +
        'or set output_base',
    );
  return dir;
}

/**
 * The audio and subtitle renditions live in "<masterDir>/<master stem>_tracks", a folder the worker owns: no
 * output may be it or lie inside it, and it must not hold the source.
 */
export function assertTracksFolderFree(
  job: Job,
  v: Pick<ValidatedJob, 'outputs' | 'masterDir' | 'masterPlaylistName' | 'caseInsensitive'>,
  inputRel: string,
): void {
  const tracks = `${v.masterDir}/${tracksFolderName(v.masterPlaylistName)}`;
  const why = `the master's tracks folder ${show(tracks)}, where the audio and subtitle renditions go`;
  for (const o of v.outputs)
    if (isWithin(o.destPath, tracks, v.caseInsensitive))
      fail(
        `outputs[${o.index}].dest_path`,
        job.outputs[o.index]!.dest_path,
        `is or lies inside ${why}; choose another folder`,
      );
  if (isWithin(inputRel, tracks, v.caseInsensitive))
    fail('input.source_url', job.input.source_url, `lies inside ${why}; the commit would replace it`);
}

/**
 * The commit swaps each dest_path folder as a whole, so one output's folder cannot hold another's: refuse that
 * before any work is done. Case-insensitive where the NAS folds case ("A" holds "a/720p" there).
 */
export function assertSeparateFolders(validated: Pick<ValidatedJob, 'outputs' | 'caseInsensitive'>): void {
  const key = (rel: string) => comparablePath(rel, validated.caseInsensitive);
  for (const a of validated.outputs) {
    for (const b of validated.outputs) {
      if (a !== b && key(b.destPath).startsWith(key(a.destPath) + '/')) {
        throw new JobValidationError(
          `outputs[${b.index}].dest_path = "${b.destPath}" is inside outputs[${a.index}].dest_path = "${a.destPath}"; ` +
            'each output needs its own folder, side by side',
        );
      }
    }
  }
}
