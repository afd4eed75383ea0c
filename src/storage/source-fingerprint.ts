/**
 * What makes kept work reusable: a resume or a stitch may only reuse segments made from the same source with the
 * same settings. The source is identified cheaply (it may be a 50 GB file on the NAS): its size, its modification
 * time and hashes of its first and last MiB, read through one file handle. The settings are hashed as canonical
 * JSON (keys sorted), so the same settings give the same digest whatever order their object was built in.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';

export interface SourceFingerprint {
  size: number;
  /** Whole milliseconds: the fraction some file systems report is noise for this purpose. */
  mtime_ms: number;
  head_sha256: string;
  tail_sha256: string;
}

/** How much of each end of the source is hashed. */
export const FINGERPRINT_SPAN_BYTES = 1024 * 1024;

export async function fingerprintSource(path: string): Promise<SourceFingerprint> {
  const handle = await fs.open(path, 'r');
  try {
    const st = await handle.stat();
    const headLength = Math.min(FINGERPRINT_SPAN_BYTES, st.size);
    // A file under 1 MiB: head and tail are the same bytes, which is fine (both hashes then name the whole file).
    const tailStart = Math.max(0, st.size - FINGERPRINT_SPAN_BYTES);
    return {
      size: st.size,
      mtime_ms: Math.trunc(st.mtimeMs),
      head_sha256: await hashRange(handle, 0, headLength),
      tail_sha256: await hashRange(handle, tailStart, st.size - tailStart),
    };
  } finally {
    await handle.close();
  }
}

async function hashRange(handle: fs.FileHandle, start: number, length: number): Promise<string> {
  const buf = Buffer.alloc(length);
  let done = 0;
  // read() may return fewer bytes than asked (network file systems); a 0 means the file shrank under us.
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return createHash('sha256').update(buf.subarray(0, done)).digest('hex');
}

/** sha256 hex of `parts` as canonical JSON: object keys sorted at every level, undefined members left out. */
export function settingsDigest(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
