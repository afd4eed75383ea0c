/**
 * Resolving job paths (source_url, dest_path) inside the NAS root, refusing everything that could lead out.
 *
 * Rules, identical on every platform:
 * - a NUL byte, or a URL ("http://...") is refused;
 * - backslashes are separators everywhere (a POSIX worker refuses "..\\..\\etc" just like a Windows one);
 * - relative paths resolve against the NAS root (or against `base`, a folder inside it: the job's output_base);
 *   `..` that climbs out of the NAS root is refused (leaving `base` but not the root is the caller's to judge);
 * - an absolute path (/..., C:\..., \\server\share\...) is accepted only when it lies inside the NAS root
 *   (orchestrators sometimes send full paths); anywhere else it is refused. A drive letter on a POSIX worker is
 *   always outside;
 * - symlinks: the real path of the deepest existing ancestor must stay inside the real NAS root (a link inside the
 *   NAS pointing at /etc is refused). This check touches the filesystem, so it only runs when the path rules are
 *   those of the host (tests pass platform 'win32' on Linux to exercise the Windows rules without a Windows disk).
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { JobValidationError, StorageError } from '../errors.js';
import { nameLengthProblem, pathLengthProblem } from './path-limits.js';

export interface NasPathOptions {
  nasRoot: string;
  platform: NodeJS.Platform;
  /**
   * A folder relative to the NAS root (forward slashes, as ResolvedNasPath.rel) against which relative values
   * resolve instead of the root: the job's output_base for its dest_paths. Absolute values ignore it.
   */
  base?: string;
}

export interface ResolvedNasPath {
  /** Absolute path in the platform's form. */
  abs: string;
  /** Relative to the NAS root, forward slashes, no leading or trailing slash ("" for the root itself). */
  rel: string;
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** The value as JSON, shortened in the middle when long (a 4000-byte path is not repeated whole in a message). */
export function show(value: string): string {
  const json = JSON.stringify(value);
  return json.length <= 300 ? json : `${json.slice(0, 200)}…${json.slice(-80)}`;
}

/** True when `child` is `parent` or below it (case-insensitive on Windows, as path.win32.relative is). */
export function isInsideDir(p: path.PlatformPath, parent: string, child: string): boolean {
  const rel = p.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + p.sep) && !p.isAbsolute(rel));
}

/** Resolves `raw` (the value of job field `field`) inside the NAS root, by the rules above, without touching the disk. */
export function resolveNasPathSyntax(raw: string, field: string, opts: NasPathOptions): ResolvedNasPath {
  const p = pathApi(opts.platform);
  if (raw.includes('\0')) throw new JobValidationError(`${field} = ${show(raw)}: contains a NUL byte`);
  if (raw.trim() === '')
    throw new JobValidationError(`${field} = ${show(raw)}: expected a path relative to the NAS root`);
  if (/^[A-Za-z][A-Za-z0-9+.-]+:\/\//.test(raw))
    throw new JobValidationError(`${field} = ${show(raw)}: expected a path relative to the NAS root, not a URL`);

  const root = p.resolve(opts.nasRoot);
  const value = raw.replace(/\\/g, '/');
  const hasDrive = /^[A-Za-z]:/.test(value);
  const isAbsolute = hasDrive || value.startsWith('/');
  if (hasDrive && opts.platform !== 'win32')
    throw new JobValidationError(
      `${field} = ${show(raw)}: an absolute Windows path is outside the NAS root (${root}); use a path relative to it`,
    );
  const abs = p.resolve(root, opts.base ?? '', p.normalize(value));
  if (!isInsideDir(p, root, abs)) {
    const why = isAbsolute ? 'an absolute path outside the NAS root' : 'resolves outside the NAS root';
    throw new JobValidationError(`${field} = ${show(raw)}: ${why} (${root})`);
  }
  const rel = p.relative(root, abs).split(p.sep).join('/');
  return { abs, rel };
}

async function realpathOrNull(file: string): Promise<string | null> {
  try {
    return await realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** True when `file` itself is a symbolic link (whatever it points at, even nothing). */
async function isSymlink(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The real path of the deepest ancestor of `abs` (itself included) that exists. A broken link on the way is
 * reported as its own path with `broken: true`: where it would lead cannot be checked, so it is refused.
 */
async function realpathOfDeepestExisting(
  p: path.PlatformPath,
  abs: string,
): Promise<{ real: string; broken: boolean }> {
  let current = abs;
  for (;;) {
    const real = await realpathOrNull(current);
    if (real !== null) return { real, broken: false };
    if (await isSymlink(current)) return { real: current, broken: true };
    const parent = p.dirname(current);
    if (parent === current) return { real: current, broken: false };
    current = parent;
  }
}

/** The NAS root's real path; a StorageError when it is missing (the NAS is not mounted). */
export async function realNasRoot(opts: NasPathOptions): Promise<string> {
  const root = pathApi(opts.platform).resolve(opts.nasRoot);
  if (opts.platform !== process.platform) return root;
  const real = await realpathOrNull(root);
  if (real === null) throw new StorageError(`the NAS root ${root} does not exist (is the NAS mounted?)`);
  return real;
}

/**
 * Refuses a path the filesystem would refuse later (path-limits.ts): a name over 255 bytes, or a whole path over
 * the platform's limit with `reserve` kept for names below it. Before any disk access, so no ENAMETOOLONG escapes.
 */
function checkLengths(raw: string, field: string, resolved: ResolvedNasPath, opts: NasPathOptions, reserve: number) {
  const names = resolved.rel.split('/').filter(Boolean);
  names.forEach((name, i) => {
    const problem = nameLengthProblem(name);
    const kind = i === names.length - 1 && reserve === 0 ? 'file' : 'folder';
    if (problem) throw new JobValidationError(`${field} = ${show(raw)}: ${kind} name ${show(name)} ${problem}`);
  });
  const problem = pathLengthProblem(resolved.abs, opts.platform, reserve);
  if (problem) throw new JobValidationError(`${field} = ${show(raw)}: ${problem}`);
}

/**
 * resolveNasPathSyntax plus the length limits and the symlink rule (on the host's own platform). `reserve`: room
 * kept below the path for names the worker writes there (RESERVED_NAME_BYTES for a destination folder; 0 for the
 * source file, which exists).
 */
export async function resolveNasPath(
  raw: string,
  field: string,
  opts: NasPathOptions,
  realRoot: string,
  reserve = 0,
): Promise<ResolvedNasPath> {
  const resolved = resolveNasPathSyntax(raw, field, opts);
  checkLengths(raw, field, resolved, opts, reserve);
  if (opts.platform !== process.platform) return resolved;
  const p = pathApi(opts.platform);
  const { real, broken } = await realpathOfDeepestExisting(p, resolved.abs);
  if (broken) throw new JobValidationError(`${field} = ${show(raw)}: goes through a broken symbolic link (${real})`);
  if (!isInsideDir(p, realRoot, real))
    throw new JobValidationError(
      `${field} = ${show(raw)}: leads outside the NAS root through a symbolic link (to ${real})`,
    );
  return resolved;
}
