/**
 * Which folders on the NAS are the worker's to replace.
 *
 * Every folder the worker publishes carries a small marker file (MARKER_NAME) saying which job and which commit put
 * it there; a folder that holds a master playlist above the rendition folders carries one too. The rules:
 *  - an output folder is replaced only when it is missing, empty, or carries a marker of kind "output" (any job:
 *    re-running or re-transcoding into the same place is normal);
 *  - a master playlist that already exists is overwritten only when its folder carries a marker (either kind);
 *    the rest of that folder is never touched;
 *  - anything else fails the job, naming the folder and a few of the files seen there.
 * A marker can be forged by anyone who can write the share, but such a person can also delete the folder: the rule
 * protects against mistakes (a dest_path that names someone's library), not against the share's own users.
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { checkSchema } from '../util/schema-check.js';
import type { NasFs } from './nas-fs.js';

export const MARKER_NAME = '.transcode-worker.json';
/** A marker is a few hundred bytes; anything bigger is not ours. */
const MAX_MARKER_BYTES = 16 * 1024;

export const MarkerSchema = Type.Object({
  tool: Type.Literal('transcode-worker'),
  kind: Type.Union([Type.Literal('output'), Type.Literal('master')]),
  job_id: Type.String(),
  /** Unique per commit attempt: tells this commit's new folder from an earlier run of the same job. */
  commit_id: Type.String(),
  worker_id: Type.Optional(Type.String()),
  written_at: Type.String(),
});
export type Marker = Static<typeof MarkerSchema>;

export function markerJson(m: Omit<Marker, 'tool'>): string {
  return JSON.stringify({ tool: 'transcode-worker', ...m }, null, 2) + '\n';
}

/**
 * The marker in `dir`, or null when there is none or it is not a valid one. Read through a handle opened on a
 * regular file only: a link named like the marker is not a marker.
 */
export async function readMarker(nas: NasFs, dir: string): Promise<Marker | null> {
  const file = path.join(dir, MARKER_NAME);
  const st = await nas.lstatOrNull(file);
  if (!st?.isFile() || st.size > MAX_MARKER_BYTES) return null;
  try {
    const fh = await open(file, 'r');
    try {
      const data: unknown = JSON.parse(await fh.readFile('utf8'));
      return checkSchema(MarkerSchema, data) === null ? (data as Marker) : null;
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

export type FolderState =
  { state: 'missing' } | { state: 'empty' } | { state: 'ours'; marker: Marker } | { state: 'foreign'; seen: string[] };

/** Up to `limit` entries below `dir` (files first found, breadth first), relative to it, for error messages. */
async function someEntries(dir: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  const queue = [''];
  let visited = 0;
  while (queue.length > 0 && seen.length < limit && visited < 50) {
    const sub = queue.shift()!;
    visited++;
    const entries = await readdir(path.join(dir, sub), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) queue.push(rel);
      else if (seen.length < limit) seen.push(rel);
    }
  }
  // Only folders (all empty?): name the first folders instead.
  if (seen.length === 0) return queue.slice(1, limit + 1).map((d) => d + '/');
  return seen;
}

/** Whether an output folder may be replaced (see the rules above). */
export async function inspectOutputFolder(nas: NasFs, dir: string): Promise<FolderState> {
  const st = await nas.lstatOrNull(dir);
  if (!st) return { state: 'missing' };
  if (!st.isDirectory()) return { state: 'foreign', seen: [] };
  const names = await readdir(dir);
  if (names.length === 0) return { state: 'empty' };
  const marker = await readMarker(nas, dir);
  if (marker?.kind === 'output') return { state: 'ours', marker };
  return { state: 'foreign', seen: await someEntries(dir, 3) };
}

/** A marker says this folder (an output, or a master folder) was published by the worker. */
export async function isMarkedOurs(nas: NasFs, dir: string): Promise<boolean> {
  return (await readMarker(nas, dir)) !== null;
}

/** True when `dir` is empty or marked by `commitId` (our own temporary folder, possibly half written). */
export async function isOwnCommitFolder(nas: NasFs, dir: string, commitId: string): Promise<boolean> {
  const marker = await readMarker(nas, dir);
  if (marker) return marker.commit_id === commitId;
  return (await readdir(dir)).length === 0;
}

/** True when `dir` is empty or carries any valid marker (a previous output of ours). */
export async function isOursOrEmpty(nas: NasFs, dir: string): Promise<boolean> {
  if (await isMarkedOurs(nas, dir)) return true;
  return (await readdir(dir)).length === 0;
}

export interface Destinations {
  /** Output folders, NAS-relative. */
  folders: string[];
  /** The master playlist when it lives above the output folders: its folder (NAS-relative) and name. */
  master: { dirPath: string; name: string } | null;
}

function abs(nas: NasFs, rel: string): string {
  return path.join(nas.root, ...rel.split('/').filter(Boolean));
}

/**
 * Null when every destination may be replaced; otherwise a sentence naming the first folder (or master) that is
 * not ours and what was seen in it. Confinement problems (a link on the way) throw ConfinementError.
 */
export async function findForeignDestination(nas: NasFs, dest: Destinations): Promise<string | null> {
  for (const rel of dest.folders) {
    const found = await inspectOutputFolder(nas, abs(nas, rel));
    if (found.state !== 'foreign') continue;
    const what = found.seen.length > 0 ? `it holds ${found.seen.join(', ')}` : 'it is a file, not a folder';
    return (
      `the destination "${rel}" already exists and was not written by this worker (${what}); ` +
      'the worker replaces only folders that are missing, empty or its own (they carry ' +
      `${MARKER_NAME}): choose another dest_path or empty that folder`
    );
  }
  if (dest.master) {
    const dir = abs(nas, dest.master.dirPath);
    const file = path.join(dir, dest.master.name);
    const st = await nas.lstatOrNull(file);
    if (st && (!st.isFile() || !(await isMarkedOurs(nas, dir)))) {
      const rel = [dest.master.dirPath, dest.master.name].filter(Boolean).join('/');
      return (
        `the master playlist "${rel}" already exists and was not written by this worker ` +
        `(its folder has no ${MARKER_NAME}); choose other dest_path folders or remove that file`
      );
    }
  }
  return null;
}
