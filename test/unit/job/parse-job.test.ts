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

  it("reads Go's nil pointers and slices in the audio, subtitle and HLS settings as absent", () => {
    const r = parseAssignedJob({
      ...good,
      output_base: null,
      audio_config: { codec: '', bitrate: '', surround: false, surround_codec: '', languages: null },
      subtitles: { include: null, sidecars: false },
      hls_settings: { master_playlist_name: '', segment_time: null },
    });
    expect(r).toEqual({
      ok: true,
      job: {
        ...good,
        audio_config: { codec: '', bitrate: '', surround: false, surround_codec: '' },
        subtitles: { sidecars: false },
        hls_settings: { master_playlist_name: '' },
      },
    });
    expect(parseAssignedJob({ ...good, audio_config: null, subtitles: null })).toEqual({ ok: true, job: good });
  });

  it('keeps the new fields as sent, and names a field of the wrong type', () => {
    const full = {
      ...good,
      output_base: 'processed/a',
      audio_config: { codec: 'aac', bitrate: '160k', surround: true, surround_codec: 'ac3', languages: ['fr'] },
      subtitles: { include: true, sidecars: false },
      outputs: [{ ...good.outputs[0], audio_codec: 'aac', audio_bitrate: '96k' }],
    };
    expect(parseAssignedJob(full)).toEqual({ ok: true, job: full });
    expect(parseAssignedJob({ ...good, subtitles: { sidecars: 1 } })).toMatchObject({
      problem: 'subtitles.sidecars = 1: expected a boolean',
    });
    expect(parseAssignedJob({ ...good, audio_config: [] })).toMatchObject({ ok: false, jobId: 'job-1' });
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
