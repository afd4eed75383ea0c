/**
 * The dev orchestrator's split policy (--split-min-duration, extension split-stitch/1) over real HTTP on 127.0.0.1,
 * with simulated workers: plain HTTP clients that register with or without the extension, sync, report progress
 * and finalize, as the protocol says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDevOrchestrator, type RunningDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import type { DevSplitOptions } from '../../../src/dev-orchestrator/server.js';
import type { Job } from '../../../src/protocol/schemas.js';
import { caps, completed, idle, jobBody } from './fixtures.js';

const WITH_SPLIT = caps({ extensions: ['split-stitch/1'] });

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function http(base: string) {
  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await fetch(base + path, {
      method,
      headers: { connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  return { call, job: async (id: string) => (await call('GET', `/api/v1/jobs/${id}`)).body };
}

/** A simulated worker: its own id, capabilities, and the protocol calls. */
function worker(base: string, id: string, capabilities = WITH_SPLIT) {
  const { call } = http(base);
  return {
    id,
    register: () => call('POST', '/api/v1/workers/register', { worker_id: id, capabilities }),
    /** An idle sync; the job it was given, if any. */
    async idleSync(): Promise<Job | undefined> {
      const a = await call('POST', '/api/v1/workers/sync', idle(id));
      expect(a.status).toBe(200);
      return (a.body.assigned_job ?? undefined) as Job | undefined;
    },
    progress: (jobId: string, progress: number) =>
      call('PATCH', `/api/v1/jobs/${jobId}`, {
        worker_id: id,
        status: 'PROCESSING',
        progress,
        current_fps: 30,
        eta_sec: 5,
      }),
    complete: (jobId: string, manifest = `/processed/a/.tw-parts-x/${jobId}/part.json`) =>
      call('POST', `/api/v1/jobs/${jobId}/finalize`, { ...completed(id), manifest_url: manifest }),
    fail: (jobId: string, error_msg: string, metrics: Record<string, unknown> = {}) =>
      call('POST', `/api/v1/jobs/${jobId}/finalize`, {
        worker_id: id,
        status: 'FAILED',
        error_msg,
        metrics: { total_time_ms: 5, ...metrics },
      }),
  };
}

type Part = { job_id: string; index: number; status: string; progress: number; worker_id?: string; attempts: number };

