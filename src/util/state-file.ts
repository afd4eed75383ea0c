/**
 * Reading what the worker keeps in state_dir (running-job record, outbox entries, capability cache) so that no file
 * can stop it from starting: a file that is not valid JSON or not of its schema is moved aside to
 * `<name>.corrupt-<time>` (kept for a person to look at) with a warning, and the caller goes on as if it were absent.
 *
 * A file that cannot be READ (EACCES, EIO) is not moved: that is a fault of the disk, not of the file, and the error
 * is thrown for the caller to report.
 */
import { promises as fs } from 'node:fs';
import type { Static, TSchema } from '@sinclair/typebox';
import { checkSchema } from './schema-check.js';
import { errorMessage } from '../errors.js';

/** Only warnings are written: a bad state file is recovered from, not an error of the worker. */
export type StateFileLog = { warn(obj: object, msg: string): void };

/** `2026-12-06T05:01:06.123Z` -> `20261206T050106123Z`: no colons, legal in file names on Windows too. */
export function corruptSuffix(now = new Date()): string {
  return `.corrupt-${now.toISOString().replace(/[-:.]/g, '')}`;
}

/** Moves a bad state file aside; never throws (a failure to move it is logged, and the caller ignores the file). */
export async function moveStateFileAside(
  file: string,
  problem: string,
  log: StateFileLog,
  what: string,
): Promise<string> {
  const aside = `${file}${corruptSuffix()}`;
  try {
    await fs.rename(file, aside);
    log.warn({ file, moved_to: aside, problem }, `${what} is unreadable; moved it aside and going on without it`);
  } catch (err) {
    log.warn({ file, problem, err: errorMessage(err) }, `${what} is unreadable and cannot be moved aside; ignoring it`);
  }
  return aside;
}

/**
 * The validated content of a state file, or undefined when it is absent or was bad (then moved aside).
 * `what` names the file for the log ("running-job record").
 */
export async function readValidatedStateFile<S extends TSchema>(
  file: string,
  schema: S,
  log: StateFileLog,
  what: string,
): Promise<Static<S> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    // ENOTDIR: a parent of the file is not a folder, so the file does not exist either.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    await moveStateFileAside(file, `invalid JSON: ${errorMessage(err)}`, log, what);
    return undefined;
  }
  const problem = checkSchema(schema, data);
  if (problem) {
    await moveStateFileAside(file, problem, log, what);
    return undefined;
  }
  return data as Static<S>;
}
