/**
 * One worker per state_dir. Two workers sharing one would each treat the other's running job as interrupted and
 * finalize it FAILED, and deliver each other's results. The lock is a file, state_dir/worker.lock, holding the
 * identity of its owner (pid, kernel start time, boot id, host name: see src/util/process-identity.ts).
 *
 * - Taken atomically: the content is written to a temp file first and hard-linked to the lock name (link fails if
 *   the name exists), so no one ever reads a half-written lock. Where hard links are not supported, an exclusive
 *   create is used instead.
 * - Stale-safe: a lock whose owner is gone (pid free or reused, earlier boot, or our own pid in a restarted
 *   container) is taken over. An owner on another host (a shared volume) cannot be seen from here: its lock counts
 *   as held while its owner refreshes the file's mtime (every HEARTBEAT_MS), and as stale once it stops for
 *   STALE_AFTER_MS.
 * - Taking over is race-free: the stale lock is first renamed to a unique name, so of two starters that both judged
 *   it stale only one gets it; the loser finds the winner's fresh lock on its next round.
 * - Released when the process exits by any path but SIGKILL/power loss (those leave a stale lock, taken over above).
 */
import { readFileSync, rmSync, statSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { StateDirInUseError, errorMessage } from '../errors.js';
import { checkSchema } from '../util/schema-check.js';
import { currentProcessIdentity, recordedProcessState } from '../util/process-identity.js';
import { syncFolder } from '../util/durable-file.js';

export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 30_000;

const LockFile = Type.Object({
  pid: Type.Integer({ minimum: 1 }),
  start: Type.Optional(Type.String()),
  boot_id: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String()),
  token: Type.String({ minLength: 1 }),
  acquired_at: Type.String(),
});
type LockFile = Static<typeof LockFile>;

export interface StateLock {
  readonly file: string;
  /** Removes the lock if it is still ours; synchronous so that it also works from process.on('exit'). */
  release(): void;
}

export function lockFileOf(stateDir: string): string {
  return path.join(stateDir, 'worker.lock');
}

interface FoundLock {
  text: string;
  /** Undefined when the file is not a valid lock (corrupt, or from a tool we do not know): treated as stale. */
  lock?: LockFile;
  mtimeMs: number;
}

function readLock(file: string): FoundLock | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const mtimeMs = statSync(file).mtimeMs;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { text, mtimeMs };
    }
    return { text, mtimeMs, lock: checkSchema(LockFile, data) ? undefined : (data as LockFile) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether the owner of a lock found on disk still holds it. */
function isHeld(found: FoundLock, now: number): boolean {
  if (!found.lock) return false;
  const state = recordedProcessState(found.lock);
  if (state === 'elsewhere') return now - found.mtimeMs < STALE_AFTER_MS;
  return state === 'running';
}

/** The worker that holds state_dir's lock now, as seen from another process (`transcode-worker drain`). */
export interface LockHolder {
  pid: number;
  hostname?: string;
  /** On this host and in this pid namespace: it can be signalled. */
  local: boolean;
}

/** Who holds state_dir's lock, or undefined when no live worker does (no lock, or a stale one). */
export function stateLockHolder(stateDir: string, now = Date.now()): LockHolder | undefined {
  const found = readLock(lockFileOf(stateDir));
  if (!found?.lock || !isHeld(found, now)) return undefined;
  const { pid, hostname } = found.lock;
  return { pid, hostname, local: recordedProcessState(found.lock) === 'running' };
}

function inUseMessage(stateDir: string, lock: LockFile, elsewhere: boolean): string {
  const where = lock.hostname ? ` on ${lock.hostname}` : '';
  // A lock from another host or container cannot be checked from here: say when it will count as abandoned.
  const stale = elsewhere
    ? `; if it is gone, its lock counts as stale ${STALE_AFTER_MS / 1000} s after it stopped`
    : '';
  return (
    `state_dir "${stateDir}" is in use by another transcode-worker (pid ${lock.pid}${where}, since ` +
    `${lock.acquired_at}): stop it, or give this worker its own state_dir${stale}`
  );
}

async function createExclusive(tmp: string, file: string): Promise<void> {
  try {
    await fs.link(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // No hard links here (FAT, some SMB shares): an exclusive create, written at once, is the next best thing.
    await fs.writeFile(file, await fs.readFile(tmp), { flag: 'wx' });
  }
}

/** Takes the lock or throws StateDirInUseError (one line, exit 2) naming the process that holds it. */
export async function acquireStateLock(stateDir: string, log: Logger): Promise<StateLock> {
  await fs.mkdir(stateDir, { recursive: true });
  const file = lockFileOf(stateDir);
  const mine: LockFile = { ...currentProcessIdentity(), token: randomUUID(), acquired_at: new Date().toISOString() };
  const tmp = path.join(stateDir, `.worker.lock.${mine.token}.tmp`);
  await fs.writeFile(tmp, JSON.stringify(mine, null, 2));
  try {
    for (let round = 0; ; round++) {
      try {
        await createExclusive(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || round >= 5) throw err;
      }
      const found = readLock(file);
      if (!found) continue; // released meanwhile
      if (isHeld(found, Date.now()))
        throw new StateDirInUseError(
          inUseMessage(stateDir, found.lock!, recordedProcessState(found.lock!) === 'elsewhere'),
        );
      // Stale: move it out of the way under a name only we know, then check that what we moved is what we judged.
      const aside = `${file}.stale-${mine.token}`;
      try {
        await fs.rename(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await fs.readFile(aside, 'utf8').catch(() => '');
      if (moved !== found.text) {
        // Another starter replaced the stale lock between our read and our rename: give it back.
        await fs.link(aside, file).catch(() => undefined);
      } else {
        log.warn(
          { lock: file, previous_owner: found.lock ?? found.text.slice(0, 200) },
          'took over the state_dir lock of a worker that is gone',
        );
      }
      await fs.rm(aside, { force: true });
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await syncFolder(stateDir).catch(() => undefined);

  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now).catch((err: unknown) =>
      log.error({ lock: file, err: errorMessage(err) }, 'cannot refresh the state_dir lock'),
    );
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    process.off('exit', release);
    try {
      if (readLock(file)?.lock?.token === mine.token) rmSync(file, { force: true });
    } catch {
      // Leaving the lock behind is safe: the next start sees its owner gone and takes it over.
    }
  };
  process.on('exit', release);
  return { file, release };
}
