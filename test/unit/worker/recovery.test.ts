/**
 * Recovery at start against a real temporary state_dir: the running-job record of a dead worker is failed ("worker
 * restarted while the job was running") and its staging removed; one of a live worker is refused; a record whose
 * result already reached the outbox is only cleared; temp leftovers of interrupted writes are removed.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateDirInUseError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { jobStagingDir } from '../../../src/storage/paths.js';
import { currentProcessIdentity, processStartTime } from '../../../src/util/process-identity.js';
import { JobRecordStore, type RunningJobRecord } from '../../../src/worker/job-record.js';
import { Outbox } from '../../../src/worker/outbox.js';
import { RESTARTED_MESSAGE, recoverAtStart, type RecoveryDeps } from '../../../src/worker/recovery.js';
import { StateWrites } from '../../../src/worker/state-writes.js';
import { waitFor } from '../../helpers/wait.js';
import { FakeClient } from './worker-fakes.js';

let root: string;
let deps: RecoveryDeps;
const NOW = Date.parse('2026-01-01T00:10:00Z');

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tw-recovery-'));
  const stateDir = path.join(root, 'state');
  await mkdir(stateDir, { recursive: true });
  const log = createLogger({ level: 'silent' });
  const writes = new StateWrites({ stateDir, log, retryStartMs: 1, retryMaxMs: 2 });
  deps = {
    stateDir,
    tempDir: path.join(root, 'tmp'),
    nasRoot: path.join(root, 'nas'),
    resumeKeepMs: 24 * 3_600_000,
    resumeBudgetBytes: 50e9,
    log,
    outbox: new Outbox({ stateDir, client: new FakeClient(), log, writes, retryStartMs: 1, retryMaxMs: 2 }),
    records: new JobRecordStore(stateDir, log),
    writes,
    now: () => NOW,
  };
});
afterEach(async () => {
  deps.outbox.close();
  deps.writes.close();
  await rm(root, { recursive: true, force: true });
});

/** A pid that ran and exited: free now. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

function record(over: Partial<RunningJobRecord>): RunningJobRecord {
  const me = currentProcessIdentity();
  return {
    job_id: 'crashed',
    started_at: '2026-01-01T00:00:00.000Z',
    pid: deadPid(),
    boot_id: me.boot_id,
    hostname: me.hostname,
    ...over,
  };
}

const recordGone = () =>
  waitFor(async () => (await stat(deps.records.file).catch(() => undefined)) === undefined, {
    intervalMs: 1,
    timeoutMs: 2000,
    message: 'the record to be removed',
  });

describe('recovery at start', () => {
  it('fails the job of a dead worker, removes its staging, then the record', async () => {
    await deps.records.write(record({}));
    const staging = jobStagingDir(deps.tempDir, 'crashed');
    await mkdir(staging, { recursive: true });
    await writeFile(path.join(staging, 'seg0.ts'), 'x');
    await recoverAtStart(deps);
    expect(deps.outbox.get('crashed')?.payload).toEqual({
      status: 'FAILED',
      error_msg: RESTARTED_MESSAGE,
      metrics: { total_time_ms: 10 * 60 * 1000 },
    });
    expect(await stat(staging).catch(() => undefined)).toBeUndefined();
    await recordGone();
  });

  it.skipIf(process.platform !== 'linux')('refuses a record of a live worker and leaves it alone', async () => {
    const live = record({ pid: process.ppid, pid_start: processStartTime(process.ppid) });
    await deps.records.write(live);
    await expect(recoverAtStart(deps)).rejects.toBeInstanceOf(StateDirInUseError);
    await expect(deps.records.read()).resolves.toEqual(live);
    expect(deps.outbox.count()).toBe(0);
  });

  it('only clears the record when the job result is already in the outbox', async () => {
    await deps.outbox.put('crashed', { status: 'COMPLETED', manifest_url: '/m.m3u8', metrics: { total_time_ms: 5 } })
      .settled;
    await deps.records.write(record({}));
    await recoverAtStart(deps);
    expect(deps.outbox.get('crashed')?.payload.status).toBe('COMPLETED');
    await recordGone();
  });

  it('removes temp files of interrupted state_dir writes and keeps the rest', async () => {
    await writeFile(path.join(deps.stateDir, '.running-job.json.1234.0badf00d.tmp'), '{"half');
    await writeFile(path.join(deps.stateDir, 'keep.json'), '{}');
    await recoverAtStart(deps);
    expect(await readdir(deps.stateDir)).not.toContain('.running-job.json.1234.0badf00d.tmp');
    expect(await readdir(deps.stateDir)).toContain('keep.json');
  });
});
