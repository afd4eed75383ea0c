/**
 * The one parse of an assigned job (the sync answer's assigned_job, run-job's file): Go zero values, the schema,
 * and what the worker needs to fail a malformed job by name or to read "no job".
 */
import { describe, expect, it } from 'vitest';
import { parseAssignedJob } from '../../../src/job/parse-job.js';

const good = {
  job_id: 'job-1',
  input: { source_url: 'movies/a.mkv' },
  outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/a/720p' }],
};

describe('parseAssignedJob', () => {
  it('accepts a job as the schema describes it, unchanged', () => {
    expect(parseAssignedJob(good)).toEqual({ ok: true, job: good });
  });

  it('reads Go\'s zero values and a numeric key: job_id 42 is "42", a null hls_settings is absent', () => {
    const r = parseAssignedJob({ ...good, job_id: 42, hls_settings: null });
    expect(r).toEqual({ ok: true, job: { ...good, job_id: '42' } });
    expect(r.ok && 'hls_settings' in r.job).toBe(false);
  });

  it('an empty Job struct, or anything without a job_id, is "no job"', () => {
    for (const raw of [{ job_id: '', outputs: null }, { outputs: [] }, 'job', 7, []])
      expect(parseAssignedJob(raw)).toMatchObject({ ok: false, empty: true });
  });

  it('a malformed job with an id: the id to fail it by, and the field named with its value', () => {
    expect(parseAssignedJob({ job_id: 'j', input: good.input })).toEqual({
      ok: false,
      empty: false,
      jobId: 'j',
      problem: 'outputs is required',
    });
    const typed = parseAssignedJob({ ...good, outputs: [{ ...good.outputs[0], bitrate: 5 }] });
    expect(typed).toMatchObject({ ok: false, jobId: 'job-1', problem: 'outputs[0].bitrate = 5: expected a string' });
    expect(parseAssignedJob({ ...good, hls_settings: { segment_type: 'mp4' } })).toMatchObject({
      problem: 'hls_settings.segment_type = "mp4": expected "ts" or "fmp4"',
    });
  });

  it('a malformed job whose id is not a string has no id to fail it by', () => {
    const r = parseAssignedJob({ ...good, job_id: { id: 1 } });
    expect(r).toMatchObject({ ok: false, empty: false });
    expect(r.ok || r.jobId).toBeUndefined();
  });
});
