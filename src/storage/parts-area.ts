/**
 * The parts area of a split job (protocol extension split-stitch/1): where part jobs commit their segments and the
 * stitch job reads them. One hidden folder per parent job, a sibling of the master's folder (never inside it: the
 * master's folder may be an output that the final commit swaps whole, and a foreign file inside it would make it
 * "not ours"):
 *
 *   <parent of master folder>/.tw-parts-<16 hex of sha256(parent_job_id)>/part-<i>/<rendition dir>/seg_*.ts|m4s
 *                                                                       /part-<i>/part.json
 *                                                                       /stitch/...   (the stitch's staging)
 *
 * Every part folder is published by the commit with its ownership marker; part.json says exactly what the part
 * made, so the stitch never trusts a listing of the folder.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { StorageError } from '../errors.js';
import { checkSchema } from '../util/schema-check.js';
import type { NasFs } from './nas-fs.js';

/** The parts area of a parent job, relative to the NAS root (forward slashes). */
export function partsAreaOf(masterDir: string, parentJobId: string): string {
  const digest = createHash('sha256').update(parentJobId).digest('hex').slice(0, 16);
  const parent = path.posix.dirname(masterDir);
  const name = `.tw-parts-${digest}`;
  return parent === '.' || parent === '' ? name : `${parent}/${name}`;
}

export function partFolderOf(area: string, index: number): string {
  return `${area}/part-${index}`;
}

export const PART_MANIFEST = 'part.json';
/** A film of 10 h in 1 s segments with 20 renditions is 720k lines of ~60 bytes: 64 MiB is far above any real one. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

const SegmentEntry = Type.Object({
  n: Type.Integer({ minimum: 0 }),
  f: Type.String({ pattern: '^seg_[0-9]+\\.(ts|m4s)$' }),
  d: Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$' }),
  b: Type.Integer({ minimum: 0 }),
});

export const PartManifestSchema = Type.Object({
  version: Type.Literal(1),
  parent_job_id: Type.String(),
  index: Type.Integer({ minimum: 0 }),
  count: Type.Integer({ minimum: 1 }),
  start_segment: Type.Integer({ minimum: 0 }),
  /** Exclusive; the real end this part produced. */
  end_segment: Type.Integer({ minimum: 0 }),
  total_segments: Type.Integer({ minimum: 1 }),
  segment_time: Type.Number(),
  segment_type: Type.Union([Type.Literal('ts'), Type.Literal('fmp4')]),
  /** sha256 of the ladder's shape (sizes, bitrates, folders, audio, timing): equal in every part and the stitch. */
  ladder: Type.String(),
  source: Type.Object({
    size: Type.Number(),
    mtime_ms: Type.Number(),
    head_sha256: Type.String(),
    tail_sha256: Type.String(),
  }),
  encoders: Type.Record(Type.String(), Type.String()),
  renditions: Type.Record(
    Type.String(),
    Type.Object({
      map: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+\\.mp4$' })),
      segments: Type.Array(SegmentEntry),
    }),
  ),
  worker_id: Type.Optional(Type.String()),
  written_at: Type.String(),
});
export type PartManifest = Static<typeof PartManifestSchema>;

export function partManifestJson(m: PartManifest): string {
  return JSON.stringify(m) + '\n';
}

/**
 * Reads part.json of one part folder (absolute), through the NAS confinement check and on a regular file only.
 * Throws StorageError naming the part when it is missing or not a valid manifest.
 */
export async function readPartManifest(nas: NasFs, partDir: string, index: number): Promise<PartManifest> {
  const file = path.join(partDir, PART_MANIFEST);
  const st = await nas.lstatOrNull(file);
  if (!st) throw new StorageError(`part ${index} is missing: ${nas.rel(file)} does not exist (has the part finished?)`);
  if (!st.isFile() || st.size > MAX_MANIFEST_BYTES)
    throw new StorageError(`part ${index}: ${nas.rel(file)} is not a part manifest (not a regular file, or too big)`);
  let data: unknown;
  try {
    const fh = await open(file, 'r');
    try {
      data = JSON.parse(await fh.readFile('utf8'));
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new StorageError(`part ${index}: ${nas.rel(file)} cannot be read: ${(err as Error).message}`);
  }
  const problem = checkSchema(PartManifestSchema, data);
  if (problem) throw new StorageError(`part ${index}: ${nas.rel(file)} is not a valid part manifest: ${problem}`);
  return data as PartManifest;
}
