/**
 * Issue 13, a good guest (black box, Linux): the built worker runs ffmpeg at nice 10, pauses it (SIGSTOP: state T
 * in /proc) while other programs load the host past the thresholds, resumes it when they stop, and a cancel ends
 * a paused ffmpeg at once.
 *
 * The host is shared with the rest of the suite (and, on a developer's box, with anything else), so its CPU load
 * says little about this test. The hog therefore both spins two cores (the owner's game) and holds a block of RAM
 * sized from this host's free memory, and the test sets busy_ram_percent between the load without the hog and the
 * load with it (busy_cpu_percent 100 never trips): the pause and the resume follow the hog alone. The CPU criterion
 * itself is checked against real busy loops in test/integration/owner-load-real.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ladderJob, makeWorld, type World } from './fixture.js';
import { makeSource } from '../helpers/media.js';
import { ffmpegProcessesMentioning, procState } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const linux = process.platform === 'linux';

const usedPercent = () => ((os.totalmem() - os.freemem()) / os.totalmem()) * 100;

let world: World | undefined;
const hogs: ChildProcess[] = [];
afterEach(async () => {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
  await world?.dispose();
  world = undefined;
});

/** Two busy loops, one of them holding `bytes` of touched RAM; resolves once the RAM is resident. */
async function startHog(bytes: number): Promise<void> {
  const mem = spawn(
    process.execPath,
    ['-e', `globalThis.b = Buffer.alloc(${bytes}, 1); process.stdout.write('ready\\n'); for (;;) {}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const spin = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  hogs.push(mem, spin);
  await new Promise<void>((resolve, reject) => {
    mem.stdout!.once('data', () => resolve());
    mem.once('exit', (code) => reject(new Error(`the hog exited (${code}) before holding its RAM`)));
  });
}

function stopHogs(): void {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
}

async function ffmpegOf(w: World): Promise<number> {
  const pids = await waitFor(
    async () => {
      const p = await ffmpegProcessesMentioning(w.dirs.root);
      return p.length === 1 ? p : undefined;
    },
    { timeoutMs: 30_000, message: "the job's ffmpeg" },
  );
  return pids[0]!;
}

describe.runIf(linux)('a good guest: low priority, and a pause while the owner needs the machine', () => {
  it('nice 10; stopped under the owner load, resumed after, a valid ladder; a cancel while paused ends ffmpeg at once', async () => {
    world = await makeWorld({}, false);
    const { orch, dirs } = world;
    await mkdir(path.join(dirs.nas, 'in'), { recursive: true });
    await makeSource(path.join(dirs.nas, 'in'), { name: 'mid.mp4', width: 640, height: 360, duration: 16 });
    // The hog's RAM: 4% of the host (at least 400 MB, at most 1 GiB: touching it takes seconds on a loaded host), the
    // threshold half way up from now.
    const hogBytes = Math.round(Math.max(400e6, Math.min(2 ** 30, os.totalmem() * 0.04)));
    const threshold = Math.ceil(usedPercent() + ((hogBytes / os.totalmem()) * 100) / 2);
    const w = await world.start({
      WORKER_PAUSE_ON_OWNER_LOAD: 'true',
      WORKER_PAUSE_AFTER: '1s',
      WORKER_RESUME_AFTER: '1s',
      WORKER_BUSY_RAM_PERCENT: String(threshold),
      WORKER_X264_PRESET: 'medium',
    });
    const url = await world.httpUrl(w);
    const job = await orch.enqueue(ladderJob('in/mid.mp4', 'processed/paused'));
    const pid = await ffmpegOf(world);
    expect(procState(pid)?.nice).toBe(10);

    const hogStarted = Date.now();
    await startHog(hogBytes);
    const hogReady = Date.now();
    // pause_after (1 s) plus one tick (1 s), and a margin for a loaded host's timers (on a loaded host the pause may
    // come while the hog still fills its RAM).
    await waitFor(() => procState(pid)?.state === 'T', { timeoutMs: 4000, message: 'ffmpeg stopped (state T)' });
    const pausedAfterMs = Date.now() - hogReady;
    const status = (await (await fetch(`${url}/status`)).json()) as {
      paused: { reason: string; since: string } | null;
      current_job: { current_fps: number } | null;
    };
    expect(status.paused?.reason).toMatch(/other programs use \d+% of the RAM/);
    const since = Date.parse(status.paused!.since);
    expect(since).toBeGreaterThanOrEqual(hogStarted - 1000);
    expect(status.current_job?.current_fps).toBe(0);
    // Still stopped a while later (the stall watchdog does not count paused time), and reported as such: the PATCHes
    // since the pause say fps 0, the syncs BUSY.
    await orch.waitFor((o) => o.requestsTo('sync').some((r) => r.at > since + 1000), { message: 'a sync' });
    // The PATCHes go on while paused (the same figures, every progress_interval): the job is alive.
    await orch.waitFor(
      (o) => o.requestsTo('progress').filter((r) => r.jobId === job.job_id && r.at > since + 500).length >= 2,
      { message: 'two progress reports while paused' },
    );
    expect(procState(pid)?.state).toBe('T');
    const patches = orch.requestsTo('progress').filter((r) => r.jobId === job.job_id);
    expect(patches.at(-1)?.body.current_fps).toBe(0);
    for (const r of patches.filter((p) => p.at > since + 500)) expect(r.body.current_fps).toBe(0);
    expect(orch.requestsTo('sync').at(-1)?.body.hardware_stats.is_busy).toBe(true);

    stopHogs();
    await waitFor(() => procState(pid)?.state !== 'T', { timeoutMs: 5000, message: 'ffmpeg resumed' });
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 120_000 });
    expect(done.error_msg).toBeUndefined();
    expect(done.status).toBe('COMPLETED');
    const master = await readFile(path.join(dirs.nas, 'processed', 'paused', 'index.m3u8'), 'utf8');
    expect(master.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const paused = Number(/^transcode_worker_paused_seconds_total (\S+)$/m.exec(metrics)?.[1]);
    expect(paused).toBeGreaterThan(0.5);
    expect(w.logs.some((l) => l.msg === 'job resumed')).toBe(true);

    // A second job, paused, then cancelled: SIGKILL ends a stopped process at once.
    const second = await orch.enqueue(ladderJob('in/mid.mp4', 'processed/cancel-paused'));
    const pid2 = await ffmpegOf(world);
    await startHog(hogBytes);
    await waitFor(() => procState(pid2)?.state === 'T', { timeoutMs: 5000, message: 'ffmpeg stopped again' });
    const cancelled = Date.now();
    await orch.cancel(second.job_id);
    // The next sync (200 ms) brings the cancel.
    await waitFor(() => ['Z', undefined].includes(procState(pid2)?.state), {
      timeoutMs: 3000,
      message: 'ffmpeg gone after the cancel',
    });
    const goneAfterMs = Date.now() - cancelled;
    await w.waitForLog((l) => /job aborted/.test(l.msg) && l.job_id === second.job_id, 10_000, 'the abort');
    console.info(
      `good-guest: the hog took ${hogReady - hogStarted} ms to hold its RAM, ffmpeg stopped ${pausedAfterMs} ms ` +
        `after, paused ${paused} s; ` +
        `a paused ffmpeg gone ${goneAfterMs} ms after the cancel`,
    );
  }, 300_000);
});
