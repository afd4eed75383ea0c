/**
 * The commit: staged output -> NAS, all or nothing.
 *
 * 1. copy each rendition's files into a hidden sibling of its destination (same filesystem, so the next step is a
 *    rename, not a copy), and the master playlist (when it lives outside the rendition folders) into a hidden
 *    temp file next to it, flushing every file and folder to disk; when staging and the NAS share a filesystem,
 *    each file is hard-linked instead of copied;
 * 2. swap each folder into place: existing destination -> hidden ".old" sibling, new folder -> destination;
 * 3. rename the master over the old one, last, so the entry point only ever points at complete renditions;
 * 4. remove the ".old" folders.
 * Any failure before step 4 rolls back: previous folders are put back, hidden folders and the folders this commit
 * created are removed, so the NAS is as it was. A dest_path folder is owned by its output: a re-run replaces its
 * whole content.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { JobCancelledError, StorageError } from '../errors.js';
import { abortReason } from '../transcode/ffmpeg.js';
import { safeJobId } from './paths.js';
import { describeFsError } from './staging.js';

export interface CommitFolder {
  /** Destination relative to the NAS root, forward slashes, no trailing slash. */
  destPath: string;
  /** Absolute staged folder. */
  sourceDir: string;
  /** Files to copy, relative to sourceDir, forward slashes. */
  files: string[];
}

export interface CommitSpec {
  jobId: string;
  folders: CommitFolder[];
  /** The master playlist when it is not inside one of the folders (several outputs): copied last. */
  master: { dirPath: string; name: string; sourceFile: string } | null;
}

export interface CommitOptions {
  nasRoot: string;
  /** Files copied at once. */
  concurrency: number;
  log?: Logger;
  /** Checked before the first rename: an abort until then rolls back and throws JobCancelledError. */
  signal?: AbortSignal;
  /**
   * Hard-link staged files into the NAS when both are on the same filesystem (default true): no data is copied,
   * only flushed. Off, or across filesystems, every file is copied. The bench turns it off to measure the copy.
   */
  allowHardLinks?: boolean;
  /** Test seam: the rename used for swaps (to inject a failure mid-commit). */
  renameFn?: (from: string, to: string) => Promise<void>;
}

export interface CommitResult {
  bytes: number;
  durationMs: number;
  /** Of durationMs, the time spent waiting for the data to reach the disk (fdatasync of files and folders). */
  flushMs: number;
  files: number;
}

function toAbs(nasRoot: string, rel: string): string {
  return path.join(nasRoot, ...rel.split('/').filter(Boolean));
}

