/**
 * The commit: staged output -> NAS, all or nothing, only into folders that are ours, never outside the NAS root.
 *
 * 0. check again that every destination may be replaced (ownership.ts: missing, empty or marked by the worker),
 *    and record the commit's intent in state_dir (commit-journal.ts) before the NAS is touched;
 * 1. copy each rendition's files, plus our marker, into a hidden sibling of its destination (same filesystem, so
 *    the next step is a rename, not a copy), and the master playlist (when it lives outside the rendition
 *    folders) into a hidden temp file next to it, flushing every file and folder to disk (commit-copy.ts);
 * 2. swap each folder into place: existing destination -> hidden ".old" sibling, new folder -> destination;
 * 3. rename the master over the old one, last, so the entry point only ever points at complete renditions;
 * 4. remove the ".old" folders and the journal.
 * Any failure before step 4 rolls back (commit-recovery.ts): previous folders are put back, hidden folders and the
 * folders this commit created (while empty) are removed, so the NAS is as it was. A process that dies on the way
 * is repaired at the next start from the journal. Every mkdir, rename and removal goes through NasFs (nas-fs.ts):
 * a symbolic link swapped in anywhere on the way fails the commit instead of leading it outside the NAS.
 *
 * Hidden sibling names are short and fixed-length (paths.ts hiddenSiblingName), so any legal folder name works.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../log.js';
import { JobCancelledError, StorageError } from '../errors.js';
import { throwIfAborted } from '../util/abortable.js';
import { mapLimit } from '../util/pool.js';
import { copyAndFlush, syncDir, type CopyJob } from './commit-copy.js';
import { patientJournalWriter, planJournal, removeJournal, type CommitJournal } from './commit-journal.js';
import type { CommitSpec } from './commit-spec.js';
import { readJobJournal, repairCommit, rollBackCommit, rollForwardCommit } from './commit-recovery.js';
import { openNasFs, type NasFs } from './nas-fs.js';
import { findForeignDestination, isOursOrEmpty, MARKER_NAME, markerJson } from './ownership.js';
import { describeFsError } from '../util/fs-errors.js';

export type { CommitFolder, CommitSpec } from './commit-spec.js';

export interface CommitOptions {
  nasRoot: string;
  /** The worker's state_dir: the commit journal lives in state_dir/commits so a crash mid-commit is repaired. */
  stateDir: string;
  /** Files copied at once. */
  concurrency: number;
  log?: Logger;
  /** Written into the ownership markers (who published this folder). */
  workerId?: string;
  /**
   * Honoured until the first rename (between files while copying): an abort until then rolls back and throws
   * JobCancelledError. Once the renames begin they are finished (they take milliseconds), so a shutdown deadline
   * leaves the NAS old or new, never half swapped.
   */
  signal?: AbortSignal;
  /**
   * Hard-link staged files into the NAS when both are on the same filesystem (default true): no data is copied,
   * only flushed. Off, or across filesystems, every file is copied. The bench turns it off to measure the copy.
   */
  allowHardLinks?: boolean;
  /** Test seam: the rename used for swaps (to inject a failure, a pause or a crash mid-commit). */
  renameFn?: (from: string, to: string) => Promise<void>;
  /** Test seam: the copy of one staged file (when not hard-linked). */
  copyFn?: (from: string, to: string) => Promise<void>;
  /**
   * Told why the commit is waiting for state_dir (its journal cannot be written: a full or read-only disk), and
   * undefined once it can go on, so the worker can show it in /readyz and its metric.
   */
  onStateDirProblem?: (problem: string | undefined) => void;
  /** Backoff of the journal writes while state_dir cannot take them (tests shorten it). */
  journalRetry?: { startMs: number; maxMs: number; giveUpMs: number };
}

export interface CommitResult {
  bytes: number;
  durationMs: number;
  /** Of durationMs, the time spent waiting for the data to reach the disk (fdatasync of files and folders). */
  flushMs: number;
  files: number;
}

function toAbs(root: string, rel: string): string {
  return path.join(root, ...rel.split('/').filter(Boolean));
}

/** The folders of `rel` (itself included) that do not exist yet, top-down. */
async function missingDirs(nas: NasFs, rel: string): Promise<string[]> {
  const parts = rel.split('/').filter(Boolean);
  const missing: string[] = [];
  for (let i = parts.length; i > 0; i--) {
    const sub = parts.slice(0, i).join('/');
    if (await nas.lstatOrNull(toAbs(nas.root, sub))) break;
    missing.unshift(sub);
  }
  return missing;
}

