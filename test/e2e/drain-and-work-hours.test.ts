/**
 * Black-box: work hours and drain on the built worker as a child process, against the test orchestrator on loopback.
 * Outside the work hours the syncs say BUSY and an assignment is refused; a drain (SIGUSR2 or the drain command)
 * lets the running job finish and be finalized, takes nothing new, and with --exit stops the worker with exit 0.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHORT, ladderJob, makeWorld, type World } from './fixture.js';
import { makeSource } from '../helpers/media.js';
import { MAIN_JS, workerEnv } from '../helpers/worker-process.js';
import type { Worker } from '../../src/worker/worker.js';

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

/**
 * The first worker's probe result (state_dir/capabilities.json), given to the later ones: their start-up then skips
 * the test encodes, which are most of a test's time here and not what these tests are about.
 */
let probeCache: string | undefined;

async function startWorker(w: World, env: Record<string, string> = {}) {
  if (probeCache !== undefined) {
    await mkdir(w.dirs.state, { recursive: true });
    await writeFile(path.join(w.dirs.state, 'capabilities.json'), probeCache);
  }
  const handle = await w.start(env);
  if (probeCache === undefined)
    void w.orch
      .waitForRequest('register', { timeoutMs: 60_000 })
      .then(async () => (probeCache = await readFile(path.join(w.dirs.state, 'capabilities.json'), 'utf8')))
      .catch(() => undefined);
  return handle;
}

/** `transcode-worker drain ...` with the worker's environment (so the same state_dir); resolves on its exit. */
function drainCommand(w: World, args: string[]): { done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [MAIN_JS, 'drain', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...workerEnv(w.dirs, w.orch.url) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return { done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, out }))) };
}

/** /status as JSON (dates are strings there, as in the snapshot). */
async function status(url: string): Promise<ReturnType<Worker['status']>> {
  return (await (await fetch(`${url}/status`)).json()) as ReturnType<Worker['status']>;
}

describe('work hours (black box)', () => {
  it('outside the work hours: BUSY syncs with is_busy true, an assigned job refused, /status says until when', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    // The child runs in UTC (no TZ is passed): a one-hour window starting two hours from now excludes now.
    const h = new Date().getUTCHours();
    const hh = (n: number) => `${String(n % 24).padStart(2, '0')}:00`;
    const w = await startWorker(world, { WORKER_WORK_HOURS: `${hh(h + 2)}-${hh(h + 3)}` });
    const queued = await orch.enqueue(ladderJob(SHORT, 'processed/queued'));
    await orch.waitFor((o) => o.requestsTo('sync').length >= 3, { timeoutMs: 30_000, message: '3 syncs' });
    for (const s of orch.requestsTo('sync')) {
      expect(s.body.status).toBe('BUSY');
      expect(s.body.hardware_stats.is_busy).toBe(true);
      expect(s.body.current_job_id).toBe('');
    }
    expect(orch.job(queued.job_id)?.status).toBe('QUEUED');
    expect(w.logs.some((l) => /^outside work hours until \d\d:00: taking no new job$/.test(l.msg))).toBe(true);

    // An orchestrator that assigns anyway is refused, as a busy worker refuses.
    const intruder = { job_id: 'intruder', ...ladderJob(SHORT, 'processed/intruder') };
    let injected = 0;
    orch.hook('sync', () =>
      injected++ === 0 ? { status: 200, body: { ack: true, assigned_job: intruder } } : undefined,
    );
    await w.waitForLog((l) => l.msg === 'job assigned while taking no new jobs; not starting it', 10_000, 'refusal');
    const url = await world.httpUrl(w);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('transcode_worker_assignments_rejected_total 1');
    const st = await status(url);
    expect(st.work_hours).toMatchObject({ within: false, running_job: 'finish', hours: `${hh(h + 2)}-${hh(h + 3)}` });
    const until = Date.parse(st.work_hours!.until!);
    expect(until - Date.now()).toBeGreaterThan(3_600_000); // the next start, an hour or two away
    expect(until - Date.now()).toBeLessThan(2 * 3_600_000);
    expect(st.no_new_jobs).toMatch(/^outside work hours \(.*\) until \d\d:00$/);
    expect(w.logs.some((l) => l.msg === 'job started')).toBe(false);
  });

  it('refuses to start with a bad work_hours value, naming the key and the problem (exit 2)', async () => {
    world = await makeWorld({}, false);
    const w = await world.start({ WORKER_WORK_HOURS: 'Mon-Fry 18:00-08:00' });
    expect((await w.exited).code).toBe(2);
    expect(w.output()).toContain(
      'invalid work_hours = "Mon-Fry 18:00-08:00": "Mon-Fry 18:00-08:00": "Fry" is not a weekday',
    );
  });
});

