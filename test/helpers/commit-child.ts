/**
 * Runs one real commit in a child process that stops dead at a chosen point, so a test can SIGKILL it there: a
 * worker dying mid-commit, with no rollback and no `finally` running (tests/integration/commit-recovery.test.ts).
 *
 * argv[2]: JSON { spec, nasRoot, stateDir, readyFile, pauseAtRename?: n, pauseAtCopy?: n }. Before the n-th rename
 * (1-based) or the n-th file copy, the child writes readyFile and waits forever; the test then kills it.
 */
import { copyFile, rename, writeFile } from 'node:fs/promises';
import { commitOutputs, type CommitSpec } from '../../src/storage/commit.js';

interface ChildArgs {
  spec: CommitSpec;
  nasRoot: string;
  stateDir: string;
  readyFile: string;
  pauseAtRename?: number;
  pauseAtCopy?: number;
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
const stop = async (): Promise<never> => {
  await writeFile(args.readyFile, String(process.pid));
  // Keep the event loop alive until the test kills this process.
  setInterval(() => undefined, 60_000);
  return new Promise<never>(() => undefined);
};
let renames = 0;
let copies = 0;
await commitOutputs(args.spec, {
  nasRoot: args.nasRoot,
  stateDir: args.stateDir,
  concurrency: 1,
  allowHardLinks: false,
  renameFn: async (from, to) => {
    if (++renames === args.pauseAtRename) await stop();
    await rename(from, to);
  },
  copyFn: async (from, to) => {
    if (++copies === args.pauseAtCopy) await stop();
    await copyFile(from, to);
  },
});
process.stdout.write('committed\n');
