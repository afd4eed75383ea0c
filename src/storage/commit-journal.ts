/**
 * The commit's intent, recorded durably in state_dir/commits/ before the commit touches the NAS, so that a worker
 * that dies mid-commit (SIGKILL, power loss) can finish or undo it at its next start (commit-recovery.ts).
 *
 * Phases, each written (fsync'd) before the step it announces:
 *  - prepared:     hidden temporary folders and files are being written; nothing visible changed yet;
 *  - swapping:     output folders are being swapped (dest -> hidden ".old", hidden ".tmp" -> dest);
 *  - swapped:      every output folder is new; the master rename and the ".old" clean-up remain;
 *  - rolling-back: the commit failed and is being undone.
 * Recovery rolls "swapped" forward and everything else back. All paths are NAS-relative, forward slashes.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { removeFile, writeJsonDurably } from '../util/durable-file.js';
import { readValidatedStateFile, type StateFileLog } from '../util/state-file.js';
import { commitJournalName } from './paths.js';

export const CommitJournalSchema = Type.Object({
  version: Type.Literal(1),
  job_id: Type.String(),
  commit_id: Type.String(),
  /** The NAS root the paths are relative to; recovery leaves a journal of another root alone. */
  nas_root: Type.String(),
  phase: Type.Union([
    Type.Literal('prepared'),
    Type.Literal('swapping'),
    Type.Literal('swapped'),
    Type.Literal('rolling-back'),
  ]),
  started_at: Type.String(),
  folders: Type.Array(Type.Object({ dest: Type.String(), tmp: Type.String(), old: Type.String() })),
  master: Type.Union([
    Type.Null(),
    Type.Object({
      target: Type.String(),
      tmp: Type.String(),
      /** The master folder's marker, when this commit creates it (null: it was already there). */
      marker: Type.Union([Type.Null(), Type.String()]),
    }),
  ]),
  /** Folders this commit creates (top-down); undoing removes them only while they are empty. */
  created_dirs: Type.Array(Type.String()),
});
export type CommitJournal = Static<typeof CommitJournalSchema>;

export function commitsDir(stateDir: string): string {
  return path.join(stateDir, 'commits');
}

export function journalPath(stateDir: string, jobId: string): string {
  return path.join(commitsDir(stateDir), commitJournalName(jobId));
}

export async function writeJournal(stateDir: string, journal: CommitJournal): Promise<void> {
  await writeJsonDurably(journalPath(stateDir, journal.job_id), journal);
}

export async function removeJournal(stateDir: string, jobId: string): Promise<void> {
  await removeFile(journalPath(stateDir, jobId));
}

/**
 * Reads one journal file. A file that is not JSON or not a journal is moved aside as `<name>.corrupt-<time>` with
 * a warning (never a crash: the next start would meet it again) and reads as undefined, as a missing one does.
 */
export async function readJournalFile(file: string, log?: Logger): Promise<CommitJournal | undefined> {
  return readValidatedStateFile(
    file,
    CommitJournalSchema,
    log ?? SILENT,
    'commit journal (its commit cannot be repaired)',
  );
}

const SILENT: StateFileLog = { warn: () => undefined };

/** Every journal file left in state_dir/commits (one per interrupted commit). */
export async function listJournalFiles(stateDir: string): Promise<string[]> {
  const dir = commitsDir(stateDir);
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => path.join(dir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