describe('dev orchestrator: split policy', () => {
  let orch: RunningDevOrchestrator | undefined;
  afterEach(async () => {
    await orch?.close();
    orch = undefined;
  });

  async function start(split: DevSplitOptions = { minDurationSec: 60 }) {
    orch = await startDevOrchestrator({ host: '127.0.0.1', port: 0, split });
    return orch.url;
  }

  it('splits a long job when two capable workers are idle, never gives parts to a worker without the extension, and completes the parent with the stitch', async () => {
    const base = await start();
    const { call, job } = http(base);
    const a = worker(base, 'a');
    const b = worker(base, 'b');
    const old = worker(base, 'old', caps()); // fits the job, but has no split-stitch/1
    for (const w of [a, b, old]) expect((await w.register()).status).toBe(200);
    // 600 s at segment_time 6: 100 segments, cut in 4 equal parts.
    const enq = await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'film' }), source_duration_sec: 600 });
    expect(enq.status).toBe(200);
    expect(enq.body.source_duration_sec).toBe(600);
    expect((enq.body.job as Record<string, unknown>).source_duration_sec).toBeUndefined();

    // The old worker is idle first: the long job waits for capable workers rather than run whole on it.
    expect(await old.idleSync()).toBeUndefined();
    expect(await a.idleSync()).toBeUndefined(); // only one capable worker idle so far
    expect(String((await job('film')).split_note)).toMatch(/waiting up to 15 s for two idle workers/);
    const first = await b.idleSync(); // a and b idle: 2 workers -> 4 parts
    expect(first?.job_id).toBe('film.part-0');
    expect(first?.part).toEqual({ parent_job_id: 'film', index: 0, count: 4, start_segment: 0, end_segment: 25 });
    expect({ ...first, part: undefined, job_id: 'film' }).toEqual({ ...jobBody({ job_id: 'film' }), part: undefined });

    const parent = await job('film');
    expect(parent.status).toBe('PROCESSING');
    const parts = parent.parts as Part[];
    expect(parts.map((p) => [p.index, p.status, p.worker_id, p.attempts])).toEqual([
      [0, 'ASSIGNED', 'b', 1],
      [1, 'QUEUED', undefined, 0],
      [2, 'QUEUED', undefined, 0],
      [3, 'QUEUED', undefined, 0],
    ]);
    // Contiguous boundaries from 0 to the last segment.
    const ranges = (parent.parts as { start_segment: number; end_segment: number }[]).map((p) => [
      p.start_segment,
      p.end_segment,
    ]);
    expect(ranges).toEqual([
      [0, 25],
      [25, 50],
      [50, 75],
      [75, 100],
    ]);

    // The old worker never gets a part, however often it asks.
    expect(await old.idleSync()).toBeUndefined();
    expect((await job('film.part-1')).waiting_reason).toBeUndefined();
    const second = await a.idleSync();
    expect(second?.part?.index).toBe(1);

    // Progress: weighted by segments over the parts, the stitch last.
    await b.progress('film.part-0', 50);
    expect((await job('film')).progress).toBe(11.9); // 95 * (25 * 0.5) / 100

    // Part 1 fails: it alone goes back to the queue; part 0 is not redone.
    expect((await a.fail('film.part-1', 'ffmpeg exited with code 1')).status).toBe(200);
    expect((await a.fail('film.part-1', 'ffmpeg exited with code 1')).status).toBe(409); // its old attempt is gone
    let p1 = await job('film.part-1');
    expect(p1).toMatchObject({ status: 'QUEUED', attempts: 1, parent_job_id: 'film' });
    expect(String(p1.split_note)).toContain('ffmpeg exited with code 1');
    expect(await a.idleSync()).toMatchObject({ job_id: 'film.part-1' }); // retried first (queue order)
    p1 = await job('film.part-1');
    expect(p1.attempts).toBe(2);

    expect((await b.complete('film.part-0')).status).toBe(200);
    expect(await b.idleSync()).toMatchObject({ job_id: 'film.part-2' });
    expect((await a.complete('film.part-1')).status).toBe(200);
    expect(await a.idleSync()).toMatchObject({ job_id: 'film.part-3' });
    expect((await b.complete('film.part-2')).status).toBe(200);
    // Three of four parts done: no stitch yet.
    expect(await b.idleSync()).toBeUndefined();
    expect((await job('film')).stitch).toBeUndefined();
    expect((await a.complete('film.part-3')).status).toBe(200);
    expect((await job('film')).progress).toBe(95);

    expect(await old.idleSync()).toBeUndefined(); // the stitch is for capable workers too
    const stitch = await b.idleSync();
    expect(stitch?.job_id).toBe('film.stitch');
    expect(stitch?.stitch).toEqual({ parent_job_id: 'film', count: 4 });
    expect((await job('film')).stitch).toMatchObject({ job_id: 'film.stitch', status: 'ASSIGNED', worker_id: 'b' });
    expect((await b.complete('film.stitch', '/processed/a/index.m3u8')).status).toBe(200);

    const done = await job('film');
    expect(done).toMatchObject({ status: 'COMPLETED', progress: 100, manifest_url: '/processed/a/index.m3u8' });
    expect((done.parts as Part[]).map((p) => [p.status, p.attempts])).toEqual([
      ['COMPLETED', 1],
      ['COMPLETED', 2],
      ['COMPLETED', 1],
      ['COMPLETED', 1],
    ]);
    expect((done.stitch as Part).status).toBe('COMPLETED');
    // The operator endpoints keep working: the list has the parent, its parts and the stitch.
    const list = (await call('GET', '/api/v1/jobs?status=COMPLETED')).body.jobs as { job_id: string }[];
    expect(list.map((j) => j.job_id).sort()).toEqual(
      ['film', 'film.part-0', 'film.part-1', 'film.part-2', 'film.part-3', 'film.stitch'].sort(),
    );
  });

  it('runs a job whole when it is short, when one capable worker is idle, or when no worker has the extension', async () => {
    const base = await start({ minDurationSec: 60, holdMs: 0 });
    const { call, job } = http(base);
    const a = worker(base, 'a');
    const b = worker(base, 'b');
    await a.register();
    await b.register();
    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'short' }), source_duration_sec: 60 });
    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'long' }), source_duration_sec: 600 });
    expect(String((await job('short')).split_note)).toBe('not split: the source (60 s) is not longer than 60 s');
    expect((await a.idleSync())?.job_id).toBe('short');
    // Only b is idle now and the hold is 0: the long job runs whole on it.
    const whole = await b.idleSync();
    expect(whole?.job_id).toBe('long');
    expect(whole?.part).toBeUndefined();
    const rec = await job('long');
    expect(rec.parts).toBeUndefined();
    expect(String(rec.split_note)).toMatch(/^not split: 1 idle worker\(s\) with split-stitch\/1/);

    // A job enqueued without a duration on an orchestrator with no NAS root runs whole and says why.
    await call('POST', '/api/v1/jobs', jobBody({ job_id: 'unknown' }));
    expect(String((await job('unknown')).split_note)).toContain('--nas-root');
  });

  it('fails the parent with the part error after three attempts, and a cancel of the parent cancels its parts', async () => {
    const base = await start({ minDurationSec: 60 });
    const { call, job } = http(base);
    const a = worker(base, 'a');
    const b = worker(base, 'b');
    await a.register();
    await b.register();
    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'f' }), source_duration_sec: 600 });
    expect(await a.idleSync()).toBeUndefined();
    expect((await b.idleSync())?.job_id).toBe('f.part-0');
    expect((await a.idleSync())?.job_id).toBe('f.part-1');
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (attempt > 1) expect((await b.idleSync())?.job_id).toBe('f.part-0');
      expect((await b.fail('f.part-0', `disk full (${attempt})`)).status).toBe(200);
    }
    const failed = await job('f');
    expect(failed.status).toBe('FAILED');
    expect(failed.error_msg).toBe('part 0 of 4 (f.part-0) failed 3 times: disk full (3)');
    // Its other parts are cancelled: a's running part answers 410 and its sync says cancel.
    expect((failed.parts as Part[]).map((p) => p.status)).toEqual(['FAILED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect((await a.progress('f.part-1', 20)).status).toBe(410);

    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'g' }), source_duration_sec: 600 });
    expect((await b.idleSync())?.job_id).toBe('g.part-0'); // a's last sync still counts as idle (within 15 s)
    expect((await call('POST', '/api/v1/jobs/g.part-0/cancel')).status).toBe(409); // cancel the parent instead
    const cancelled = await call('POST', '/api/v1/jobs/g/cancel');
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(((await job('g')).parts as Part[]).every((p) => p.status === 'CANCELLED')).toBe(true);
    const told = await call('POST', '/api/v1/workers/sync', {
      ...idle('b'),
      status: 'BUSY',
      current_job_id: 'g.part-0',
    });
    expect(told.body.cancel_current_job).toBe(true);
    expect((await b.progress('g.part-0', 30)).status).toBe(410);
  });

  it('runs a long job whole at once when no worker that fits it has the extension', async () => {
    const base = await start({ minDurationSec: 60, holdMs: 60_000 });
    const { call, job } = http(base);
    const old1 = worker(base, 'old1', caps());
    const old2 = worker(base, 'old2', caps());
    await old1.register();
    await old2.register();
    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'long' }), source_duration_sec: 600 });
    const got = await old1.idleSync(); // the first idle worker, though the hold is a minute
    expect(got?.job_id).toBe('long');
    expect(got?.part).toBeUndefined();
    expect((await job('long')).split_note).toBe('not split: no registered worker that fits it lists split-stitch/1');
  });

  it('gives a resumable failed part back to the worker that kept its segments', async () => {
    const base = await start({ minDurationSec: 60, holdMs: 60_000 });
    const { call, job } = http(base);
    const a = worker(base, 'a');
    const b = worker(base, 'b');
    await a.register();
    await b.register();
    await call('POST', '/api/v1/jobs', { ...jobBody({ job_id: 'r' }), source_duration_sec: 600 });
    expect(await a.idleSync()).toBeUndefined();
    expect((await b.idleSync())?.job_id).toBe('r.part-0');
    expect((await a.idleSync())?.job_id).toBe('r.part-1');
    const resume = { resumable: true, segments_done: 10, segments_total: 24 };
    expect((await b.fail('r.part-0', 'interrupted: resumable', { resume })).status).toBe(200);
    expect((await a.complete('r.part-1')).status).toBe(200);
    // a is idle and part 0 is queued first, but b kept its segments: a gets part 2 instead.
    expect((await a.idleSync())?.job_id).toBe('r.part-2');
    expect((await b.idleSync())?.job_id).toBe('r.part-0');
    expect((await job('r.part-0')).attempts).toBe(2);

    // b restarts and reports no job twice: its part is lost, queued again, and kept for b (which resumes it).
    expect(await b.idleSync()).toBeUndefined(); // one sync without it may cross the assignment
    expect((await b.idleSync())?.job_id).toBe('r.part-0'); // second: lost -> re-queued -> b is free and preferred
    const lost = await job('r.part-0');
    expect(lost).toMatchObject({ status: 'ASSIGNED', worker_id: 'b', attempts: 3 });
    expect(String(lost.split_note)).toContain('worker lost the job');
  });
});
