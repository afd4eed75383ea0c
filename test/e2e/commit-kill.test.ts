/**
 * Black-box: the built worker SIGKILLed while it commits, then started again. The kill is fired from an inotify
 * watch on state_dir/commits the moment the commit journal appears, so it lands inside the commit, in its copy
 * phase (temp_dir is put on tmpfs so the commit has to copy and flush every file, which takes far longer than the
 * watch takes to fire; it landed 7 times out of 7 here). The restarted worker must undo it: each output all old or
 * all new, no hidden leftovers, no journal. A kill landing exactly between two renames cannot be timed from
 * outside (they are microseconds apart); those variants are in test/integration/commit-recovery.test.ts, a real
 * commit in a child process stopped and SIGKILLed before each rename.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { SHORT, ladderJob, makeWorld, type World } from './fixture.js';

let world: World | undefined;
let watcher: FSWatcher | undefined;
let shm: string | undefined;
afterEach(async () => {
  watcher?.close();
  await world?.dispose();
  if (shm) await rm(shm, { recursive: true, force: true });
  world = undefined;
  shm = undefined;
});

async function markerJob(dir: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(dir, '.transcode-worker.json'), 'utf8')) as { job_id: string }).job_id;
}

describe('a worker killed during a commit', () => {
  it.skipIf(process.platform !== 'linux' || !existsSync('/dev/shm'))(
    'is repaired by the next start: each rung all old or all new, no hidden leftovers',
    async () => {
      world = await makeWorld();
      const { orch, dirs } = world;
      shm = await mkdtemp('/dev/shm/tw-kill-');
      const env = { WORKER_TEMP_DIR: shm };
      const first = await world.start(env);
      const v1 = await orch.enqueue(ladderJob(SHORT, 'processed/k'));
      expect((await orch.waitForJob(v1.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 60_000 })).status).toBe(
        'COMPLETED',
      );
      const commits = path.join(dirs.state, 'commits');
      expect(await readdir(commits)).toEqual([]); // a finished commit leaves no journal

      let killed = false;
      watcher = watch(commits, (_event, name) => {
        // The journal itself (written as a dotted temp file, then renamed to <hash>.json).
        if (killed || !name || name.startsWith('.') || !name.endsWith('.json')) return;
        killed = true;
        first.kill('SIGKILL');
      });
      const v2 = await orch.enqueue(ladderJob(SHORT, 'processed/k'));
      await first.exited;
      expect(killed).toBe(true);
      watcher.close();
      const journals = (await readdir(commits)).filter((n) => n.endsWith('.json'));
      // The kill landed inside the commit: its journal is there for the next start.
      expect(journals).toHaveLength(1);

      const second = await world.start(env);
      await second.waitForLog((l) => /a commit that was interrupted/.test(String(l.msg)), 20_000, 'the repair');
      await waitFor(async () => (await readdir(commits)).filter((n) => n.endsWith('.json')).length === 0, {
        message: 'the journal to be removed',
      });
      const out = path.join(dirs.nas, 'processed', 'k');
      expect((await readdir(out)).filter((n) => n.startsWith('.tw-'))).toEqual([]);
      const owners = new Set([await markerJob(path.join(out, '360p')), await markerJob(path.join(out, '240p'))]);
      expect(owners.size).toBe(1);
      expect([v1.job_id, v2.job_id]).toContain([...owners][0]);
      expect((await readFile(path.join(out, 'index.m3u8'), 'utf8')).match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    },
  );
});
