/**
 * Filesystem error codes in words a person can act on ("no space left on device" rather than ENOSPC). Small and
 * dependency-free: the start-up path (commit recovery) uses it without loading the pipeline.
 */
const FS_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only filesystem',
  ENOTDIR: 'a parent path is a file, not a folder',
  EEXIST: 'a file of that name already exists',
  EISDIR: 'a folder of that name already exists',
  ENOENT: 'no such file or folder',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EBUSY: 'the file is in use',
  ENAMETOOLONG: 'the path is too long',
};

/** "permission denied" for EACCES, etc.; the error's own message otherwise. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && FS_CODES[code]) return FS_CODES[code]!;
  return err instanceof Error ? err.message : String(err);
}
