/**
 * `run-job --part` and `run-job --stitch` (protocol extension split-stitch/1 without an orchestrator, e.g. a
 * Kubernetes Indexed Job): the flags become a role, and the role rewrites the job read from the file into the part
 * or stitch job the executors run. Pure functions: the caller passes the environment in.
 *
 * Invariants of a rewritten job: every field of the file's job is kept; a part gets job_id `<job_id>.part-<index>`
 * and `part: {parent_job_id, index, count}` (the part executor derives its segment range from index and count, so
 * every part of one film agrees on the boundaries); a stitch gets job_id `<job_id>.stitch` and
 * `stitch: {parent_job_id, count}`. The parent id is the file's job_id, so the parts and the stitch of one job file
 * meet in the same parts area on the NAS.
 */
import type { Job } from '../protocol/schemas.js';

/** Set by Kubernetes in every pod of a Job with completionMode: Indexed (0-based). */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** The part count when --part-count is not given (a Job cannot expose its own spec.completions to its pods). */
export const PART_COUNT_ENV = 'TW_PART_COUNT';

/** What the command-line parser hands over: `--part` alone is `true`, `--part 2/8` the string. */
export interface SplitFlags {
  part?: string | boolean;
  partCount?: string;
  stitch?: boolean;
}

export type SplitRole =
  { kind: 'whole' } | { kind: 'part'; index: number; count: number } | { kind: 'stitch'; count: number };

/** A job as run-job runs it: the file's job, or the part or stitch job derived from it (split-stitch/1). */
export type SplitJob = Job;

/** A bad --part/--part-count/--stitch (or environment): the message is for the person who wrote the command. */
export class SplitFlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitFlagError';
  }
}

function parseCount(text: string, from: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new SplitFlagError(`${from} = ${JSON.stringify(text)}: expected a whole number of parts, 1 or more`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 1)
    throw new SplitFlagError(`${from} = ${JSON.stringify(text)}: the part count must be 1 or more`);
  return n;
}

function parseIndex(text: string, from: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new SplitFlagError(`${from} = ${JSON.stringify(text)}: expected a part index, 0 or more`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) throw new SplitFlagError(`${from} = ${JSON.stringify(text)}: too large`);
  return n;
}

/** The count from --part-count, else TW_PART_COUNT; `what` names the flag that needs it. */
function countFrom(flags: SplitFlags, env: Readonly<Record<string, string | undefined>>, what: string): number {
  if (flags.partCount !== undefined) return parseCount(flags.partCount, '--part-count');
  const fromEnv = env[PART_COUNT_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseCount(fromEnv, PART_COUNT_ENV);
  throw new SplitFlagError(`${what} needs the number of parts: give --part-count N or set ${PART_COUNT_ENV}`);
}

/**
 * The role the flags ask for. Throws SplitFlagError on: --part with --stitch, --part-count alone, a malformed
 * INDEX/COUNT, an index out of range, a count below 1, or `--part`/`--part auto` where JOB_COMPLETION_INDEX is unset.
 */
export function parseSplitFlags(flags: SplitFlags, env: Readonly<Record<string, string | undefined>>): SplitRole {
  const wantsPart = flags.part !== undefined && flags.part !== false;
  if (wantsPart && flags.stitch)
    throw new SplitFlagError('--part and --stitch exclude each other: a run encodes one part or stitches them all');
  if (flags.stitch) return { kind: 'stitch', count: countFrom(flags, env, '--stitch') };
  if (!wantsPart) {
    if (flags.partCount !== undefined) throw new SplitFlagError('--part-count is only used with --part or --stitch');
    return { kind: 'whole' };
  }

  let index: number;
  let count: number;
  if (flags.part === true || flags.part === 'auto') {
    const fromEnv = env[COMPLETION_INDEX_ENV];
    if (fromEnv === undefined || fromEnv.trim() === '')
      throw new SplitFlagError(
        `--part without INDEX/COUNT takes the index from ${COMPLETION_INDEX_ENV}, which Kubernetes sets only in ` +
          'a Job with completionMode: Indexed; it is not set here (give --part INDEX/COUNT instead)',
      );
    index = parseIndex(fromEnv, COMPLETION_INDEX_ENV);
    count = countFrom(flags, env, '--part');
  } else {
    const m = /^\s*([^/]*)\/([^/]*)\s*$/.exec(String(flags.part));
    if (!m)
      throw new SplitFlagError(
        `--part = ${JSON.stringify(flags.part)}: expected INDEX/COUNT (e.g. 0/4), "auto" or nothing ` +
          '(the job file goes before --part: run-job job.json --part 0/4)',
      );
    index = parseIndex(m[1]!, '--part INDEX');
    count = parseCount(m[2]!, '--part COUNT');
    if (flags.partCount !== undefined && parseCount(flags.partCount, '--part-count') !== count)
      throw new SplitFlagError(
        `--part ${String(flags.part)} and --part-count ${flags.partCount} disagree on the count`,
      );
  }
  if (index >= count)
    throw new SplitFlagError(
      `part index ${index} is out of range for ${count} part${count === 1 ? '' : 's'} (indexes are 0 to ${count - 1})`,
    );
  return { kind: 'part', index, count };
}

/**
 * The job a role runs: the file's job unchanged for 'whole', else the part or stitch job derived from it. Throws
 * SplitFlagError when the file already holds a part or stitch job (its job_id is not a parent's).
 */
export function applySplitRole(job: Job, role: SplitRole): SplitJob {
  if (role.kind === 'whole') return job;
  if (job.part || job.stitch)
    throw new SplitFlagError(
      `job ${job.job_id} in the file is already a ${job.part ? 'part' : 'stitch'} job; ` +
        `--${role.kind} needs the whole job (the parent) in the file`,
    );
  if (role.kind === 'part')
    return {
      ...job,
      job_id: `${job.job_id}.part-${role.index}`,
      part: { parent_job_id: job.job_id, index: role.index, count: role.count },
    };
  return { ...job, job_id: `${job.job_id}.stitch`, stitch: { parent_job_id: job.job_id, count: role.count } };
}
