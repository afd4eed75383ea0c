/**
 * Black-box tests of what the worker keeps in state_dir: one worker per state_dir (lock), records of the wrong shape,
 * results for a re-assigned job id, and a state_dir that fills up or turns read-only mid-job (a real tmpfs, mounted
 * here when running as root; skipped with a message otherwise).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LONG, SHORT, ladderJob, listFiles, makeWorld, type World } from './fixture.js';
import { MAIN_JS, workerEnv, type WorkerHandle } from '../helpers/worker-process.js';
import { waitFor } from '../helpers/wait.js';

let world: World | undefined;
const mounts: string[] = [];
afterEach(async () => {
  await world?.dispose().catch(() => undefined);
  world = undefined;
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
});

/** Mounts a tmpfs of `size` on `dir`; false when this process may not mount (not root, no mount binary). */
async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (res.status !== 0) return false;
  mounts.push(dir);
  return true;
}

function remount(dir: string, mode: 'ro' | 'rw'): void {
  // EBUSY when a file on it is open for writing at that instant: try again.
  for (let i = 0; i < 50; i++) {
    const res = spawnSync('mount', ['-o', `remount,${mode}`, dir], { encoding: 'utf8' });
    if (res.status === 0) return;
  }
  throw new Error(`cannot remount ${dir} ${mode}`);
}

/** Fills a filesystem until ENOSPC; returns the filler file (remove it to free the space). */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler.bin');
  await writeFile(filler, Buffer.alloc(8 * 1024 * 1024)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOSPC') throw err;
  });
  return filler;
}

async function readiness(url: string): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
}

