import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

/**
 * Writes JSON so that a crash or power loss leaves either the old file or the new one, never half of either:
 * write a sibling temp file, fsync it, rename over the target, then fsync the folder (POSIX only; Windows has no
 * directory handles to sync, and its rename is already durable enough for our purposes).
 */
export async function writeJsonDurably(file: string, data: unknown): Promise<void> {
  await writeTextDurably(file, JSON.stringify(data, null, 2));
}

/** The same for any text (the joined media playlists of a staged ladder, for one). */
export async function writeTextDurably(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  // Unique per call: two writes of one file in the same millisecond must not share a temp file.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (err) {
    // A full disk must not also leave a half-written temp file taking the space we wait for.
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncFolder(dir);
}

/**
 * Makes a rename or removal inside `dir` durable: POSIX only records a directory entry change on disk once the
 * directory itself is fsynced. Windows has no directory handles to sync (its metadata journal covers this).
 */
export async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Removes a file (absent is fine) and syncs its folder, so the removal survives a power cut like a write does. */
export async function removeFile(file: string): Promise<void> {
  await fs.rm(file, { force: true });
  try {
    await syncFolder(path.dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no folder: nothing was there to remove
  }
}

/** Names writeJsonDurably gives its temp files (this version: random suffix; earlier ones: a millisecond time). */
const TEMP_NAME = /^\..+\.\d+\.(?:[0-9a-f]{8}|\d{10,})\.tmp$/;

/**
 * Removes the temp files a crash mid-write left in `dir` (the target was never replaced, so they hold nothing that
 * is needed). Only for a folder no other process writes to at the same time (state_dir, under its lock).
 * Returns how many were removed; never throws.
 */
export async function removeTempLeftovers(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names.filter((n) => TEMP_NAME.test(n))) {
    try {
      await fs.rm(path.join(dir, name), { force: true });
      removed++;
    } catch {
      // a later start tries again
    }
  }
  return removed;
}
