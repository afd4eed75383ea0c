/**
 * Finishing or undoing a commit from its journal (commit-journal.ts): at worker start for commits a dead process
 * left behind, and by the commit itself when it fails.
 *
 * Both directions work from what is on disk, so they can be repeated after being interrupted themselves:
 *  - back: for each output folder, a destination carrying this commit's marker is the new one and goes; the ".old"
 *    sibling (the previous output) comes back; the ".tmp" sibling goes; then the master's temp file, a master-folder
 *    marker this commit created, and the folders it created (only while empty);
 *  - forward (every folder already swapped): the ".old" siblings go and the master's temp file (complete: it was
 *    flushed before the first swap) is renamed into place.
 * Only paths the journal names are touched, every operation goes through NasFs (confined, links never followed),
 * and a folder is removed only while it is a real folder marked by this commit (temporaries), or marked by the
 * worker or empty (previous outputs). A multi-rendition ladder therefore ends all old or all new.
 */
import path from 'node:path';
import type { Logger } from '../log.js';
import { errorMessage } from '../errors.js';
import {
  journalPath,
  listJournalFiles,
  readJournalFile,
  removeJournal,
  writeJournal,
  type CommitJournal,
} from './commit-journal.js';
import { openNasFs, type NasFs } from './nas-fs.js';
import { isOursOrEmpty, isOwnCommitFolder, readMarker } from './ownership.js';

type Step = (what: string, fn: () => Promise<unknown>) => Promise<void>;

function stepper(log: Logger | undefined): { step: Step; ok: () => boolean } {
  let failures = 0;
  return {
    ok: () => failures === 0,
    step: async (what, fn) => {
      try {
        await fn();
      } catch (err) {
        failures++;
        log?.error({ err: errorMessage(err), what }, 'commit repair step failed');
      }
    },
  };
}

function abs(nas: NasFs, rel: string): string {
  return path.join(nas.root, ...rel.split('/').filter(Boolean));
}

/** Undoes the commit; true when every step succeeded (the NAS is as it was before the commit). */
export async function rollBackCommit(j: CommitJournal, nas: NasFs, log?: Logger): Promise<boolean> {
  const { step, ok } = stepper(log);
  for (const f of [...j.folders].reverse()) {
    const dest = abs(nas, f.dest);
    const old = abs(nas, f.old);
    await step(`remove the new ${f.dest}`, async () => {
      if ((await readMarker(nas, dest))?.commit_id !== j.commit_id) return;
      const done = await nas.removeTree(dest, (d) => isOwnCommitFolder(nas, d, j.commit_id));
      if (done === 'refused') throw new Error(`${f.dest} changed while being removed; left in place`);
    });
    await step(`restore ${f.dest}`, async () => {
      const oldSt = await nas.lstatOrNull(old);
      if (!oldSt?.isDirectory()) return;
      if (await nas.lstatOrNull(dest)) throw new Error(`${f.dest} exists; the previous output stays in ${f.old}`);
      await nas.rename(old, dest);
    });
    await step(`remove ${f.tmp}`, () => nas.removeTree(abs(nas, f.tmp), (d) => isOwnCommitFolder(nas, d, j.commit_id)));
  }
  if (j.master) {
    const m = j.master;
    await step(`remove ${m.tmp}`, () => nas.removeFile(abs(nas, m.tmp)));
    if (m.marker) {
      const markerDir = path.dirname(abs(nas, m.marker));
      await step(`remove ${m.marker}`, async () => {
        if ((await readMarker(nas, markerDir))?.commit_id === j.commit_id) await nas.removeFile(abs(nas, m.marker!));
      });
    }
  }
  for (const d of [...j.created_dirs].reverse()) await step(`remove ${d}`, () => nas.removeDirIfEmpty(abs(nas, d)));
  return ok();
}

/** Completes a commit whose folders are all swapped; true when every step succeeded. */
export async function rollForwardCommit(j: CommitJournal, nas: NasFs, log?: Logger): Promise<boolean> {
  const { step, ok } = stepper(log);
  if (j.master) {
    const m = j.master;
    await step(`put ${m.target} in place`, async () => {
      const st = await nas.lstatOrNull(abs(nas, m.tmp));
      if (st?.isFile()) await nas.rename(abs(nas, m.tmp), abs(nas, m.target));
    });
  }
  for (const f of j.folders)
    await step(`remove ${f.old}`, async () => {
      const done = await nas.removeTree(abs(nas, f.old), (d) => isOursOrEmpty(nas, d));
      if (done === 'refused') throw new Error(`${f.old} is not a previous output of this worker; left in place`);
    });
  return ok();
}

export interface RecoverOptions {
  stateDir: string;
  nasRoot: string;
  log?: Logger;
}

/** Repairs one journal's commit and removes the journal when done; false when something was left to a human. */
export async function repairCommit(j: CommitJournal, nas: NasFs, opts: RecoverOptions): Promise<boolean> {
  const forward = j.phase === 'swapped';
  opts.log?.warn(
    { job_id: j.job_id, phase: j.phase, direction: forward ? 'forward' : 'back' },
    forward ? 'finishing a commit that was interrupted' : 'undoing a commit that was interrupted',
  );
  if (!forward && j.phase !== 'rolling-back') {
    // Record the direction first: a crash during the undo must not be taken for a finished swap next time.
    await writeJournal(opts.stateDir, { ...j, phase: 'rolling-back' });
  }
  const ok = forward ? await rollForwardCommit(j, nas, opts.log) : await rollBackCommit(j, nas, opts.log);
  if (ok) await removeJournal(opts.stateDir, j.job_id);
  return ok;
}

/**
 * Worker start: repairs every commit a previous process left unfinished. Never throws (a start must not fail on a
 * bad journal or an unmounted NAS): a bad journal is moved aside, one that cannot be repaired now is left for the
 * next start, each with a line in the log. Returns how many commits were repaired.
 */
export async function recoverInterruptedCommits(opts: RecoverOptions): Promise<number> {
  let files: string[];
  let nas: NasFs;
  try {
    files = await listJournalFiles(opts.stateDir);
    if (files.length === 0) return 0;
    nas = await openNasFs(opts.nasRoot);
  } catch (err) {
    opts.log?.error(
      { err: errorMessage(err) },
      'could not look for interrupted commits; trying again at the next start',
    );
    return 0;
  }
  let repaired = 0;
  for (const file of files) {
    try {
      const j = await readJournalFile(file, opts.log);
      if (!j) continue;
      if (path.resolve(j.nas_root) !== nas.root) {
        opts.log?.warn(
          { file, nas_root: j.nas_root },
          'interrupted commit on another NAS root; left alone (start the worker with that nas_mount_path to repair it)',
        );
        continue;
      }
      if (await repairCommit(j, nas, opts)) repaired++;
    } catch (err) {
      opts.log?.error({ err: errorMessage(err), file }, 'could not repair an interrupted commit');
    }
  }
  return repaired;
}

/** The journal of one job, if a previous attempt of it left one (used by a commit before it starts). */
export async function readJobJournal(
  stateDir: string,
  jobId: string,
  log?: Logger,
): Promise<CommitJournal | undefined> {
  return readJournalFile(journalPath(stateDir, jobId), log);
}
