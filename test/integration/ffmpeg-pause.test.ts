/**
 * The job's ffmpeg as the pauser sees it (Linux, real ffmpeg): started at the asked priority, paused through the
 * handle given to onSpawn with real SIGSTOP/SIGCONT, and its stall watchdog quiet while paused; an abort ends a
 * stopped ffmpeg at once.
 */
import { describe, expect, it } from 'vitest';
import { runFfmpeg } from '../../src/transcode/ffmpeg.js';
import { createTreeSuspender } from '../../src/exec/suspend.js';
import type { PausableProcess } from '../../src/exec/suspend.js';
import { JobCancelledError } from '../../src/errors.js';
import { FFMPEG } from '../helpers/media.js';
import { waitFor } from '../helpers/wait.js';
import { procState as procStat } from '../helpers/processes.js';

/** A few seconds of real encoding, to the null muxer. */
const ARGS = ['-hide_banner', '-nostats', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4'];
const OUT = ['-c:v', 'libx264', '-preset', 'ultrafast', '-progress', 'pipe:1', '-f', 'null', '-'];

describe.runIf(process.platform === 'linux')('a pausable ffmpeg', () => {
  it('paused longer than stall_timeout, it resumes and finishes without a stall', async () => {
    const suspender = createTreeSuspender();
    let proc: PausableProcess | undefined;
    const run = runFfmpeg([...ARGS, ...OUT], {
      ffmpegPath: FFMPEG,
      durationSec: 4,
      // Normal priority and a stall timeout that a loaded host still meets once ffmpeg runs again.
      stallTimeoutMs: 1000,
      onSpawn: (pid, p) => {
        proc = p;
        p.setPaused(true);
        suspender.suspend(pid);
      },
    });
    await waitFor(() => proc);
    await waitFor(() => procStat(proc!.pid)?.state === 'T', { message: 'ffmpeg stopped' });
    // Two and a half stall timeouts while stopped: the watchdog must not fire.
    await new Promise((r) => setTimeout(r, 2500));
    expect(procStat(proc!.pid)?.state).toBe('T');
    suspender.resume(proc!.pid, 19);
    proc!.setPaused(false);
    await run;
    await proc!.exited;
  });

  it('runs at the asked priority; an abort ends a stopped ffmpeg at once', async () => {
    const suspender = createTreeSuspender();
    const controller = new AbortController();
    let pid = 0;
    let nice: number | undefined;
    const run = runFfmpeg([...ARGS.map((a) => a.replace('duration=4', 'duration=60')), ...OUT], {
      ffmpegPath: FFMPEG,
      durationSec: 60,
      stallTimeoutMs: 60_000,
      signal: controller.signal,
      priority: 'idle',
      onSpawn: (p, proc) => {
        pid = p;
        nice = procStat(p)?.nice;
        proc.setPaused(true);
        suspender.suspend(p);
      },
    });
    await waitFor(() => pid && procStat(pid)?.state === 'T', { message: 'ffmpeg stopped' });
    expect(nice).toBe(19);
    const started = Date.now();
    controller.abort(new Error('cancelled by the test'));
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(['Z', undefined]).toContain(procStat(pid)?.state);
  });
});
