/**
 * Black-box: the built worker as a child process against the test orchestrator on loopback, real ffmpeg.
 * Registration, sync, a job end to end, re-registration, outages at start, auth, config errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LONG, SHORT, ladderJob, listFiles, makeWorld, type World } from './fixture.js';
import { MAIN_JS } from '../helpers/worker-process.js';
import { waitFor } from '../helpers/wait.js';

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

describe('worker lifecycle (black box)', () => {
  it('registers its verified capabilities, then syncs at the configured cadence', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    const w = await world.start();
    const reg = await orch.waitForRequest('register', { timeoutMs: 30_000 });
    expect(reg.headers['x-worker-id']).toBe('e2e-worker');
    expect(reg.body.worker_id).toBe('e2e-worker');
    const caps = reg.body.capabilities;
    expect(caps.supported_codecs).toEqual(expect.arrayContaining(['libx264', 'aac']));
    // This host has no GPU: a worker that declared what `ffmpeg -encoders` lists would get jobs it can only fail.
    expect(caps.supported_codecs.filter((c: string) => /nvenc|qsv|vaapi|v4l2m2m|omx/.test(c))).toEqual([]);
    expect(caps.has_gpu).toBe(false);
    expect(caps.gpu_type).toBe('none');

    await orch.waitFor((o) => o.requestsTo('sync').length >= 5, { timeoutMs: 15_000, message: '5 syncs' });
    const syncs = orch.requestsTo('sync');
    for (const s of syncs) {
      expect(s.body).toEqual({
        worker_id: 'e2e-worker',
        status: 'IDLE',
        hardware_stats: { cpu_percent: expect.any(Number), ram_percent: expect.any(Number), is_busy: false },
        current_job_id: '',
      });
      expect(s.headers['x-worker-id']).toBe('e2e-worker');
    }
    const gaps = syncs.slice(1).map((s, i) => s.at - syncs[i]!.at);
    // sync_interval is 200 ms: never faster than that, and not much slower either.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(150);
    expect(gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]).toBeLessThan(1000);

    const url = await world.httpUrl(w);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const status = (await (await fetch(`${url}/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ worker_id: 'e2e-worker', state: 'IDLE', registered: true, current_job: null });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('transcode_worker_registrations_total 1');
    expect(metrics).toContain('transcode_worker_encoder_available{encoder="libx264"} 1');
    expect(metrics).toMatch(/transcode_worker_encoder_available\{encoder="h264_nvenc"\} 0/);
  });

  it('runs a job to COMPLETED: progress reported, HLS tree committed, staging and records cleaned', async () => {
    world = await makeWorld();
    const { orch, dirs } = world;
    const w = await world.start();
    const job = await orch.enqueue(ladderJob(SHORT, 'processed/short'));
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(done.error_msg).toBeUndefined();
    expect(done.status).toBe('COMPLETED');
    expect(done.manifest_url).toBe('/processed/short/index.m3u8');

    const master = await readFile(path.join(dirs.nas, 'processed', 'short', 'index.m3u8'), 'utf8');
    expect(master.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    for (const rung of ['360p', '240p']) {
      const files = await listFiles(path.join(dirs.nas, 'processed', 'short', rung));
      expect(files.some((f) => f.endsWith('.m3u8'))).toBe(true);
      expect(files.filter((f) => f.endsWith('.ts')).length).toBeGreaterThanOrEqual(2);
    }

    const patches = orch.requestsTo('progress').filter((r) => r.jobId === job.job_id);
    expect(patches.length).toBeGreaterThanOrEqual(1);
    const values = patches.map((p) => p.body.progress as number);
    expect([...values].sort((a, b) => a - b)).toEqual(values); // non-decreasing
    for (const p of patches)
      expect(p.body).toEqual({
        worker_id: 'e2e-worker',
        status: 'PROCESSING',
        progress: expect.any(Number),
        current_fps: expect.any(Number),
        eta_sec: expect.any(Number),
      });

    const fin = orch.requestsTo('finalize');
    expect(fin).toHaveLength(1);
    expect(fin[0]!.body).toMatchObject({
      worker_id: 'e2e-worker',
      status: 'COMPLETED',
      manifest_url: '/processed/short/index.m3u8',
      metrics: { total_time_ms: expect.any(Number) },
    });
    expect(fin[0]!.body.metrics.total_time_ms).toBeGreaterThan(0);

    // While the job ran, syncs said BUSY with the job id; right after it, the worker synced at once (no 200 ms wait).
    await orch.waitFor((o) => o.requestsTo('sync').some((s) => s.at > fin[0]!.at && s.body.status === 'IDLE'));
    expect(orch.requestsTo('sync').some((s) => s.body.status === 'BUSY' && s.body.current_job_id === job.job_id)).toBe(
      true,
    );

    await waitFor(async () => (await listFiles(dirs.temp)).length === 0, { message: 'staging to be empty' });
    // The record goes once the result is on disk, which may be just after the orchestrator took it (delivery does
    // not wait for the disk).
    await waitFor(() => !existsSync(path.join(dirs.state, 'running-job.json')), { message: 'the record removed' });
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
      message: 'the outbox to be empty',
    });
    // Every log line about the job carries its id.
    const jobLines = w.logs.filter((l) => typeof l.msg === 'string' && /^job /.test(l.msg));
    expect(jobLines.length).toBeGreaterThan(0);
    for (const l of jobLines) expect(l.job_id).toBe(job.job_id);
  });

  it('registers again when a sync answers 404 (orchestrator restarted), idle and mid-job', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch } = world;
    await world.start();
    await orch.waitForRequest('sync', { timeoutMs: 30_000 });
    await orch.restart(); // forgets the worker: the next sync answers 404
    await orch.waitFor((o) => o.requestsTo('register').length >= 2, { timeoutMs: 15_000, message: 're-registration' });
    const afterReg = orch.lastRequest('register')!.seq;
    const okSync = await orch.waitForRequest('sync', { afterSeq: afterReg, where: (r) => r.status === 200 });
    expect(okSync.status).toBe(200);
    expect(orch.workers().map((w) => w.worker_id)).toEqual(['e2e-worker']);

    // Mid-job: one sync answers 404 while the job runs; the worker registers again and the job still completes.
    const job = await orch.enqueue(ladderJob(SHORT, 'processed/mid'));
    await orch.waitForJob(job.job_id, ['ASSIGNED', 'PROCESSING', 'COMPLETED']);
    orch.hook('sync', (req) =>
      req.body?.status === 'BUSY' && orch.requestsTo('register').length < 3 ? { status: 404 } : undefined,
    );
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    const thirdReg = orch.requestsTo('register')[2];
    if (thirdReg) {
      // The 404 came while BUSY: the re-registration happened during the job, and the next sync carried the job id.
      const next = orch.requests.find((r) => r.route === 'sync' && r.seq > thirdReg.seq);
      expect(next?.body.current_job_id === job.job_id || next?.body.status === 'IDLE').toBe(true);
    }
  });

  it('keeps trying while the orchestrator is down at start, healthy but not ready, then registers', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    await orch.stop();
    const w = await world.start();
    const url = await world.httpUrl(w);
    await w.waitForLog((l) => l.msg === 'registration failed; retrying', 30_000, 'a failed registration');
    await w.waitForLog(
      (l) => l.msg === 'registration failed; retrying' && Number(l.attempt) >= 2,
      15_000,
      'a 2nd attempt',
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/not registered yet: orchestrator unreachable/);
    await orch.start();
    await orch.waitForRequest('register', { where: (r) => r.status === 200, timeoutMs: 15_000 });
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { message: 'readiness' });
  });

  it('sends the bearer token, and logs a 401 as an auth problem without crashing', async () => {
    world = await makeWorld({ authToken: 'let-me-in' }, false);
    const { orch } = world;
    const good = await world.start({ WORKER_AUTH_TOKEN: 'let-me-in', WORKER_ID: 'good' });
    const reg = await orch.waitForRequest('register', {
      where: (r) => r.body?.worker_id === 'good',
      timeoutMs: 30_000,
    });
    expect(reg.headers.authorization).toBe('Bearer let-me-in');
    expect(reg.status).toBe(200);
    await orch.waitForRequest('sync', { where: (r) => r.body?.worker_id === 'good' && r.status === 200 });

    // Its own state_dir: one state_dir takes one worker (the second would exit 2, see state-dir.test.ts).
    const bad = await world.start({
      WORKER_AUTH_TOKEN: 'tok-7f3a9c',
      WORKER_ID: 'bad',
      WORKER_STATE_DIR: path.join(world.dirs.root, 'state-bad'),
    });
    const line = await bad.waitForLog((l) => l.auth_problem === true, 30_000, 'an auth problem log line');
    expect(line.level).toBe(50); // error
    expect(String(line.err)).toMatch(/HTTP 401: check auth_token/);
    expect(bad.output()).not.toContain('tok-7f3a9c'); // the token itself is never logged
    const url = await world.httpUrl(bad);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect(good.child.exitCode).toBeNull();
  });

  it('aborts the job when the orchestrator cancels it, and never starts a second job while busy', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    const w = await world.start({ WORKER_X264_PRESET: 'slow' });
    const job = await orch.enqueue(ladderJob(LONG, 'processed/cancel'));
    await orch.waitForJob(job.job_id, 'PROCESSING', { timeoutMs: 30_000 });
    // A misbehaving orchestrator assigns another job while this one runs: it must not start.
    const intruder = { job_id: 'intruder', ...ladderJob(SHORT, 'processed/intruder') };
    let injected = 0;
    const unhook = orch.hook('sync', (req) =>
      req.body?.status === 'BUSY' && injected++ === 0
        ? { status: 200, body: { ack: true, assigned_job: intruder } }
        : undefined,
    );
    await w.waitForLog((l) => l.msg === 'job assigned while busy; not starting it', 15_000, 'the busy warning');
    unhook();
    const url = await world.httpUrl(w);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('transcode_worker_assignments_rejected_total 1');

    await orch.cancel(job.job_id);
    await w.waitForLog((l) => /job aborted/.test(l.msg) && l.job_id === job.job_id, 20_000, 'the abort');
    expect(orch.requestsTo('finalize')).toEqual([]);
    expect(await listFiles(path.join(dirs.nas, 'processed'))).toEqual([]);
    expect(w.logs.some((l) => l.msg === 'job started' && l.job_id === 'intruder')).toBe(false);
  });
});

describe('missing ffmpeg', () => {
  it('stays up, healthy but not ready, says why, and does not register', async () => {
    world = await makeWorld({}, false);
    const missing = path.join(world.dirs.root, 'no-such-ffmpeg');
    const w = await world.start({ WORKER_FFMPEG_PATH: missing });
    const url = await world.httpUrl(w);
    const reason = await waitFor(
      async () => {
        const res = await fetch(`${url}/readyz`);
        const body = (await res.json()) as { reason?: string };
        return res.status === 503 && body.reason?.includes(missing) ? body.reason : undefined;
      },
      { timeoutMs: 20_000, message: 'readyz to name the missing ffmpeg' },
    );
    expect(reason).toMatch(/ffmpeg/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(world.orch.requestsTo('register')).toEqual([]);
    expect(w.child.exitCode).toBeNull();
  });
});

describe('malformed assignments', () => {
  it('fails a malformed job with a message naming the field, and keeps running', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    let sent = false;
    orch.hook('sync', () => {
      if (sent) return undefined;
      sent = true;
      return { status: 200, body: { ack: true, assigned_job: { job_id: 'broken-1', input: { source_url: 'x.mkv' } } } };
    });
    await world.start();
    const fin = await orch.waitForRequest('finalize', { timeoutMs: 30_000 });
    expect(fin.jobId).toBe('broken-1');
    expect(fin.body).toMatchObject({ status: 'FAILED', error_msg: 'invalid job: outputs is required' });
    // The worker goes on syncing afterwards.
    await orch.waitForRequest('sync', { afterSeq: fin.seq });
  });
});

describe('configuration errors', () => {
  function run(env: Record<string, string>) {
    return spawnSync(process.execPath, [MAIN_JS, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
  }

  it('exits non-zero with one line naming the key, the value and what was expected', async () => {
    const world_ = await makeWorld({}, false);
    try {
      const res = run({
        WORKER_ORCHESTRATOR_URL: world_.orch.url,
        WORKER_NAS_MOUNT_PATH: world_.dirs.nas,
        WORKER_SYNC_INTERVAL: 'banana',
      });
      expect(res.status).toBe(2);
      expect(res.stderr.trim()).toBe(
        'transcode-worker: invalid sync_interval = "banana": expected a duration such as "500ms", "10s" or "1m"',
      );
      const missing = path.join(world_.dirs.root, 'no-nas');
      const res2 = run({ WORKER_ORCHESTRATOR_URL: world_.orch.url, WORKER_NAS_MOUNT_PATH: missing });
      expect(res2.status).toBe(2);
      expect(res2.stderr.trim()).toBe(
        `transcode-worker: invalid nas_mount_path = "${missing}": expected an existing folder (is the NAS mounted?)`,
      );
      const res3 = run({ WORKER_ORCHESTRATOR_URL: 'orchestrator:8080', WORKER_NAS_MOUNT_PATH: world_.dirs.nas });
      expect(res3.status).toBe(2);
      expect(res3.stderr).toMatch(/^transcode-worker: invalid orchestrator_url = "orchestrator:8080"/);
      // No stack traces for user errors, and nothing reached the orchestrator.
      for (const r of [res, res2, res3]) expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(world_.orch.requests).toEqual([]);
      expect(await readdir(world_.dirs.root)).not.toContain('state');
    } finally {
      await world_.dispose();
    }
  });
});
