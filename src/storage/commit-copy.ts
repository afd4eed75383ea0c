/**
 * The commit's data phase: staged files -> hidden temporary folders on the NAS, then flushed to disk.
 *
 * Copy (a hard link on the same filesystem, a reflink where supported) everything, then fdatasync everything: the
 * write-back of closed files overlaps the later copies, so the flushes mostly wait for I/O already in flight. The
 * alternatives (COPYFILE_EXCL, flushing file by file, syncfs) were measured slower or less portable: bench/results.md.
 *
 * Every file's folder passes the NAS confinement check right before the file is written (nas-fs.ts), and the abort
 * signal is honoured between files, so a cancel or SIGTERM during a long copy stops within one file.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, lstat, open } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { throwIfAborted } from '../util/abortable.js';
import { mapLimit } from '../util/pool.js';
import type { NasFs } from './nas-fs.js';

export interface CopyJob {
  from: string;
  to: string;
}

export interface CopyOptions {
  nas: NasFs;
  concurrency: number;
  allowHardLinks: boolean;
  signal?: AbortSignal;
  log?: Logger;
  /** Test seam: the copy of one file when it is not hard-linked. */
  copyFn?: (from: string, to: string) => Promise<void>;
  /** Wraps a file's failure in the error the caller reports (naming the file). */
  fail: (to: string, err: unknown) => Error;
}

/**
 * Flushes a file's data to stable storage and returns its size (read on the same handle, which saves a separate
 * stat round trip per file). r+ because Windows refuses to flush a read-only handle.
 */
export async function flushFile(file: string): Promise<number> {
  // O_NOFOLLOW (POSIX): a link swapped in for one of our files fails the commit here rather than being published.
  const fh = await open(file, fsConstants.O_RDWR | (fsConstants.O_NOFOLLOW ?? 0));
  try {
    // Data only (fdatasync): the metadata that matters (size, the name) is made durable by the folder sync and
    // the rename, so a full fsync would only add an inode write per file.
    await fh.datasync();
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** fsync a folder so the renames/creations in it are durable. Not possible on Windows, and optional on some NAS. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some network filesystems reject fsync on a directory; the data itself is already flushed.
  }
}

/** link() errors that mean "not between these two folders": copy instead, without a log line per file. */
const NO_LINK_HERE = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EACCES']);

/** Copies (or links) every file, then flushes them and their folders; returns bytes and files written. */
export async function copyAndFlush(
  jobs: readonly CopyJob[],
  o: CopyOptions,
): Promise<{ bytes: number; files: number; flushMs: number }> {
  const copy = o.copyFn ?? ((from: string, to: string) => copyFile(from, to, fsConstants.COPYFILE_FICLONE));
  let linkable = o.allowHardLinks;
  await mapLimit(jobs, o.concurrency, async ({ from, to }) => {
    throwIfAborted(o.signal);
    try {
      await o.nas.check(path.dirname(to));
    } catch (err) {
      throw o.fail(to, err);
    }
    if (linkable) {
      try {
        await link(from, to);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        // The name exists in the hidden folder this commit just made: someone else put it there. Copying would
        // write through it if it is a link, so stop.
        if (code === 'EEXIST') throw o.fail(to, err);
        if (!NO_LINK_HERE.has(code)) o.log?.debug({ err, to }, 'hard link refused');
        linkable = false;
      }
    }
    try {
      // copyFile opens its target without O_EXCL (its truncating open is what starts the write-back early:
      // bench/results.md), which would follow a link planted in our hidden folder during a long copy and write
      // outside the NAS. Creating the file first with O_CREAT|O_EXCL ("wx") never follows a link and fails on any
      // planted name; copyFile then opens our own empty file. What remains is the microseconds between the two
      // opens (see nas-fs.ts).
      await (await open(to, 'wx')).close();
      // copyFile follows a link at its source. A stitch's staged segments are on the NAS, where someone could swap
      // one for a link to a file outside it (which would then be published): copy regular files only.
      if (!(await lstat(from)).isFile()) throw new Error(`${from} is not a regular file (a link?): not copied`);
      await copy(from, to);
    } catch (err) {
      throw o.fail(to, err);
    }
  });
  const flushStarted = performance.now();
  let bytes = 0;
  await mapLimit(jobs, Math.max(o.concurrency, 8), async ({ to }) => {
    let size: number;
    try {
      size = await flushFile(to);
    } catch (err) {
      throw o.fail(to, err);
    }
    bytes += size; // after the await: `bytes += await ...` would read bytes before the other flushes add to it
  });
  // Every folder that received files (subfolders too, and the master's), once, so the new names are as durable
  // as the data.
  await mapLimit([...new Set(jobs.map((j) => path.dirname(j.to)))], o.concurrency, (dir) => syncDir(dir));
  return { bytes, files: jobs.length, flushMs: performance.now() - flushStarted };
}
