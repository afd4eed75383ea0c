/**
 * The commit's data phase: staged files -> hidden temporary folders on the NAS, then flushed to disk.
 *
 * Durability vs speed (bench/results.md): the data has to reach the disk before the rename, so the floor is
 * the disk's write rate, which a plain `cp -r` (page cache only) never pays. Copy everything, then flush
 * everything: libuv's copyFile truncates each new file before writing it, and ext4/XFS then start writing
 * the file back when it is closed (NFS writes back on close anyway), so the write-back overlaps the copies and
 * the final fdatasyncs mostly wait for I/O already in flight. Do NOT add COPYFILE_EXCL: it skips that
 * truncate, the copies get faster but all the write-back lands on the flush and the whole is slower
 * (measured). Flushing file by file right after each copy pays a disk round trip per file; flushing in the
 * background while copying makes the flushes hold libuv's 4 threads and stall the copies; one syncfs (Linux
 * only) also flushes other writers' data and on SMB does not reach the server. fdatasync, not fsync, and each
 * folder is synced once. On NFS/SMB every flush is a server round trip, so they run side by side (up to
 * libuv's thread pool size, UV_THREADPOOL_SIZE, default 4). COPYFILE_FICLONE: a reflink (no data copied)
 * where staging and the NAS share a filesystem that supports it (Btrfs, XFS); elsewhere the same copy.
 * Same filesystem (a worker on the NAS host, temp_dir on the same volume): a hard link is the whole copy, as
 * for `mv`. The staged name is removed with the staging folder, so the NAS file ends with one link. Any
 * refusal (EXDEV across mounts, a filesystem without links) falls back to copying.
 *
 * Every file's folder passes the NAS confinement check right before the file is written (nas-fs.ts), and the abort
 * signal is honoured between files, so a cancel or SIGTERM during a long copy stops within one file.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, open } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { JobCancelledError } from '../errors.js';
import { abortReason } from '../util/abortable.js';
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
    if (o.signal?.aborted) throw new JobCancelledError(abortReason(o.signal));
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
      // copyFile opens its target without O_EXCL (see above: that open's truncate is what makes it fast), which
      // would follow a link planted in our hidden folder during a long copy and write outside the NAS. Creating
      // the file first with O_CREAT|O_EXCL ("wx") never follows a link and fails on any planted name; copyFile then
      // opens our own empty file. What remains is the microseconds between the two opens (see nas-fs.ts).
      await (await open(to, 'wx')).close();
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
