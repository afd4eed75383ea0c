/**
 * Byte-for-byte snapshots of a folder tree (hidden files included), to assert that a failed commit left the NAS
 * exactly as it was.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** relative path (forward slashes; folders end with "/") -> sha256 of the content ("" for folders). */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs).split(path.sep).join('/');
      if (e.isDirectory()) {
        out[rel + '/'] = '';
        await walk(abs);
      } else {
        out[rel] = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
      }
    }
  };
  await walk(root);
  return out;
}

/** Every file (not folder) under root, relative, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  return Object.keys(await snapshotTree(root))
    .filter((k) => !k.endsWith('/'))
    .sort();
}
