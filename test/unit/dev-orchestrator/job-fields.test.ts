/**
 * The dev orchestrator carries the job fields of issue 11 (audio_config, subtitles, output_base, per-output
 * audio_codec) from the operator to the worker untouched, checks their types at enqueue like the worker does, and
 * reads them from a jobs file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJobsFile } from '../../../src/dev-orchestrator/command.js';
import { buildDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';
import { client, idle, jobBody } from './fixtures.js';

const FIELDS = {
  output_base: 'processed/Amélie (2001)',
  audio_config: {
    codec: 'aac',
    bitrate: '160k',
    surround: true,
    surround_codec: 'ac3',
    surround_bitrate: '448k',
    languages: ['fr', 'eng'],
  },
  subtitles: { include: true, sidecars: false },
  outputs: [
    { resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: '720p', audio_codec: 'aac' },
    { resolution: '360p', bitrate: '800k', codec: 'libx264', dest_path: '360p', audio_bitrate: '96k' },
  ],
};

describe('dev orchestrator: the audio, subtitle and output_base fields', () => {
  it('reach the worker in the sync answer exactly as the operator sent them', async () => {
    const { app } = buildDevOrchestrator();
    const c = client(app);
    await c.register('w1');
    const sent = jobBody(FIELDS);
    const enqueued = await c.enqueue(sent);
    expect(enqueued.status).toBe(200);
    expect(enqueued.body.job).toEqual({ ...sent, job_id: enqueued.body.job_id });

    const { body } = await c.sync(idle('w1'));
    expect(body.assigned_job).toEqual({ ...sent, job_id: enqueued.body.job_id });
    // And the worker's own parse reads them unchanged.
    expect(parseAssignedJob(body.assigned_job)).toEqual({ ok: true, job: body.assigned_job });
  });

  it('answers 400 naming the field when one has the wrong type', async () => {
    const c = client(buildDevOrchestrator().app);
    for (const [bad, field] of [
      [{ audio_config: { surround: 'yes' } }, 'audio_config.surround must be boolean'],
      [{ subtitles: { include: 1 } }, 'subtitles.include must be boolean'],
      [{ output_base: 7 }, 'output_base must be string'],
      [{ audio_config: { languages: 'fr' } }, 'audio_config.languages must be array'],
    ] as const) {
      const res = await c.enqueue({ ...jobBody(), ...bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(String(res.body.message)).toContain(field);
    }
  });

  it('reads them from a jobs file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dev-orch-fields-'));
    try {
      const file = path.join(dir, 'jobs.json');
      await writeFile(file, JSON.stringify([jobBody({ job_id: 'a', ...FIELDS })]));
      const [job] = await readJobsFile(file);
      expect(job).toMatchObject(FIELDS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
