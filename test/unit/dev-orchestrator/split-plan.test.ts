/**
 * The split policy's pure decisions (src/dev-orchestrator/split-plan.ts) and its command-line flags: where a film is
 * cut, what a part job carries, how the parent's progress is weighted.
 */
import { describe, expect, it } from 'vitest';
import { splitOptionsFromFlags } from '../../../src/dev-orchestrator/command.js';
import {
  jobAlignmentStep,
  parentProgress,
  partJob,
  planParts,
  stitchJob,
} from '../../../src/dev-orchestrator/split-plan.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';
import { Job as JobSchema, type Job } from '../../../src/protocol/schemas.js';
import { checkSchema } from '../../../src/protocol/validate.js';
import { jobBody } from './fixtures.js';

const job = (over: Partial<Job> = {}) => ({ ...jobBody(over), job_id: 'film' }) as Job;

describe('planParts', () => {
  it('cuts about two parts per idle worker, as equal as can be, contiguous from 0 to the last segment', () => {
    // 600 s at T=6 = 100 segments. Any segment boundary is exact (the worker's audio starts on its step before it).
    const plan = planParts(job(), 600, 2);
    expect('parts' in plan && plan.parts).toEqual([
      { start: 0, end: 25 },
      { start: 25, end: 50 },
      { start: 50, end: 75 },
      { start: 75, end: 100 },
    ]);
    const three = planParts(job({ hls_settings: { segment_time: 4 } }), 601, 3);
    if (!('parts' in three)) throw new Error(three.reason);
    // 151 segments = ceil(601 / 4) in 6 parts: 26 + 5 x 25, the larger first.
    expect(three.parts.map((p) => p.end - p.start)).toEqual([26, 25, 25, 25, 25, 25]);
    expect(three.parts[0]!.start).toBe(0);
    expect(three.parts.at(-1)!.end).toBe(151);
    for (let i = 1; i < three.parts.length; i++) expect(three.parts[i]!.start).toBe(three.parts[i - 1]!.end);
  });

  it('caps the parts at 16 and never makes an empty part', () => {
    const many = planParts(job(), 6000, 12);
    expect('parts' in many && many.parts).toHaveLength(16);
    // 30 s at T=6 = 5 segments: five parts at most, however many workers.
    const short = planParts(job(), 30, 8);
    expect('parts' in short && short.parts.map((p) => p.end - p.start)).toEqual([1, 1, 1, 1, 1]);
    expect(planParts(job(), 6, 8)).toEqual({ reason: expect.stringContaining('too short') });
  });

  it('needs two capable idle workers and an exact audio boundary', () => {
    expect(planParts(job(), 600, 1)).toEqual({ reason: '1 capable worker(s) idle, 2 needed' });
    const odd = planParts(job({ hls_settings: { segment_time: 4.00001 } }), 600, 2);
    expect(odd).toEqual({ reason: expect.stringContaining('no exact cut') });
  });

  it('takes the AC-3/E-AC-3 frames into the step when the job asks for surround', () => {
    // 1536 = 3 * 512 needs no more powers of two than 1024 does and T * 48000 always has the 3 for a whole or
    // half T, so the step stays the AAC one: computed over both all the same, for a boundary every encoder meets.
    for (const [t, step] of [
      [2, 4],
      [4, 2],
      [6, 4],
      [1, 8],
      [4.5, 16],
    ] as const) {
      expect(jobAlignmentStep(job({ hls_settings: { segment_time: t } }))).toBe(step);
      expect(jobAlignmentStep(job({ hls_settings: { segment_time: t }, audio_config: { surround: true } }))).toBe(step);
    }
  });
});

describe('part and stitch jobs', () => {
  it('carry every field of the parent, their own id and an explicit range', () => {
    const parent = job({ audio_config: { surround: false }, output_base: 'processed/a' });
    const ranges = [
      { start: 0, end: 4 },
      { start: 4, end: 9 },
    ];
    const p1 = partJob(parent, 1, ranges);
    expect(p1).toEqual({
      ...parent,
      job_id: 'film.part-1',
      part: { parent_job_id: 'film', index: 1, count: 2, start_segment: 4, end_segment: 9 },
    });
    // Valid protocol jobs that today's worker parses too.
    expect(checkSchema(JobSchema, p1)).toBeNull();
    expect(parseAssignedJob(p1)).toMatchObject({ ok: true });
    expect(checkSchema(JobSchema, stitchJob(parent, 2))).toBeNull();
    expect(stitchJob(parent, 2)).toEqual({
      ...parent,
      job_id: 'film.stitch',
      stitch: { parent_job_id: 'film', count: 2 },
    });
  });
});

describe('parentProgress', () => {
  it('weights parts by segments and gives the stitch the last 5 %', () => {
    const parts = [
      { segments: 30, progress: 100 },
      { segments: 10, progress: 0 },
    ];
    expect(parentProgress(parts, 0)).toBe(71.3); // 95 * 30/40
    expect(
      parentProgress(
        [
          { segments: 30, progress: 100 },
          { segments: 10, progress: 100 },
        ],
        0,
      ),
    ).toBe(95);
    expect(
      parentProgress(
        [
          { segments: 30, progress: 100 },
          { segments: 10, progress: 100 },
        ],
        50,
      ),
    ).toBe(97.5);
  });
});

describe('dev-orchestrator split flags', () => {
  it('are off by default, need --nas-root, and read durations like the config does', () => {
    expect(splitOptionsFromFlags({})).toBeUndefined();
    expect(splitOptionsFromFlags({ splitMinDuration: '20m', nasRoot: '/srv/nas' })).toEqual({
      minDurationSec: 1200,
      nasRoot: '/srv/nas',
      ffprobePath: 'ffprobe',
    });
    expect(() => splitOptionsFromFlags({ splitMinDuration: '20m' })).toThrow(/needs --nas-root/);
    expect(() => splitOptionsFromFlags({ splitMinDuration: 'soon', nasRoot: '/n' })).toThrow(
      /invalid --split-min-duration = "soon"/,
    );
    expect(() => splitOptionsFromFlags({ nasRoot: '/n' })).toThrow(/only used with --split-min-duration/);
  });
});
