/**
 * Name and path length limits, checked when a job is validated so that a job the filesystem would refuse fails
 * before ffmpeg starts (not after an hour of transcoding, at the commit). Pure.
 *
 * - One name (a folder or file name): at most 255 BYTES of UTF-8 on every platform. That is the limit of ext4,
 *   XFS, Btrfs and ZFS (NAME_MAX), and a Windows or macOS worker often writes through SMB to such a server; NTFS and
 *   APFS allow 255 UTF-16 units / characters, which 255 UTF-8 bytes never exceed.
 * - A whole path: Linux PATH_MAX is 4096 bytes including the terminating NUL, macOS 1024. On Windows, Node's fs
 *   adds the \\?\ prefix itself (path.toNamespacedPath), so paths are not limited to 260 characters but to the
 *   32767 UTF-16 units of the extended form; we allow 32000 to leave room for "\\?\UNC\" (ffmpeg 5.1+ adds the
 *   same prefix for its own file access on Windows). Other platforms are treated like Linux.
 * - A destination folder also needs room for what the worker writes in and beside it: segment and playlist names,
 *   the master playlist (at most 104 bytes, see isPlainPlaylistName), the commit's marker and temporary names.
 *   RESERVED_NAME_BYTES is the longest of those, plus the separator.
 */

export const MAX_NAME_BYTES = 255;
/** Room kept below a destination folder's path for the longest name the worker writes in or beside it. */
export const RESERVED_NAME_BYTES = 128;

export interface PathLimit {
  max: number;
  unit: 'bytes' | 'UTF-16 units';
  /** Length of a path in the unit of `max`. */
  measure(p: string): number;
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The longest path the platform's filesystem calls accept, in its own unit. */
export function pathLimitOf(platform: NodeJS.Platform): PathLimit {
  if (platform === 'win32') return { max: 32_000, unit: 'UTF-16 units', measure: (p) => p.length };
  if (platform === 'darwin') return { max: 1023, unit: 'bytes', measure: utf8Bytes };
  return { max: 4095, unit: 'bytes', measure: utf8Bytes };
}

/** Why one name is too long, or null. */
export function nameLengthProblem(name: string): string | null {
  const bytes = utf8Bytes(name);
  if (bytes <= MAX_NAME_BYTES) return null;
  return `is ${bytes} bytes long in UTF-8; a file or folder name may have at most ${MAX_NAME_BYTES} bytes`;
}

/**
 * Why an absolute path is too long for the platform, or null. `reserve` is room kept for names below it (use
 * RESERVED_NAME_BYTES for a destination folder, 0 for a file that already exists).
 */
export function pathLengthProblem(abs: string, platform: NodeJS.Platform, reserve = 0): string | null {
  const limit = pathLimitOf(platform);
  const length = limit.measure(abs);
  if (length + reserve <= limit.max) return null;
  const room = reserve > 0 ? ` (${reserve} kept for the files written in it)` : '';
  return `its full path is ${length} ${limit.unit} long; paths on this worker may have at most ${limit.max}${room}`;
}
