/**
 * `run-job --part/--part-count/--stitch`: the flags (and the Kubernetes environment) become a role, and the role
 * rewrites the job file's job into the part or stitch job (src/job/part-flags.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  applySplitRole,
  parseSplitFlags,
  SplitFlagError,
  type SplitFlags,
  type SplitJob,
} from '../../../src/job/part-flags.js';
import type { Job } from '../../../src/protocol/schemas.js';

const JOB: Job = {
  job_id: 'movie-42',
  input: { source_url: 'in/movie.mkv' },
  outputs: [{ resolution: '1280x720', bitrate: '3000k', codec: 'libx264', dest_path: 'out/movie/720p' }],
  hls_settings: { segment_time: 4 },
} as Job;

function problem(flags: SplitFlags, env: Record<string, string> = {}): string {
  try {
    parseSplitFlags(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SplitFlagError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(flags)} ${JSON.stringify(env)}`);
}

describe('parseSplitFlags', () => {
  it('no flags: the whole job, whatever the environment says', () => {
    expect(parseSplitFlags({}, { JOB_COMPLETION_INDEX: '3', TW_PART_COUNT: '4' })).toEqual({ kind: 'whole' });
    expect(parseSplitFlags({ stitch: false, part: false }, {})).toEqual({ kind: 'whole' });
  });

  it('--part INDEX/COUNT', () => {
    expect(parseSplitFlags({ part: '0/4' }, {})).toEqual({ kind: 'part', index: 0, count: 4 });
    expect(parseSplitFlags({ part: '3/4' }, {})).toEqual({ kind: 'part', index: 3, count: 4 });
    expect(parseSplitFlags({ part: '0/1' }, {})).toEqual({ kind: 'part', index: 0, count: 1 });
    // The explicit value wins over the environment; a matching --part-count is allowed.
    expect(parseSplitFlags({ part: '1/2', partCount: '2' }, { JOB_COMPLETION_INDEX: '5' })).toEqual({
      kind: 'part',
      index: 1,
      count: 2,
    });
  });

  it('--part alone or --part auto: the index from JOB_COMPLETION_INDEX, the count from --part-count or TW_PART_COUNT', () => {
    const k8s = { JOB_COMPLETION_INDEX: '2', TW_PART_COUNT: '6' };
    expect(parseSplitFlags({ part: true }, k8s)).toEqual({ kind: 'part', index: 2, count: 6 });
    expect(parseSplitFlags({ part: 'auto' }, k8s)).toEqual({ kind: 'part', index: 2, count: 6 });
    expect(parseSplitFlags({ part: true, partCount: '3' }, k8s)).toEqual({ kind: 'part', index: 2, count: 3 });
    expect(parseSplitFlags({ part: true, partCount: '3' }, { JOB_COMPLETION_INDEX: '0' })).toEqual({
      kind: 'part',
      index: 0,
      count: 3,
    });
  });

  it('--stitch: the count from --part-count, else TW_PART_COUNT (JOB_COMPLETION_INDEX plays no part)', () => {
    expect(parseSplitFlags({ stitch: true, partCount: '4' }, {})).toEqual({ kind: 'stitch', count: 4 });
    expect(parseSplitFlags({ stitch: true }, { TW_PART_COUNT: '5', JOB_COMPLETION_INDEX: '1' })).toEqual({
      kind: 'stitch',
      count: 5,
    });
  });

  it('rejects the index out of range, naming the valid range', () => {
    expect(problem({ part: '4/4' })).toBe('part index 4 is out of range for 4 parts (indexes are 0 to 3)');
    expect(problem({ part: true }, { JOB_COMPLETION_INDEX: '1', TW_PART_COUNT: '1' })).toMatch(
      /index 1 is out of range for 1 part \(indexes are 0 to 0\)/,
    );
  });

  it('rejects a count below 1 and anything that is not a whole number', () => {
    expect(problem({ part: '0/0' })).toMatch(/--part COUNT = "0": the part count must be 1 or more/);
    expect(problem({ stitch: true, partCount: '0' })).toMatch(/--part-count = "0"/);
    expect(problem({ stitch: true }, { TW_PART_COUNT: '-2' })).toMatch(/TW_PART_COUNT = "-2": expected a whole/);
    expect(problem({ part: '1.5/4' })).toMatch(/--part INDEX = "1.5"/);
    expect(problem({ part: '-1/4' })).toMatch(/--part INDEX = "-1"/);
    expect(problem({ part: '0/x' })).toMatch(/--part COUNT = "x"/);
    expect(problem({ part: true }, { JOB_COMPLETION_INDEX: 'one', TW_PART_COUNT: '2' })).toMatch(
      /JOB_COMPLETION_INDEX = "one"/,
    );
  });

  it('rejects a malformed --part value, pointing at the likely mistake (the job file taken as the value)', () => {
    expect(problem({ part: 'job.json' })).toMatch(/expected INDEX\/COUNT .*job file goes before --part/);
    expect(problem({ part: '1/2/3' })).toMatch(/expected INDEX\/COUNT/);
  });

  it('rejects --part and --stitch together, and --part-count alone', () => {
    expect(problem({ part: '0/2', stitch: true })).toMatch(/--part and --stitch exclude each other/);
    expect(problem({ part: true, stitch: true })).toMatch(/exclude each other/);
    expect(problem({ partCount: '2' })).toMatch(/--part-count is only used with --part or --stitch/);
  });

  it('--part without a value where Kubernetes set no JOB_COMPLETION_INDEX: says where the index comes from', () => {
    expect(problem({ part: true, partCount: '2' })).toMatch(
      /JOB_COMPLETION_INDEX, which Kubernetes sets only in a Job with completionMode: Indexed; it is not set here/,
    );
    expect(problem({ part: 'auto', partCount: '2' }, { JOB_COMPLETION_INDEX: ' ' })).toMatch(/is not set here/);
  });

  it('a count from nowhere is an error for --part auto and --stitch', () => {
    expect(problem({ part: true }, { JOB_COMPLETION_INDEX: '0' })).toBe(
      '--part needs the number of parts: give --part-count N or set TW_PART_COUNT',
    );
    expect(problem({ stitch: true }, { TW_PART_COUNT: '' })).toMatch(/--stitch needs the number of parts/);
  });

  it('--part INDEX/COUNT and a different --part-count disagree', () => {
    expect(problem({ part: '0/4', partCount: '3' })).toMatch(/disagree on the count/);
  });
});

describe('applySplitRole', () => {
  it('whole: the job itself', () => {
    expect(applySplitRole(JOB, { kind: 'whole' })).toBe(JOB);
  });

  it('part: its own job_id, the parent id and index/count; every other field is the parent job', () => {
    const part = applySplitRole(JOB, { kind: 'part', index: 2, count: 4 });
    expect(part).toEqual({
      ...JOB,
      job_id: 'movie-42.part-2',
      part: { parent_job_id: 'movie-42', index: 2, count: 4 },
    });
    expect(part.stitch).toBeUndefined();
    expect(JOB).not.toHaveProperty('part'); // the input is not mutated
  });

  it('stitch: its own job_id and the parent id and count', () => {
    const stitch = applySplitRole(JOB, { kind: 'stitch', count: 4 });
    expect(stitch).toEqual({ ...JOB, job_id: 'movie-42.stitch', stitch: { parent_job_id: 'movie-42', count: 4 } });
    expect(stitch.part).toBeUndefined();
  });

  it('every part and the stitch of one file name the same parent', () => {
    const ids = [0, 1, 2].map((index) => applySplitRole(JOB, { kind: 'part', index, count: 3 }));
    const stitch = applySplitRole(JOB, { kind: 'stitch', count: 3 });
    expect(new Set([...ids.map((j) => j.part!.parent_job_id), stitch.stitch!.parent_job_id])).toEqual(
      new Set(['movie-42']),
    );
    expect(new Set(ids.map((j) => j.job_id)).size).toBe(3);
  });

  it('refuses a file that already holds a part or stitch job', () => {
    const part: SplitJob = { ...JOB, part: { parent_job_id: 'p', index: 0, count: 2 } };
    expect(() => applySplitRole(part, { kind: 'part', index: 1, count: 2 })).toThrow(
      /already a part job; --part needs the whole job/,
    );
    const stitch: SplitJob = { ...JOB, stitch: { parent_job_id: 'p', count: 2 } };
    expect(() => applySplitRole(stitch, { kind: 'stitch', count: 2 })).toThrow(/already a stitch job/);
  });
});
