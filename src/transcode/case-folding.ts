/**
 * Does the NAS fold case? On a case-insensitive filesystem "movies" and "Movies" are one folder, so the checks that
 * protect the source's own folders and keep outputs apart must compare names case-insensitively there, or
 * `dest_path: "movies"` for a source in "Movies/" would replace the source's folder.
 *
 * Case folding is a property of the filesystem the share sits on, not of the worker's platform: an SMB/CIFS mount
 * of a Windows or macOS server, a vfat/exFAT disk, an APFS volume, or an ext4 folder with the casefold attribute
 * (chattr +F, per folder and inherited by new subfolders) all fold case on Linux too. So it is detected on the NAS
 * itself, in the very folders the job's paths go through:
 *
 *   In each folder, take an entry whose name changes when its letters' case is swapped ("Movies" -> "mOVIES") and
 *   lstat both spellings: the same file (dev + ino) means the folder folds case; "no such file", or a different
 *   file, means it does not.
 *
 * Nothing is written to the NAS to find out. When no folder has an entry with letters (an empty NAS), there is
 * nothing to tell by, and the answer is "folds case": that only refuses more (two outputs that differ only in case,
 * a destination spelled like a source folder in another case), never less. Windows always folds case (NTFS and SMB
 * shares as Windows sees them). No cache: a job costs one directory read and two lstat calls per folder, and a
 * cached answer would miss an ext4 folder that got +F later.
 */
import { lstat as fsLstat, opendir as fsOpendir } from 'node:fs/promises';
import path from 'node:path';

/** The filesystem calls the detector uses (injectable to test its decision without a case-folding disk). */
export interface CaseProbeFs {
  /** Entry names of a folder, in any order (only the first few are used). */
  names(dir: string): AsyncIterable<string>;
  /** dev and ino of a path, without following a final symlink; null when it does not exist. */
  identity(file: string): Promise<{ dev: number; ino: number } | null>;
}

export const nodeCaseProbeFs: CaseProbeFs = {
  async *names(dir) {
    const d = await fsOpendir(dir);
    // for await closes the handle when the loop ends early.
    for await (const entry of d) yield entry.name;
  },
  async identity(file) {
    try {
      const s = await fsLstat(file);
      return { dev: s.dev, ino: s.ino };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
  },
};

/** "Movies" -> "mOVIES". Equal to the input when it has no cased letters. */
export function swapCase(name: string): string {
  let out = '';
  for (const ch of name) {
    const lower = ch.toLowerCase();
    out += ch === lower ? ch.toUpperCase() : lower;
  }
  return out;
}

/** How a case-folding filesystem sees a name: case and Unicode normalisation ignored. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** Entries looked at per folder before giving up on it (an entry can vanish or be unreadable meanwhile). */
const MAX_TRIES = 8;

/** true / false when `dir` tells whether it folds case, undefined when it has no entry to tell by. */
export async function folderFoldsCase(dir: string, fs: CaseProbeFs = nodeCaseProbeFs): Promise<boolean | undefined> {
  let tries = 0;
  try {
    for await (const name of fs.names(dir)) {
      const swapped = swapCase(name);
      if (swapped === name) continue;
      if (++tries > MAX_TRIES) return undefined;
      try {
        const a = await fs.identity(path.join(dir, name));
        if (a === null) continue; // removed meanwhile
        const b = await fs.identity(path.join(dir, swapped));
        return b !== null && a.dev === b.dev && a.ino === b.ino;
      } catch {
        continue;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Whether names must be compared case-insensitively for a job whose paths go through `dirs` (existing folders on
 * the NAS). True when any of them folds case, or when none can tell (see the header).
 */
export async function nasFoldsCase(
  dirs: readonly string[],
  platform: NodeJS.Platform,
  fs: CaseProbeFs = nodeCaseProbeFs,
): Promise<boolean> {
  if (platform === 'win32') return true;
  let known = false;
  for (const dir of new Set(dirs)) {
    const answer = await folderFoldsCase(dir, fs);
    if (answer === true) return true;
    if (answer === false) known = true;
  }
  return !known;
}

/** `abs` itself when it exists, else its deepest existing ancestor, never above `root`. */
export async function deepestExisting(abs: string, root: string, fs: CaseProbeFs = nodeCaseProbeFs): Promise<string> {
  let current = abs;
  while (current !== root && (await fs.identity(current).catch(() => null)) === null) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}
