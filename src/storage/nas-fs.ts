/**
 * Writes and removals on the NAS that cannot leave it: every mkdir, rename, file creation and removal first walks
 * the path from the NAS root down with lstat (links are never followed) and checks that the real path of what
 * exists is inside the real NAS root, then acts.
 *
 * Why at the moment of writing: the job's paths were checked when it was validated, but the commit runs minutes or
 * hours later, and anyone who can write to the share can replace a folder with a symbolic link in between.
 *
 * Residual race (honest): Node has no openat()/O_NOFOLLOW for folders, so this is check-then-act. A link swapped in
 * between the check and the system call that follows it (microseconds) is not seen. The window is kept as small as
 * possible: the check runs immediately before each single operation, never once for a batch. Recursive removal
 * (fs.rm) itself never follows a link it meets inside the tree (it unlinks the link), and removals of our own
 * folders additionally require the folder to still be a real folder carrying our marker (see ownership.ts).
 */
import { lstat, mkdir, open, realpath, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/** A path on the NAS that the worker refuses to act on; `message` names the NAS-relative path and why. */
export class ConfinementError extends Error {
  constructor(
    message: string,
    readonly relPath: string,
  ) {
    super(message);
    this.name = 'ConfinementError';
  }
}

export interface NasFs {
  /** The NAS root as given (absolute). */
  readonly root: string;
  /** `abs` relative to the NAS root, forward slashes ("" for the root). */
  rel(abs: string): string;
  /** The confinement check alone: throws ConfinementError, resolves when `abs` may be acted on now. */
  check(abs: string): Promise<void>;
  /** Whether `abs` exists (lstat, so a link counts as existing), after the confinement check of its parents. */
  lstatOrNull(abs: string): Promise<import('node:fs').Stats | null>;
  /** mkdir -p, one checked component at a time; returns the folders it created, top-down. */
  mkdirs(abs: string): Promise<string[]>;
  /** Creates one folder that must not exist yet. */
  mkdirNew(abs: string): Promise<void>;
  /** Renames after checking both sides. */
  rename(from: string, to: string): Promise<void>;
  /** Creates a new file (never through a link: O_EXCL) with `data`, flushed to disk. */
  writeNewFile(abs: string, data: string): Promise<void>;
  /**
   * Writes `data` as the file `abs`, whatever is at that name now: a file or a link there is removed (unlinked:
   * a link is never followed), then the file is created with O_EXCL and flushed. A folder at the name is refused,
   * and so is a link anywhere above it. Not atomic: a crash can leave the name missing or short (the stitch, its
   * one user, rewrites every file on a retry).
   */
  replaceFile(abs: string, data: string | Uint8Array): Promise<void>;
  /** Removes a real folder and everything in it, when `isOurs` agrees right before the removal. */
  removeTree(abs: string, isOurs: (abs: string) => Promise<boolean>): Promise<'removed' | 'absent' | 'refused'>;
  /** Removes a regular file (a link is never followed; a missing file is fine). */
  removeFile(abs: string): Promise<void>;
  /** Removes a folder only when it is empty (a folder we created that someone else has since used is kept). */
  removeDirIfEmpty(abs: string): Promise<void>;
}

export interface NasFsOptions {
  /** The rename used (test seam: inject a failure or a pause between renames). */
  renameFn?: (from: string, to: string) => Promise<void>;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** True when `child` is `parent` or below it; case-insensitive on Windows, as its filesystems are. */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

export async function openNasFs(nasRoot: string, opts: NasFsOptions = {}): Promise<NasFs> {
  const root = path.resolve(nasRoot);
  // The root itself may legitimately be reached through links (a mount point under /var -> /private/var); what is
  // below it may not.
  const realRoot = await realpath(root);
  const doRename = opts.renameFn ?? renameWithRetries;

  const rel = (abs: string): string => path.relative(root, abs).split(path.sep).join('/');

  /** lstat of every component below the root down to `abs`; stops at the first one missing. */
  async function walk(abs: string): Promise<void> {
    if (!isInside(root, abs)) throw new ConfinementError(`${abs} is outside the NAS root ${root}`, abs);
    // Fast path, one call instead of a lstat per component (a commit checks every file's folder): when the real
    // path of `abs` is exactly the real root plus the same components, no component is a link (a link makes the
    // real path differ) and every component but the last is a folder. Anything else (something missing, a link,
    // a junction, a case-folding share spelling a name differently) takes the component walk below.
    try {
      if ((await realpath(abs)) === path.join(realRoot, path.relative(root, abs))) return;
    } catch {
      // missing, or not reachable: the walk says which
    }
    const parts = path.relative(root, abs).split(path.sep).filter(Boolean);
    let current = root;
    let deepest = root;
    for (let i = 0; i < parts.length; i++) {
      current = path.join(current, parts[i]!);
      let st;
      try {
        st = await lstat(current);
      } catch (err) {
        if (code(err) === 'ENOENT') break;
        throw err;
      }
      if (st.isSymbolicLink())
        throw new ConfinementError(
          `${rel(current)} is a symbolic link; the worker never writes or removes through links on the NAS`,
          rel(current),
        );
      if (i < parts.length - 1 && !st.isDirectory())
        throw new ConfinementError(`${rel(current)} is a file, not a folder`, rel(current));
      deepest = current;
    }
    // Belt and braces (a bind mount or a Windows junction that lstat does not report as a link).
    const real = await realpath(deepest);
    if (!isInside(realRoot, real))
      throw new ConfinementError(`${rel(deepest)} leads outside the NAS root (to ${real})`, rel(deepest));
  }

  const fsApi: NasFs = {
    root,
    rel,
    check: walk,
    async lstatOrNull(abs) {
      await walk(abs);
      try {
        return await lstat(abs);
      } catch (err) {
        if (code(err) === 'ENOENT') return null;
        throw err;
      }
    },
    async mkdirs(abs) {
      const created: string[] = [];
      const parts = path.relative(root, abs).split(path.sep).filter(Boolean);
      let current = root;
      for (const part of parts) {
        current = path.join(current, part);
        await walk(current);
        try {
          await mkdir(current);
          created.push(current);
        } catch (err) {
          if (code(err) !== 'EEXIST') throw err;
          // Already there: the next walk (or the one below) checks it is a real folder.
        }
      }
      await walk(abs);
      return created;
    },
    async mkdirNew(abs) {
      await walk(abs);
      await mkdir(abs);
    },
    async rename(from, to) {
      await walk(from);
      await walk(to);
      await doRename(from, to);
    },
    async writeNewFile(abs, data) {
      await walk(abs);
      const fh = await open(abs, 'wx');
      try {
        await fh.writeFile(data);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    },
    async replaceFile(abs, data) {
      // The folders down to the name are walked; the name itself is never followed. Unlike the other operations,
      // a link there is not refused but unlinked (the link goes, its target is untouched): the name is the worker's
      // own in a folder of its own (the stitch's staging), and a retried stitch must get past a planted link.
      const dir = path.dirname(abs);
      await walk(dir);
      let there;
      try {
        there = await lstat(abs);
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
      if (there?.isDirectory()) throw new ConfinementError(`${rel(abs)} is a folder, not a file`, rel(abs));
      if (there) {
        try {
          await unlink(abs);
        } catch (err) {
          if (code(err) !== 'ENOENT') throw err;
        }
      }
      await walk(dir);
      let fh;
      try {
        fh = await open(abs, 'wx');
      } catch (err) {
        // O_EXCL: whatever took the name since the unlink (a link planted by someone else) is never written through.
        if (code(err) === 'EEXIST')
          throw new ConfinementError(`${rel(abs)} was created by someone else while the worker wrote it`, rel(abs));
        throw err;
      }
      try {
        await fh.writeFile(data);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    },
    async removeTree(abs, isOurs) {
      let st;
      try {
        await walk(abs);
        st = await lstat(abs);
      } catch (err) {
        if (code(err) === 'ENOENT') return 'absent';
        throw err;
      }
      if (!st.isDirectory() || !(await isOurs(abs))) return 'refused';
      await walk(abs);
      await rm(abs, { recursive: true, force: true, maxRetries: 3 });
      return 'removed';
    },
    async removeFile(abs) {
      await walk(abs);
      try {
        if ((await lstat(abs)).isDirectory())
          throw new ConfinementError(`${rel(abs)} is a folder, not a file`, rel(abs));
        await unlink(abs);
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
    },
    async removeDirIfEmpty(abs) {
      await walk(abs);
      try {
        await rmdir(abs);
      } catch (err) {
        const c = code(err);
        if (c !== 'ENOENT' && c !== 'ENOTEMPTY' && c !== 'EEXIST') throw err;
      }
    },
  };
  return fsApi;
}

/**
 * Windows refuses to rename a folder while another process (a web server streaming a segment, an antivirus scan)
 * holds a file in it open; such locks are brief, so retry a few times before failing.
 */
export async function renameWithRetries(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (err) {
      const c = code(err);
      const transient = process.platform === 'win32' && (c === 'EPERM' || c === 'EBUSY' || c === 'EACCES');
      if (!transient || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}