function hiddenSibling(abs: string, kind: 'tmp' | 'old', jobId: string): string {
  return path.join(path.dirname(abs), `.${path.basename(abs)}.tw-${kind}-${safeJobId(jobId)}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Flushes a file's data to stable storage and returns its size (read on the same handle, which saves a separate
 * stat round trip per file). r+ because Windows refuses to flush a read-only handle.
 */
async function flushFile(file: string): Promise<number> {
  const fh = await open(file, 'r+');
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
async function syncDir(dir: string): Promise<void> {
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

async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** link() errors that mean "not between these two folders": copy instead, without a log line per file. */
const NO_LINK_HERE = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EACCES']);

interface Swap {
  dest: string;
  old: string | null;
}

export async function commitOutputs(spec: CommitSpec, opts: CommitOptions): Promise<CommitResult> {
  const started = performance.now();
  const doRename = opts.renameFn ?? renameWithRetries;
  const created: string[] = [];
  const temps: string[] = [];
  const swaps: Swap[] = [];
  let masterTmp: string | undefined;
  let currentDest = '';
  let bytes = 0;
  let files = 0;
  let flushMs = 0;

  try {
    // 1. Copy into hidden siblings.
    const jobs: Array<{ from: string; to: string }> = [];
    for (const f of spec.folders) {
      currentDest = f.destPath;
      const dest = toAbs(opts.nasRoot, f.destPath);
      await recoverInterruptedSwap(dest, spec.jobId);
      const first = await makeParents(opts.nasRoot, path.dirname(dest));
      if (first) created.push(first);
      const tmp = hiddenSibling(dest, 'tmp', spec.jobId);
      await rm(tmp, { recursive: true, force: true });
      temps.push(tmp);
      await mkdir(tmp, { recursive: true });
      const subdirs = new Set(f.files.map((x) => path.posix.dirname(x)).filter((d) => d !== '.'));
      for (const d of subdirs) await mkdir(toAbs(tmp, d), { recursive: true });
      for (const file of f.files) jobs.push({ from: toAbs(f.sourceDir, file), to: toAbs(tmp, file) });
    }
    // The master (several outputs: it lives above the rendition folders) is copied and flushed with the rest.
    if (spec.master) {
      currentDest = spec.master.dirPath || '/';
      const dir = toAbs(opts.nasRoot, spec.master.dirPath);
      const first = await makeParents(opts.nasRoot, dir);
      if (first) created.push(first);
      masterTmp = hiddenSibling(path.join(dir, spec.master.name), 'tmp', spec.jobId);
      jobs.push({ from: spec.master.sourceFile, to: masterTmp });
    }
    currentDest = '';
    const fail = (to: string, err: unknown): StorageError =>
      new StorageError(
        `cannot write ${path.relative(opts.nasRoot, to).split(path.sep).join('/')} on the NAS: ${describeFsError(err)}`,
        {
          cause: err,
        },
      );
    // Durability vs speed (bench/results.md): the data has to reach the disk before the rename, so the floor is
    // the disk's write rate, which a plain `cp -r` (page cache only) never pays. Copy everything, then flush
    // everything: libuv's copyFile truncates each new file before writing it, and ext4/XFS then start writing
    // the file back when it is closed (NFS writes back on close anyway), so the write-back overlaps the copies and
    // the final fdatasyncs mostly wait for I/O already in flight. Do NOT add COPYFILE_EXCL: it skips that
    // truncate, the copies get faster but all the write-back lands on the flush and the whole is slower
    // (measured). Flushing file by file right after each copy pays a disk round trip per file; flushing in the
    // background while copying makes the flushes hold libuv's 4 threads and stall the copies; one syncfs (Linux
    // only) also flushes other writers' data and on SMB does not reach the server. fdatasync, not fsync, and each
    // folder is synced once. On NFS/SMB every flush is a server round trip, so they run side by side (up to
    // libuv's thread pool size, UV_THREADPOOL_SIZE, default 4). COPYFILE_FICLONE: a reflink (no data copied)
    // where staging and the NAS share a filesystem that supports it (Btrfs, XFS); elsewhere the same copy.
    // Same filesystem (a worker on the NAS host, temp_dir on the same volume): a hard link is the whole copy, as
    // for `mv`. The staged name is removed with the staging folder, so the NAS file ends with one link. Any
    // refusal (EXDEV across mounts, a filesystem without links) falls back to copying.
    let linkable = opts.allowHardLinks !== false;
    await runPool(jobs, opts.concurrency, async ({ from, to }) => {
      if (linkable) {
        try {
          await link(from, to);
          return;
        } catch (err) {
          if (!NO_LINK_HERE.has((err as NodeJS.ErrnoException).code ?? ''))
            opts.log?.debug({ err, to }, 'hard link refused');
          linkable = false;
        }
      }
      try {
        await copyFile(from, to, fsConstants.COPYFILE_FICLONE);
      } catch (err) {
        throw fail(to, err);
      }
    });
    const flushStarted = performance.now();
    await runPool(jobs, Math.max(opts.concurrency, 8), async ({ to }) => {
      let size: number;
      try {
        size = await flushFile(to);
      } catch (err) {
        throw fail(to, err);
      }
      bytes += size;
      files++;
    });
    // Every folder that received files (subfolders too, and the master's), once, so the new names are as durable
    // as the data.
    const dirs = new Set([...temps, ...jobs.map((j) => path.dirname(j.to))]);
    await runPool([...dirs], opts.concurrency, syncDir);
    flushMs = performance.now() - flushStarted;

    if (opts.signal?.aborted) throw new JobCancelledError(abortReason(opts.signal));

    // 2. Swap folders into place.
    for (const f of spec.folders) {
      currentDest = f.destPath;
      const dest = toAbs(opts.nasRoot, f.destPath);
      const tmp = hiddenSibling(dest, 'tmp', spec.jobId);
      let old: string | null = null;
      if (await exists(dest)) {
        old = hiddenSibling(dest, 'old', spec.jobId);
        await rm(old, { recursive: true, force: true });
        await doRename(dest, old);
      }
      const swap: Swap = { dest, old };
      swaps.push(swap);
      await doRename(tmp, dest);
      temps.splice(temps.indexOf(tmp), 1);
    }
    // Each parent folder once, after all its swaps (a folder sync is a journal commit, a disk round trip): the
    // renditions are durable before the master below points at them.
    await runPool([...new Set(swaps.map((s) => path.dirname(s.dest)))], opts.concurrency, syncDir);

    // 3. The master, last.
    if (spec.master && masterTmp) {
      currentDest = path.posix.join(spec.master.dirPath, spec.master.name);
      const target = path.join(toAbs(opts.nasRoot, spec.master.dirPath), spec.master.name);
      await doRename(masterTmp, target);
      masterTmp = undefined;
      await syncDir(path.dirname(target));
    }
  } catch (err) {
    await rollback();
    if (err instanceof StorageError || err instanceof JobCancelledError) throw err;
    const where = currentDest ? ` ${currentDest}` : '';
    throw new StorageError(`cannot write to the NAS destination${where}: ${describeFsError(err)}`, { cause: err });
  }

  // 4. Committed: the old versions can go. A failure here leaves a hidden folder behind, not a broken output.
  for (const s of swaps) {
    if (!s.old) continue;
    await rm(s.old, { recursive: true, force: true, maxRetries: 3 }).catch((err: unknown) =>
      opts.log?.warn({ err, path: s.old }, 'could not remove the previous output after the commit'),
    );
  }
  return { bytes, files, flushMs, durationMs: performance.now() - started };

  async function rollback(): Promise<void> {
    const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        opts.log?.error({ err, what }, 'commit rollback step failed');
      }
    };
    for (const s of [...swaps].reverse()) {
      await step(`remove new ${s.dest}`, () => rm(s.dest, { recursive: true, force: true, maxRetries: 3 }));
      if (s.old) await step(`restore ${s.dest}`, () => renameWithRetries(s.old!, s.dest));
    }
    for (const t of temps) await step(`remove ${t}`, () => rm(t, { recursive: true, force: true, maxRetries: 3 }));
    if (masterTmp) await step(`remove ${masterTmp}`, () => rm(masterTmp!, { force: true }));
    for (const c of [...created].reverse()) await step(`remove ${c}`, () => rm(c, { recursive: true, force: true }));
  }
}

/**
 * Windows refuses to rename a folder while another process (a web server streaming a segment, an antivirus scan)
 * holds a file in it open; such locks are brief, so retry a few times before failing the commit.
 */
async function renameWithRetries(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = process.platform === 'win32' && (code === 'EPERM' || code === 'EBUSY' || code === 'EACCES');
      if (!transient || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}

/**
 * A crash between "dest -> .old" and ".tmp -> dest" leaves the previous output only in the .old sibling: put it
 * back before this commit starts, so a failure of this commit cannot lose it.
 */
async function recoverInterruptedSwap(dest: string, jobId: string): Promise<void> {
  const old = hiddenSibling(dest, 'old', jobId);
  if (!(await exists(old))) return;
  if (await exists(dest)) await rm(old, { recursive: true, force: true });
  else await rename(old, dest);
}

/** mkdir -p that names the culprit when a path component is a file; returns the first folder it created. */
async function makeParents(nasRoot: string, dir: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    for (let p = dir; p.length > nasRoot.length && p !== path.dirname(p); p = path.dirname(p)) {
      const st = await stat(p).catch(() => undefined);
      if (st && !st.isDirectory()) {
        const rel = path.relative(nasRoot, p).split(path.sep).join('/');
        throw Object.assign(new Error(`${rel} is a file, not a folder`), { code: 'ENOTDIR_NAMED' });
      }
    }
    throw err;
  }
}
