import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.js';
import { Drain } from '../../../src/worker/drain.js';
import { drainRequestFile, drainStatusFile, writeDrainRequest } from '../../../src/worker/drain-files.js';
import { WorkWindow } from '../../../src/worker/work-window.js';
import { drainSignal } from '../../../src/util/signals.js';
import { ConfigError } from '../../../src/errors.js';
import { waitFor } from '../../helpers/wait.js';

/** A logger that keeps the messages. */
function recordingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (_obj: unknown, msg?: string) => void lines.push(typeof _obj === 'string' ? _obj : (msg ?? ''));
  return { log: { info: at, warn: at, error: at, debug: at } as unknown as Logger, lines };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-drain-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const request = (over: Partial<{ draining: boolean; exit: boolean; requested_by: string }> = {}) => ({
  draining: true,
  exit: false,
  requested_at: new Date().toISOString(),
  requested_by: 'drain command (pid 1)',
  ...over,
});

describe('Drain', () => {
  it('applies a request once, reports idle for --wait, exits only with exit and idle, and cancels', async () => {
    const { log, lines } = recordingLog();
    const drain = new Drain({ stateDir: dir, log, now: Date.now, processStartedAt: Date.now() - 1000 });
    await drain.poll();
    expect(drain.draining).toBe(false);
    await writeDrainRequest(dir, request());
    await drain.poll();
    await drain.poll();
    expect(drain.noNewJobReason()).toMatch(/^draining since \d{4}-/);
    expect(lines.filter((l) => l.startsWith('draining:'))).toHaveLength(1);
    expect(await drain.report(false)).toBe(false);
    expect(JSON.parse(await readFile(drainStatusFile(dir), 'utf8'))).toMatchObject({ draining: true, idle: false });
    expect(await drain.report(true)).toBe(false); // idle, but no exit asked
    expect(JSON.parse(await readFile(drainStatusFile(dir), 'utf8'))).toMatchObject({ idle: true, exit: false });

    await writeDrainRequest(dir, request({ exit: true }));
    await drain.poll();
    expect(drain.exitWhenIdle).toBe(true);
    expect(await drain.report(false)).toBe(false);
    expect(await drain.report(true)).toBe(true);

    await writeDrainRequest(dir, request({ draining: false, requested_by: 'drain command (pid 2)' }));
    await drain.poll();
    expect(drain.draining).toBe(false);
    expect(drain.view()).toBeNull();
    expect(lines).toContain('drain cancelled: taking jobs again');
    // The status file's removal is not awaited by poll().
    await waitFor(() => !existsSync(drainStatusFile(dir)), { timeoutMs: 2000, message: 'the status file removed' });
  });

  it('SIGUSR2 drains without exit and records it; a request written just before the signal wins', async () => {
    const { log } = recordingLog();
    const drain = new Drain({ stateDir: dir, log, now: Date.now, processStartedAt: Date.now() - 1000 });
    await drain.onSignal();
    expect(drain.view()).toMatchObject({ exit: false, requested_by: 'SIGUSR2' });
    expect(JSON.parse(await readFile(drainRequestFile(dir), 'utf8'))).toMatchObject({ draining: true, exit: false });

    const other = new Drain({ stateDir: dir, log, now: Date.now, processStartedAt: Date.now() - 1000 });
    await writeDrainRequest(dir, request({ exit: true }));
    await other.onSignal();
    expect(other.view()).toMatchObject({ exit: true, requested_by: 'drain command (pid 1)' });
  });

  it('a request from before this process started is never applied, and removed at start', async () => {
    const { log, lines } = recordingLog();
    await writeDrainRequest(dir, request({ exit: true }));
    const old = new Date(Date.now() - 60_000);
    await utimes(drainRequestFile(dir), old, old);
    await writeFile(drainStatusFile(dir), '{}');
    const drain = new Drain({ stateDir: dir, log, now: Date.now, processStartedAt: Date.now() - 1000 });
    await drain.poll();
    expect(drain.draining).toBe(false);
    await drain.dropStale();
    expect(existsSync(drainRequestFile(dir))).toBe(false);
    expect(existsSync(drainStatusFile(dir))).toBe(false);
    expect(lines).toContain('a drain request from before this start is dropped: a restarted worker takes jobs');
  });

  it('a request file that is not one is logged once and ignored', async () => {
    const { log, lines } = recordingLog();
    await writeFile(drainRequestFile(dir), '{"draining": "yes"}');
    const drain = new Drain({ stateDir: dir, log, now: Date.now, processStartedAt: 0 });
    await drain.poll();
    await drain.poll();
    expect(drain.draining).toBe(false);
    expect(lines.filter((l) => l === 'drain request ignored')).toHaveLength(1);
  });

  it('SIGUSR2 on POSIX only', () => {
    expect(drainSignal('linux')).toBe('SIGUSR2');
    expect(drainSignal('darwin')).toBe('SIGUSR2');
    expect(drainSignal('win32')).toBeUndefined();
  });
});

describe('WorkWindow', () => {
  // 2026-01-14 is a Wednesday; Berlin is UTC+1 in winter.
  const at = (iso: string) => Date.parse(`${iso}Z`);

  it('says why no new job, holds a running job only in pause mode, and logs each edge once', () => {
    const { log, lines } = recordingLog();
    const config = { work_hours: '22:00-07:00', work_hours_running_job: 'pause' as const };
    const w = new WorkWindow({ config, log, timeZone: 'Europe/Berlin' });
    expect(w.noNewJobReason(at('2026-01-14T12:00:00'))).toBe('outside work hours (22:00-07:00) until 22:00');
    expect(w.noNewJobReason(at('2026-01-14T12:00:10'))).toBeDefined();
    expect(w.holdReason(at('2026-01-14T12:00:00'))).toBe('outside work hours (22:00-07:00) until 22:00');
    expect(w.view(at('2026-01-14T12:00:00'))).toEqual({
      hours: '22:00-07:00',
      within: false,
      until: '2026-01-14T21:00:00.000Z',
      running_job: 'pause',
    });
    expect(w.noNewJobReason(at('2026-01-14T21:00:00'))).toBeUndefined();
    expect(w.holdReason(at('2026-01-14T21:30:00'))).toBeUndefined();
    expect(w.noNewJobReason(at('2026-01-15T06:00:00'))).toBeDefined();
    expect(lines).toEqual([
      'outside work hours until 22:00: taking no new job',
      'work hours started: taking jobs again',
      'outside work hours until 22:00: taking no new job; a running job is paused',
    ]);
    const finish = new WorkWindow({ config: { ...config, work_hours_running_job: 'finish' }, log });
    expect(finish.holdReason(at('2026-01-14T12:00:00'))).toBeUndefined();
    const always = new WorkWindow({ config: { ...config, work_hours: '' }, log });
    expect(always.noNewJobReason(Date.now())).toBeUndefined();
    expect(always.view(Date.now())).toBeNull();
  });

  it('a bad value is a ConfigError naming the key', () => {
    const { log } = recordingLog();
    const config = { work_hours: '22:00', work_hours_running_job: 'finish' as const };
    expect(() => new WorkWindow({ config, log })).toThrow(ConfigError);
    expect(() => new WorkWindow({ config, log })).toThrow('invalid work_hours = "22:00": "22:00" is not a range');
  });
});