function runSecond(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN_JS, 'start'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

async function registered(w: World, h: WorkerHandle) {
  await h.waitForLog((l) => l.msg === 'registered with the orchestrator', 30_000, 'registration');
  await w.orch.waitForRequest('sync', { afterSeq: w.orch.lastSeq, where: (r) => r.status === 200 });
}

const oneRung = (src: string, dest: string) => ladderJob(src, dest, [['240p', '200k']]);

describe('one worker per state_dir', () => {
  it('a second instance exits 2 with one line naming the first one pid, and leaves its job alone', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    const first = await world.start({ WORKER_X264_PRESET: 'slow' });
    const job = await orch.enqueue(oneRung(LONG, 'processed/lock'));
    await orch.waitFor((o) => o.requestsTo('progress').some((r) => r.jobId === job.job_id && r.body.progress > 0), {
      timeoutMs: 40_000,
      message: 'the job encoding',
    });
    const res = runSecond(workerEnv(dirs, orch.url, { WORKER_BUSY_CPU_PERCENT: '100' }));
    expect(res.status).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^transcode-worker: state_dir ".*" is in use by another transcode-worker \\(pid ${first.pid}\\b`),
    );
    // The first worker's job is untouched: still its record, no result sent, still making progress.
    const record = JSON.parse(await readFile(path.join(dirs.state, 'running-job.json'), 'utf8'));
    expect(record).toMatchObject({ job_id: job.job_id, pid: first.pid });
    expect(orch.requestsTo('finalize')).toEqual([]);
    const seq = orch.lastSeq;
    await orch.waitForRequest('progress', { afterSeq: seq, where: (r) => r.jobId === job.job_id });
    expect(first.child.exitCode).toBeNull();
  });

  it('a lock left by a SIGKILLed worker, or naming a live process that is not that worker, does not block', async () => {
    world = await makeWorld({}, false);
    const { dirs } = world;
    const lock = path.join(dirs.state, 'worker.lock');
    const first = await world.start();
    await registered(world, first);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(first.pid);
    first.kill('SIGKILL');
    await first.exited;
    const second = await world.start();
    await registered(world, second);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(second.pid);
    second.kill('SIGKILL');
    await second.exited;
    // A reused pid: the lock names a live process (this test runner) whose start time is not the recorded one.
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, start: '1', hostname: os.hostname(), token: 't', acquired_at: 'then' }),
    );
    const third = await world.start();
    await registered(world, third);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(third.pid);
  });
});

describe('records of the wrong shape', () => {
  it('moves bad running-job records, outbox entries and capability caches aside and starts', async () => {
    world = await makeWorld({}, false);
    const { dirs } = world;
    await mkdir(path.join(dirs.state, 'outbox'), { recursive: true });
    await writeFile(path.join(dirs.state, 'running-job.json'), '{}');
    await writeFile(path.join(dirs.state, 'outbox', 'x.json'), '{"job_id":5}');
    await writeFile(path.join(dirs.state, 'capabilities.json'), '{"format":1,"key":');
    const first = await world.start();
    await registered(world, first);
    first.kill('SIGTERM');
    await first.exited;
    await writeFile(path.join(dirs.state, 'running-job.json'), '{"job_id":5}');
    const second = await world.start();
    await registered(world, second);
    const names = await readdir(dirs.state);
    expect(names.filter((n) => n.startsWith('running-job.json.corrupt-'))).toHaveLength(2);
    expect(names.some((n) => n.startsWith('capabilities.json.corrupt-'))).toBe(true);
    expect((await readdir(path.join(dirs.state, 'outbox'))).some((n) => n.startsWith('x.json.corrupt-'))).toBe(true);
    expect(first.logs.some((l) => /running-job record is unreadable; moved it aside/.test(l.msg))).toBe(true);
    expect(world.orch.requestsTo('finalize')).toEqual([]);
  });
});

describe('results for a job id assigned again', () => {
  it('a FAILED result waiting on 503s is dropped when the job is assigned again; the re-run COMPLETED is delivered', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    let assigned = false;
    let enqueued = false;
    // A first run of dup-1 that fails (its source is missing), assigned outside the orchestrator's own queue, so
    // this front answers its progress reports; its FAILED result then waits on 503s.
    orch.hook('sync', () => {
      if (assigned) return undefined;
      assigned = true;
      return {
        status: 200,
        body: { ack: true, assigned_job: { job_id: 'dup-1', ...oneRung('in/missing.mp4', 'processed/dup') } },
      };
    });
    orch.hook('progress', () => (enqueued ? undefined : { status: 200, body: { ack: true } }));
    orch.hook('finalize', (req) =>
      req.body?.status === 'FAILED' ? { status: 503, body: { error: 'busy' } } : undefined,
    );
    const w = await world.start();
    await orch.waitForRequest('finalize', { where: (r) => r.jobId === 'dup-1' && r.status === 503, timeoutMs: 30_000 });
    // The orchestrator assigns the same job id again (a re-run): this one completes.
    enqueued = true;
    await orch.enqueue({ job_id: 'dup-1', ...oneRung(SHORT, 'processed/dup') });
    const done = await orch.waitForJob('dup-1', ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
      message: 'the outbox to be empty',
    });
    const completedAt = orch.requestsTo('finalize').find((r) => r.body.status === 'COMPLETED')!.seq;
    expect(orch.requestsTo('finalize').filter((r) => r.seq > completedAt)).toEqual([]);
    expect(w.logs.some((l) => /dropping that result for the new run/.test(l.msg))).toBe(true);
  });
});

describe('a state_dir that cannot be written', () => {
  const faults = [
    {
      name: 'full (ENOSPC)',
      code: /ENOSPC/,
      break: async (dir: string) => fill(dir),
      repair: async (_dir: string, filler: string) => rm(filler, { force: true }),
    },
    {
      name: 'read-only (EROFS)',
      code: /EROFS/,
      break: async (dir: string) => {
        remount(dir, 'ro');
        return '';
      },
      repair: async (dir: string) => remount(dir, 'rw'),
    },
  ];

  for (const fault of faults) {
    it(`${fault.name} mid-job: the result delivered from memory, /readyz 503 with the reason, BUSY and no new job, then recovers`, async (ctx) => {
      world = await makeWorld({ lostJobSyncs: 1000 });
      const { orch, dirs } = world;
      if (!(await mountTmpfs(dirs.state, '2m'))) {
        ctx.skip(true, 'needs root to mount a tmpfs for state_dir');
        return;
      }
      let broken: Promise<string> | undefined;
      orch.hook('progress', async () => {
        broken ??= fault.break(dirs.state);
        await broken;
        return undefined;
      });
      const w = await world.start();
      const url = await world.httpUrl(w);
      // The job fails (its source is missing) once state_dir broke under it: no commit, so its FAILED result must
      // reach the orchestrator from memory although the disk cannot take it.
      const job = await orch.enqueue(oneRung('in/missing.mp4', 'processed/first'));
      const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
      expect(done.status).toBe('FAILED');
      expect(done.error_msg).toMatch(/missing\.mp4/);
      const ready = await waitFor(
        async () => {
          const r = await readiness(url);
          return r.status === 503 ? r : undefined;
        },
        { message: '/readyz to say 503' },
      );
      expect(ready.reason).toMatch(/^state_dir cannot be written/);
      expect(ready.reason).toMatch(fault.code);
      // Not BUSY with the job that ended: BUSY with no job, so nothing new is assigned.
      await orch.waitForRequest('sync', {
        afterSeq: orch.lastSeq,
        where: (r) => r.body.status === 'BUSY' && r.body.current_job_id === '',
      });
      const second = await orch.enqueue(oneRung(SHORT, 'processed/second'));
      for (let i = 0; i < 3; i++) await orch.waitForRequest('sync', { afterSeq: orch.lastSeq });
      expect(orch.job(second.job_id)!.status).toBe('QUEUED');
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^transcode_worker_state_dir_writable 0$/m);
      expect(w.child.exitCode).toBeNull();

      await fault.repair(dirs.state, await broken!);
      await waitFor(async () => (await readiness(url)).status === 200, { timeoutMs: 20_000, message: 'ready again' });
      const next = await orch.waitForJob(second.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 });
      expect(next.status).toBe('COMPLETED');
      await waitFor(() => !existsSync(path.join(dirs.state, 'running-job.json')), { message: 'the record removed' });
      await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
        message: 'the outbox to be empty',
      });
      expect(orch.requestsTo('finalize', (r) => r.jobId === job.job_id && r.status === 200)).toHaveLength(1);
    });
  }

  it('full while ffmpeg runs: the commit waits for state_dir (not ready, says why), then publishes once there is room', async (ctx) => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    if (!(await mountTmpfs(dirs.state, '2m'))) {
      ctx.skip(true, 'needs root to mount a tmpfs for state_dir');
      return;
    }
    let filler: Promise<string> | undefined;
    orch.hook('progress', async () => {
      filler ??= fill(dirs.state);
      await filler;
      return undefined;
    });
    const w = await world.start();
    const url = await world.httpUrl(w);
    const job = await orch.enqueue(oneRung(SHORT, 'processed/waits'));
    await w.waitForLog((l) => l.msg === 'the commit waits until state_dir can be written', 60_000);
    const ready = await readiness(url);
    expect(ready.status).toBe(503);
    expect(ready.reason).toMatch(/^state_dir cannot be written .*(ENOSPC|no space left)/);
    // Still the running job: not finalized, nothing published, the worker still names it in its syncs.
    await orch.waitForRequest('sync', {
      afterSeq: orch.lastSeq,
      where: (r) => r.body.status === 'BUSY' && r.body.current_job_id === job.job_id,
    });
    expect(orch.job(job.job_id)!.status).not.toMatch(/COMPLETED|FAILED/);
    expect(existsSync(path.join(dirs.nas, 'processed', 'waits'))).toBe(false);

    await rm(await filler!, { force: true });
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 90_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.manifest_url).toBe('/processed/waits/240p/index.m3u8');
    expect(existsSync(path.join(dirs.nas, 'processed', 'waits', '240p', 'index.m3u8'))).toBe(true);
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'commits'))).length === 0, {
      message: 'no commit journal left',
    });
    await waitFor(async () => (await readiness(url)).status === 200, { timeoutMs: 20_000, message: 'ready again' });
    expect(w.child.exitCode).toBeNull();
  }, 150_000);

  it('a malformed assignment while state_dir is full does not crash the worker', async (ctx) => {
    world = await makeWorld({}, false);
    const { orch, dirs } = world;
    if (!(await mountTmpfs(dirs.state, '1m'))) {
      ctx.skip(true, 'needs root to mount a tmpfs for state_dir');
      return;
    }
    const w = await world.start();
    const url = await world.httpUrl(w);
    await registered(world, w);
    const filler = await fill(dirs.state);
    let sent = false;
    orch.hook('sync', () => {
      if (sent) return undefined;
      sent = true;
      return { status: 200, body: { ack: true, assigned_job: { job_id: 'broken-1', input: { source_url: 'x.mkv' } } } };
    });
    const fin = await orch.waitForRequest('finalize', { timeoutMs: 30_000 });
    expect(fin.body).toMatchObject({ status: 'FAILED', error_msg: 'invalid job: outputs is required' });
    await waitFor(async () => (await readiness(url)).status === 503, { message: '/readyz 503' });
    await orch.waitForRequest('sync', { afterSeq: fin.seq, where: (r) => r.body.status === 'BUSY' });
    expect(w.child.exitCode).toBeNull();
    await rm(filler);
    await waitFor(async () => (await readiness(url)).status === 200, { timeoutMs: 20_000, message: 'ready again' });
    expect(w.logs.some((l) => /unhandled/i.test(l.msg))).toBe(false);
  });
});
