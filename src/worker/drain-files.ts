/**
 * The two small files through which `transcode-worker drain` and the running worker talk, both in state_dir:
 *
 *   drain-request.json  the drain wanted now, written by the command (and by the worker itself on SIGUSR2, so that
 *                       a signal's drain shows and is cancelled like the command's). The worker reads it before
 *                       every sync and on SIGUSR2; the last writer wins.
 *   drain-status.json   written by the worker only: draining since when, with --exit or not, and whether it is idle.
 *                       `drain --wait` reads it; the worker removes it when the drain is cancelled or it exits.
 *
 * Why files and not a loopback endpoint: state_dir is already private to the worker's user, so only someone who may
 * change the worker's files may drain it, with no listening socket, token or port to guard; the health server stays
 * read-only; and it works alike on Linux, macOS, Windows and in a container (`kubectl exec`, `docker exec`).
 * Both files are written whole (temp file + rename): a reader sees the old content or the new, never half.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonDurably } from '../util/durable-file.js';

export const DRAIN_REQUEST_FILE = 'drain-request.json';
export const DRAIN_STATUS_FILE = 'drain-status.json';

export interface DrainRequest {
  /** false: take jobs again (`drain --cancel`). */
  draining: boolean;
  /** Stop the worker (exit 0) once it is idle. */
  exit: boolean;
  requested_at: string;
  /** Who asked, for the logs and /status: "drain command (pid 123)", "SIGUSR2". */
  requested_by: string;
}

export interface DrainStatus {
  pid: number;
  draining: boolean;
  exit: boolean;
  since: string;
  /** No job runs and every result is delivered. */
  idle: boolean;
  updated_at: string;
}

export function drainRequestFile(stateDir: string): string {
  return path.join(stateDir, DRAIN_REQUEST_FILE);
}

export function drainStatusFile(stateDir: string): string {
  return path.join(stateDir, DRAIN_STATUS_FILE);
}

export type ReadResult<T> = { value: T; mtimeMs: number } | { problem: string; mtimeMs: number } | undefined;

async function readJson(
  file: string,
): Promise<{ data: unknown; mtimeMs: number } | { problem: string; mtimeMs: number } | undefined> {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = (await fs.stat(file)).mtimeMs;
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { problem: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, mtimeMs: 0 };
  }
  try {
    return { data: JSON.parse(text), mtimeMs };
  } catch {
    return { problem: `${file} is not JSON`, mtimeMs };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The request on disk: undefined when there is none, `problem` when it cannot be used. Never throws. */
export async function readDrainRequest(stateDir: string): Promise<ReadResult<DrainRequest>> {
  const file = drainRequestFile(stateDir);
  const read = await readJson(file);
  if (!read || 'problem' in read) return read;
  const d = read.data;
  if (
    !isObject(d) ||
    typeof d.draining !== 'boolean' ||
    typeof d.exit !== 'boolean' ||
    typeof d.requested_at !== 'string' ||
    typeof d.requested_by !== 'string'
  )
    return { problem: `${file} is not a drain request`, mtimeMs: read.mtimeMs };
  return { value: d as unknown as DrainRequest, mtimeMs: read.mtimeMs };
}

export async function readDrainStatus(stateDir: string): Promise<ReadResult<DrainStatus>> {
  const file = drainStatusFile(stateDir);
  const read = await readJson(file);
  if (!read || 'problem' in read) return read;
  const d = read.data;
  if (!isObject(d) || typeof d.pid !== 'number' || typeof d.draining !== 'boolean' || typeof d.idle !== 'boolean')
    return { problem: `${file} is not a drain status`, mtimeMs: read.mtimeMs };
  return { value: d as unknown as DrainStatus, mtimeMs: read.mtimeMs };
}

export function writeDrainRequest(stateDir: string, request: DrainRequest): Promise<void> {
  return writeJsonDurably(drainRequestFile(stateDir), request);
}

export function writeDrainStatus(stateDir: string, status: DrainStatus): Promise<void> {
  return writeJsonDurably(drainStatusFile(stateDir), status);
}
