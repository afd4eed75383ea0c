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
import { JobCancelledError, StorageError } from '../errors.js';
import { abortReason } from '../util/abortable.js';
import { sleep } from '../util/abortable.js';
import { removeFile, writeJsonDurably } from '../util/durable-file.js';
import { describeFsError } from '../util/fs-errors.js';
import { readValidatedStateFile, type StateFileLog } from '../util/state-file.js';
import { commitJournalName, hiddenSiblingName } from './paths.js';
import type { CommitSpec } from './commit-spec.js';

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

function relSibling(rel: string, sibling: string): string {
  return path.posix.join(path.posix.dirname(rel), sibling);
}

/** What this commit will do, as journal entries (NAS-relative). */
export function planJournal(spec: CommitSpec, nasRoot: string, commitId: string): CommitJournal {
  const folders = spec.folders.map((f) => {
    const name = path.posix.basename(f.destPath);
    return {
      dest: f.destPath,
      tmp: relSibling(f.destPath, hiddenSiblingName('tmp', spec.jobId, name)),
      old: relSibling(f.destPath, hiddenSiblingName('old', spec.jobId, name)),
    };
  });
  const master = spec.master
    ? {
        target: path.posix.join(spec.master.dirPath, spec.master.name),
        tmp: path.posix.join(spec.master.dirPath, hiddenSiblingName('tmp', spec.jobId, spec.master.name)),
        marker: null as string | null,
      }
    : null;
  return {
    version: 1,
    job_id: spec.jobId,
    commit_id: commitId,
    nas_root: nasRoot,
    phase: 'prepared',
    started_at: new Date().toISOString(),
    folders,
    master,
    created_dirs: [],
  };
}

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

export interface JournalWriterOptions {
  stateDir: string;
  log?: Logger;
  onStateDirProblem?: (problem: string | undefined) => void;
  journalRetry?: { startMs: number; maxMs: number; giveUpMs: number };
}

/**
 * How long a commit waits for state_dir to take its journal before it fails the job: long enough for a person to
 * free some space on a full disk after the alert, short enough that an orchestrator is not left guessing for hours.
 */
const JOURNAL_RETRY = { startMs: 500, maxMs: 30_000, giveUpMs: 10 * 60_000 };

/**
 * The journal is what makes a commit repairable after a crash, so the commit never goes on without it. A state_dir
 * that cannot take it (ENOSPC, EROFS, EACCES, EIO) is a fault a person can fix: the commit waits for it with backoff,
 * telling the worker why (/readyz, the state_dir metric), and fails the job only after JOURNAL_RETRY.giveUpMs. The
 * transcode is not thrown away for a disk that is full for a minute.
 */
export function patientJournalWriter(opts: JournalWriterOptions) {
  const retry = opts.journalRetry ?? JOURNAL_RETRY;
  return async (journal: CommitJournal, signal: AbortSignal | undefined): Promise<void> => {
    const started = performance.now();
    let delay = retry.startMs;
    let waited = false;
    for (;;) {
      try {
        await writeJournal(opts.stateDir, journal);
        if (waited) {
          opts.onStateDirProblem?.(undefined);
          opts.log?.info('state_dir can be written again; the commit goes on');
        }
        return;
      } catch (err) {
        const problem = `state_dir cannot be written (recording the commit of job ${journal.job_id}: ${describeFsError(err)})`;
        if (performance.now() - started >= retry.giveUpMs) {
          if (waited) opts.onStateDirProblem?.(undefined);
          throw new StorageError(
            `cannot record the commit in state_dir (${opts.stateDir}), so it could not be repaired after a crash: ` +
              `${describeFsError(err)}; nothing was published`,
            { cause: err },
          );
        }
        if (!waited) opts.log?.warn({ err: describeFsError(err) }, 'the commit waits until state_dir can be written');
        waited = true;
        opts.onStateDirProblem?.(problem);
        try {
          await sleep(delay, signal);
        } catch {
          opts.onStateDirProblem?.(undefined);
          throw new JobCancelledError(abortReason(signal!));
        }
        delay = Math.min(retry.maxMs, delay * 2);
      }
    }
  };
}