describe('drain (black box)', () => {
  it('SIGUSR2 then `drain --exit --wait`: the running job finishes and is finalized, nothing new, exit 0', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 }, false);
    const { orch, dirs } = world;
    await mkdir(path.join(dirs.nas, 'in'), { recursive: true });
    await makeSource(path.join(dirs.nas, 'in'), { name: 'short.mp4', width: 426, height: 240, duration: 2 });
    // The finalize of the first job is held until the test lets it through: the drain certainly arrives while that
    // job is not done, without depending on how fast ffmpeg is here.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    orch.hook('finalize', async () => {
      await gate;
      return undefined;
    });
    const w = await startWorker(world);
    const first = await orch.enqueue(ladderJob(SHORT, 'processed/first', [['240p', '200k']]));
    await orch.waitForRequest('finalize', { timeoutMs: 60_000 });

    w.kill('SIGUSR2');
    const drainLine = await w.waitForLog((l) => /^draining: /.test(l.msg), 10_000, 'the drain');
    expect(drainLine.requested_by).toBe('SIGUSR2');
    const second = await orch.enqueue(ladderJob(SHORT, 'processed/second', [['240p', '200k']]));
    const mark = orch.lastSeq;
    await orch.waitForRequest('sync', { afterSeq: mark, timeoutMs: 5_000 });
    const url = await world.httpUrl(w);
    const st = await status(url);
    expect(st.drain).toMatchObject({ exit: false, requested_by: 'SIGUSR2', since: expect.any(String) });
    expect(st.no_new_jobs).toMatch(/^draining since /);

    const cmd = drainCommand(world, ['--exit', '--wait']);
    await w.waitForLog((l) => /then exiting$/.test(l.msg), 10_000, 'the drain with exit');
    release();
    const { code, out } = await cmd.done;
    expect(out).toContain('the worker has exited');
    expect(code).toBe(0);
    expect((await w.exited).code).toBe(0);

    expect(orch.job(first.job_id)).toMatchObject({ status: 'COMPLETED' });
    expect(orch.job(second.job_id)?.status).toBe('QUEUED');
    // Every sync once the second job was queued said BUSY; the worker said why it stopped; no drain files are left.
    for (const s of orch.requestsTo('sync').filter((r) => r.seq > mark))
      expect(s.body).toMatchObject({ status: 'BUSY', hardware_stats: { is_busy: true } });
    expect(w.logs.some((l) => l.msg === 'drained: stopping (drain --exit)')).toBe(true);
    expect(w.logs.filter((l) => l.msg === 'job started').map((l) => l.job_id)).toEqual([first.job_id]);
    expect(existsSync(path.join(dirs.state, 'drain-request.json'))).toBe(false);
    expect(existsSync(path.join(dirs.state, 'drain-status.json'))).toBe(false);
  });

  it('`drain --wait` returns once idle; `drain --cancel` takes jobs again; no worker: says so', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    const w = await startWorker(world);
    await orch.waitForRequest('sync', { timeoutMs: 30_000, where: (r) => r.body?.status === 'IDLE' });

    const drained = await drainCommand(world, ['--wait']).done;
    expect(drained.out).toContain('the worker is drained');
    expect(drained.code).toBe(0);
    const mark = orch.lastSeq;
    const busy = await orch.waitForRequest('sync', { afterSeq: mark, timeoutMs: 5_000 });
    expect(busy.body).toMatchObject({ status: 'BUSY', hardware_stats: { is_busy: true } });

    const cancelled = await drainCommand(world, ['--cancel']).done;
    expect(cancelled.code).toBe(0);
    await w.waitForLog((l) => l.msg === 'drain cancelled: taking jobs again', 10_000, 'the cancel');
    const idle = await orch.waitForRequest('sync', { afterSeq: orch.lastSeq, timeoutMs: 5_000 });
    expect(idle.body).toMatchObject({ status: 'IDLE', hardware_stats: { is_busy: false } });

    w.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
    const none = await drainCommand(world, []).done;
    expect(none.code).toBe(1);
    expect(none.out).toContain('no transcode-worker holds state_dir');
    expect((await drainCommand(world, ['--exit', '--wait']).done).code).toBe(0);
  });
});
