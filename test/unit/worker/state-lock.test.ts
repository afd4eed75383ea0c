/** The state_dir lock against real files: held, stale, and owned by a process this host cannot see. */
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { StateDirInUseError } from '../../../src/errors.js';
import { STALE_AFTER_MS, acquireStateLock, lockFileOf, type StateLock } from '../../../src/worker/state-lock.js';

const log = createLogger({ level: 'silent' });
let dir: string;
const held: StateLock[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-lock-'));
});
afterEach(async () => {
  for (const l of held.splice(0)) l.release();
  await rm(dir, { recursive: true, force: true });
});

const foreign = (hostname: string) =>
  JSON.stringify({ pid: 4242, hostname, token: 'other', acquired_at: '2026-01-01T00:00:00.000Z' });

describe('state_dir lock', () => {
  it('is taken once, refused while held (naming the pid), and free again after release', async () => {
    const lock = await acquireStateLock(dir, log);
    expect(JSON.parse(await readFile(lockFileOf(dir), 'utf8')).pid).toBe(process.pid);
    // A second taker in a live process that is not us: simulate it with a lock naming our parent, which runs.
    lock.release();
    await writeFile(
      lockFileOf(dir),
      JSON.stringify({ pid: process.ppid, hostname: os.hostname(), token: 'x', acquired_at: 'then' }),
    );
    const err = await acquireStateLock(dir, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDirInUseError);
    expect((err as Error).message).toMatch(new RegExp(`pid ${process.ppid}\\b`));
  });

  it('a lock of another host counts as held while refreshed, and as stale once it stops', async () => {
    await writeFile(lockFileOf(dir), foreign('some-other-host'));
    const err = await acquireStateLock(dir, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDirInUseError);
    expect((err as Error).message).toMatch(/pid 4242 on some-other-host.*counts as stale/);
    const old = new Date(Date.now() - STALE_AFTER_MS - 5000);
    await utimes(lockFileOf(dir), old, old);
    held.push(await acquireStateLock(dir, log));
    expect(JSON.parse(await readFile(lockFileOf(dir), 'utf8')).pid).toBe(process.pid);
  });

  it('a corrupt lock file is stale', async () => {
    await writeFile(lockFileOf(dir), '{"pid":');
    held.push(await acquireStateLock(dir, log));
    expect(JSON.parse(await readFile(lockFileOf(dir), 'utf8')).pid).toBe(process.pid);
  });
});