/**
 * A hidden sibling name already taken (a leftover of an earlier attempt that no journal describes): removed when it
 * is ours, otherwise the commit fails naming it rather than deleting it.
 */
async function clearLeftover(nas: NasFs, abs: string, isOurs: (d: string) => Promise<boolean>): Promise<void> {
  const st = await nas.lstatOrNull(abs);
  if (!st) return;
  // A file cannot carry our marker, and our own interrupted attempts are repaired from their journal before this
  // runs: a file here is somebody else's, so it is never removed.
  if (st.isFile() || (await nas.removeTree(abs, isOurs)) === 'refused')
    throw new Error(`${nas.rel(abs)} exists and is not a leftover of this worker; remove it`);
}

export async function commitOutputs(spec: CommitSpec, opts: CommitOptions): Promise<CommitResult> {
  const started = performance.now();
  let nas: NasFs;
  try {
    nas = await openNasFs(opts.nasRoot, opts.renameFn ? { renameFn: opts.renameFn } : {});
  } catch (err) {
    throw new StorageError(`the NAS root ${opts.nasRoot} cannot be used: ${describeFsError(err)}`, { cause: err });
  }
  const root = nas.root;
  let currentDest = '';
  const wrap = (err: unknown): StorageError | JobCancelledError => {
    if (err instanceof StorageError || err instanceof JobCancelledError) return err;
    const where = currentDest ? ` ${currentDest}` : '';
    return new StorageError(`cannot write to the NAS destination${where}: ${describeFsError(err)}`, { cause: err });
  };

  // An earlier attempt of this job that died mid-commit (the run-job command has no start-up recovery): repair it
  // first, so its hidden folders are not mistaken for someone else's.
  try {
    const previous = await readJobJournal(opts.stateDir, spec.jobId, opts.log);
    if (previous) await repairCommit(previous, nas, { stateDir: opts.stateDir, nasRoot: root, log: opts.log });
  } catch (err) {
    throw new StorageError(
      `cannot repair an earlier interrupted commit of this job (state_dir ${opts.stateDir}): ${describeFsError(err)}`,
      { cause: err },
    );
  }

  // 0. Ownership, again: hours passed since the pipeline checked it before transcoding.
  const checks = [
    ...spec.folders.map((f) => ({ where: f.destPath, dest: { folders: [f.destPath], master: null } })),
    ...(spec.master
      ? [{ where: path.posix.join(spec.master.dirPath, spec.master.name), dest: { folders: [], master: spec.master } }]
      : []),
  ];
  for (const c of checks) {
    currentDest = c.where;
    let foreign: string | null;
    try {
      foreign = await findForeignDestination(nas, c.dest);
    } catch (err) {
      throw wrap(err);
    }
    if (foreign) throw new StorageError(`refusing to commit: ${foreign}`);
  }
  currentDest = '';

  const commitId = randomUUID();
  const journal = planJournal(spec, root, commitId);
  const marker = (kind: 'output' | 'master'): string =>
    markerJson({
      kind,
      job_id: spec.jobId,
      commit_id: commitId,
      ...(opts.workerId ? { worker_id: opts.workerId } : {}),
      written_at: new Date().toISOString(),
    });
  let journalWritten = false;
  const writeJournalPatiently = patientJournalWriter(opts);
  const setPhase = async (phase: CommitJournal['phase']): Promise<void> => {
    journal.phase = phase;
    // Before the NAS is touched a cancel still counts; once folders are being swapped the phases must be recorded
    // whatever happens (a shutdown's hard deadline then leaves the journal of the last phase for the next start).
    await writeJournalPatiently(journal, phase === 'prepared' ? opts.signal : undefined);
    journalWritten = true;
  };

  let bytes = 0;
  let files = 0;
  let flushMs = 0;
  try {
    // The folders this commit will create are known before anything is created, so the journal lists them all.
    const created = new Set<string>();
    for (const f of spec.folders)
      for (const d of await missingDirs(nas, path.posix.dirname(f.destPath))) created.add(d);
    if (spec.master) for (const d of await missingDirs(nas, spec.master.dirPath)) created.add(d);
    journal.created_dirs = [...created];
    if (spec.master && !(await nas.lstatOrNull(toAbs(root, path.posix.join(spec.master.dirPath, MARKER_NAME)))))
      journal.master!.marker = path.posix.join(spec.master.dirPath, MARKER_NAME);
    await setPhase('prepared');

    // 1. Hidden siblings, each with our marker, then every file.
    const jobs: CopyJob[] = [];
    for (const [i, f] of spec.folders.entries()) {
      currentDest = f.destPath;
      const j = journal.folders[i]!;
      const dest = toAbs(root, f.destPath);
      await nas.mkdirs(path.dirname(dest));
      const tmp = toAbs(root, j.tmp);
      await clearLeftover(nas, tmp, (d) => isOursOrEmpty(nas, d));
      await clearLeftover(nas, toAbs(root, j.old), (d) => isOursOrEmpty(nas, d));
      await nas.mkdirNew(tmp);
      await nas.writeNewFile(path.join(tmp, MARKER_NAME), marker('output'));
      const subdirs = new Set(f.files.map((x) => path.posix.dirname(x)).filter((d) => d !== '.'));
      for (const d of subdirs) await nas.mkdirs(toAbs(tmp, d));
      for (const file of f.files) jobs.push({ from: toAbs(f.sourceDir, file), to: toAbs(tmp, file) });
    }
    // The master (several outputs: it lives above the rendition folders) is copied and flushed with the rest.
    if (spec.master && journal.master) {
      currentDest = spec.master.dirPath || '/';
      await nas.mkdirs(toAbs(root, spec.master.dirPath));
      const masterTmp = toAbs(root, journal.master.tmp);
      await clearLeftover(nas, masterTmp, async () => false);
      if (journal.master.marker) await nas.writeNewFile(toAbs(root, journal.master.marker), marker('master'));
      jobs.push({ from: spec.master.sourceFile, to: masterTmp });
    }
    currentDest = '';
    const copied = await copyAndFlush(jobs, {
      nas,
      concurrency: opts.concurrency,
      allowHardLinks: opts.allowHardLinks !== false,
      signal: opts.signal,
      log: opts.log,
      copyFn: opts.copyFn,
      fail: (to, err) =>
        new StorageError(`cannot write ${nas.rel(to)} on the NAS: ${describeFsError(err)}`, { cause: err }),
    });
    ({ bytes, files, flushMs } = copied);

    // The last point where an abort is honoured: from here on the renames are finished, not abandoned half way.
    throwIfAborted(opts.signal);

    // 2. Swap folders into place.
    await setPhase('swapping');
    for (const [i, f] of spec.folders.entries()) {
      currentDest = f.destPath;
      const j = journal.folders[i]!;
      const dest = toAbs(root, f.destPath);
      if (await nas.lstatOrNull(dest)) await nas.rename(dest, toAbs(root, j.old));
      await nas.rename(toAbs(root, j.tmp), dest);
    }
    // Each parent folder once, after all its swaps (a folder sync is a journal commit, a disk round trip): the
    // renditions are durable before the master below points at them.
    await mapLimit(
      [...new Set(spec.folders.map((f) => path.dirname(toAbs(root, f.destPath))))],
      opts.concurrency,
      (dir) => syncDir(dir),
    );
    await setPhase('swapped');

    // 3. The master, last.
    if (journal.master) {
      currentDest = journal.master.target;
      const target = toAbs(root, journal.master.target);
      await nas.rename(toAbs(root, journal.master.tmp), target);
      await syncDir(path.dirname(target));
    }
  } catch (err) {
    if (journalWritten) {
      // Announce the undo first, so a crash during it is undone at the next start, not taken for a finished swap.
      await setPhase('rolling-back').catch((e: unknown) =>
        opts.log?.error({ err: describeFsError(e) }, 'could not record the commit rollback'),
      );
      const clean = await rollBackCommit(journal, nas, opts.log);
      // A rollback that could not finish (a link swapped in, a locked file) keeps its journal: the next start
      // tries again, and the hidden leftovers stay named in it.
      if (clean) await removeJournal(opts.stateDir, spec.jobId).catch(() => undefined);
    }
    throw wrap(err);
  }

  // 4. Committed: the old versions can go, as the recovery rolls a commit forward. A step that fails or is refused
  // (a previous output that someone else has since written into without our marker) keeps the journal, so the
  // hidden folder stays named and the next start tries again; the output itself is complete either way.
  const tidy = await rollForwardCommit(journal, nas, opts.log);
  if (tidy)
    await removeJournal(opts.stateDir, spec.jobId).catch((err: unknown) =>
      opts.log?.warn({ err }, 'could not remove the commit journal; the next start will tidy up'),
    );
  else opts.log?.warn('could not remove every previous output after the commit; the next start will try again');
  return { bytes, files, flushMs, durationMs: performance.now() - started };
}
