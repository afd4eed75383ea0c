import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes JSON so that a crash or power loss leaves either the old file or the new one, never half of either:
 * write a sibling temp file, fsync it, rename over the target, then fsync the folder (POSIX only; Windows has no
 * directory handles to sync, and its rename is already durable enough for our purposes).
 */
export async function writeJsonDurably(file: string, data: unknown): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(data, null, 2));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  if (process.platform !== 'win32') {
    const dh = await fs.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

/** Reads JSON, or undefined when the file does not exist. A corrupt file throws (the caller decides). */
export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function removeFile(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}
