/**
 * An orchestrator we did not write: the seed was specified for Go, whose JSON encoder sends zero values for what a
 * handler never set. With nothing to assign, such an orchestrator answers every sync with its empty Job struct
 * (job_id "", outputs null); a real job may carry a numeric id and hls_settings {"", 0, ""}. The worker must read
 * those as "no job" and "the defaults", not as malformed input.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHORT, makeWorld, type World } from './fixture.js';

const GO_EMPTY_JOB = {
  job_id: '',
  movie_id: '',
  input: { source_url: '', format: '' },
  outputs: null,
  hls_settings: { master_playlist_name: '', segment_time: 0, segment_type: '' },
};

const GO_JOB = {
  job_id: 42,
  movie_id: '',
  input: { source_url: SHORT, format: '' },
  outputs: [
    { resolution: '240p', bitrate: '300k', codec: 'libx264', dest_path: 'processed/go/240p/', audio_bitrate: '' },
  ],
  hls_settings: { master_playlist_name: '', segment_time: 0, segment_type: '' },
};

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

describe('an orchestrator that sends Go zero values', () => {
  it('an empty Job struct is "no job"; a numeric id and zero-valued settings run with the defaults', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    let syncs = 0;
    orch.hook('sync', () => {
      syncs++;
      // Five idle syncs with the empty struct, then the real job once, then the empty struct again.
      const assigned = syncs === 6 ? GO_JOB : GO_EMPTY_JOB;
      return { status: 200, body: { ack: true, assigned_job: assigned } };
    });
    // The dev orchestrator behind the front never heard of job 42: answer its progress and finalize here.
    orch.hook('progress', (req) => (req.jobId === '42' ? { status: 200, body: {} } : undefined));
    orch.hook('finalize', (req) => (req.jobId === '42' ? { status: 200, body: {} } : undefined));
    const w = await world.start({ WORKER_SYNC_INTERVAL: '100ms' });

    const finalize = await orch.waitForRequest('finalize', { timeoutMs: 60_000 });
    expect(finalize.path).toBe('/api/v1/jobs/42/finalize');
    expect(finalize.body).toMatchObject({ status: 'COMPLETED', manifest_url: '/processed/go/240p/index.m3u8' });
    // Defaults applied: index.m3u8 master, 6 s segments (the 2 s source fits in one), TS segments.
    const media = path.join(dirs.nas, 'processed', 'go', '240p');
    expect(existsSync(path.join(media, 'index.m3u8'))).toBe(true);
    expect(existsSync(path.join(media, 'seg_00000.ts'))).toBe(true);
    expect(existsSync(path.join(media, 'seg_00001.ts'))).toBe(false);
    // Idle syncs with the empty struct were neither errors nor rejected assignments.
    await orch.waitFor(() => syncs >= 10, { timeoutMs: 20_000, message: 'more syncs after the job' });
    // (Only the lines about assignments: a sync timing out on a loaded CI machine is another matter.)
    const noisy = w.logs.filter((l) => Number(l.level) >= 40 && /assign|malformed|invalid job/i.test(l.msg));
    expect(noisy.map((l) => l.msg)).toEqual([]);
    expect(orch.requestsTo('register')).toHaveLength(1);
  });
});
