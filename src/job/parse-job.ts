/**
 * The one parse of an assigned job, for `start` (the sync answer's assigned_job) and `run-job` (the job file): what
 * an orchestrator we did not write may send is made into what the schema describes, then checked against it. It
 * runs once per assignment; what it returns is a `Job` whose shape is known, and the rules of its meaning (paths,
 * bitrates, folders) are validate.ts's.
 *
 * Loaded by the idle worker (every sync answer may carry a job): it must stay free of the pipeline's modules.
 */
import { Job } from '../protocol/schemas.js';
import { checkSchema } from '../protocol/validate.js';
import { show as showString } from '../transcode/nas-path.js';

export type ParsedJob =
  | { ok: true; job: Job }
  | {
      ok: false;
      /**
       * No job at all: an orchestrator written in Go that has nothing to assign may still send its empty Job struct
       * (job_id "", outputs null), and anything that is not an object has no job_id either.
       */
      empty: boolean;
      /** The job's id when it has a usable one: the job can then be failed by name. */
      jobId?: string;
      /** What is wrong, naming the field and its value, e.g. `outputs[1].bitrate = 5: expected a string`. */
      problem: string;
    };

/** The job's optional objects whose null (Go's nil pointer) means absent, and whose null fields mean absent too. */
const NULLABLE_OBJECTS = ['hls_settings', 'audio_config', 'subtitles'] as const;

/**
 * Go's zero values and database keys, made into what the schema describes before it is checked: a numeric job_id
 * becomes its decimal string; a null hls_settings, audio_config, subtitles or output_base (Go's nil struct or
 * pointer) is absent, and so is a null field inside those objects (a nil slice: audio_config.languages; a nil
 * *bool). ("" and 0 are the schema's and validation's to read as "the default".) Anything else is left for the
 * schema to judge.
 */
function normalizeJob(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const job: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (typeof job.job_id === 'number' && Number.isSafeInteger(job.job_id)) job.job_id = String(job.job_id);
  if (job.output_base === null) delete job.output_base;
  for (const key of NULLABLE_OBJECTS) {
    const value = job[key];
    if (value === null) delete job[key];
    else if (typeof value === 'object' && !Array.isArray(value))
      job[key] = Object.fromEntries(Object.entries(value as object).filter(([, v]) => v !== null));
  }
  return job;
}

export function parseAssignedJob(raw: unknown): ParsedJob {
  const normalized = normalizeJob(raw);
  const id = (normalized as { job_id?: unknown } | null | undefined)?.job_id;
  const problem = checkSchema(Job, normalized);
  if (!problem) return { ok: true, job: normalized as Job };
  return {
    ok: false,
    empty: id === undefined || id === '',
    ...(typeof id === 'string' && id !== '' ? { jobId: id } : {}),
    problem: describeProblem(normalized, problem),
  };
}

function show(value: unknown): string {
  return typeof value === 'string' ? showString(value) : JSON.stringify(value);
}

/** "outputs.1.bitrate" -> "outputs[1].bitrate". */
function fieldName(dotted: string): string {
  return dotted.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

/**
 * A schema problem ("outputs.1.bitrate must be string") as text that names the field and the value:
 * "outputs[1].bitrate = 5: expected a string". Problems without a value to show ("outputs is required") keep the
 * schema's words, with the field written the same way.
 */
function describeProblem(job: unknown, problem: string): string {
  const m = /^([\w.]+) (must .*)$/.exec(problem);
  if (m) {
    const dotted = m[1]!;
    let value: unknown = job;
    for (const key of dotted.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    if (dotted === 'hls_settings.segment_type') return `${fieldName(dotted)} = ${show(value)}: expected "ts" or "fmp4"`;
    const type = /^must be (string|number|integer|boolean|object|array)$/.exec(m[2]!);
    const expected = type ? `expected ${type[1] === 'array' || type[1] === 'object' ? 'an' : 'a'} ${type[1]}` : m[2]!;
    if (value !== undefined) return `${fieldName(dotted)} = ${show(value)}: ${expected}`;
  }
  const space = problem.indexOf(' ');
  return space < 0 ? problem : `${fieldName(problem.slice(0, space))}${problem.slice(space)}`;
}
