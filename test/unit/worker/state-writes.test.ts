/** StateWrites against a real folder: retries, order per key, and what /readyz is told. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { StateWrites } from '../../../src/worker/state-writes.js';
import { writeJsonDurably } from '../../../src/util/durable-file.js';
import { waitFor } from '../../helpers/wait.js';

let dir: string;
let writes: StateWrites;
const health: (string | undefined)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-writes-'));
  health.length = 0;
  writes = new StateWrites({
    stateDir: dir,
    log: createLogger({ level: 'silent' }),
    retryStartMs: 5,
    retryMaxMs: 20,
    onHealth: (p) => health.push(p),
  });
});
afterEach(async () => {
  writes.close();
  await rm(dir, { recursive: true, force: true });
});

const diskFull = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

describe('StateWrites', () => {
  it('retries a failing write, reports why meanwhile, and is healthy again once it lands', async () => {
    const file = path.join(dir, 'a.json');
    let failures = 3;
    const { now, settled } = writes.run('a', 'writing a', 'write', async () => {
      if (failures-- > 0) throw diskFull();
      await writeJsonDurably(file, { v: 1 });
    });
    expect(await now).toBe(false);
    expect(writes.problem()).toMatch(/^state_dir cannot be written \(writing a: ENOSPC/);
    await settled;
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ v: 1 });
    expect(writes.problem()).toBeUndefined();
    expect(health.at(-1)).toBeUndefined();
  });

  it('a newer operation on a key replaces a failing older one, which never lands after it', async () => {
    const file = path.join(dir, 'b.json');
    let broken = true;
    writes.run('b', 'old', 'write', async () => {
      if (broken) throw diskFull();
      await writeJsonDurably(file, { v: 'old' });
    });
    broken = false;
    await writes.run('b', 'new', 'write', () => writeJsonDurably(file, { v: 'new' })).settled;
    await writes.idle();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ v: 'new' });
  });

  it('after a failure, a successful removal alone does not make it healthy: a probe write must succeed', async () => {
    let full = true;
    expect(
      await writes.tryOnce('writing the record', async () => {
        if (full) throw diskFull();
      }),
    ).toBe(false);
    expect(writes.problem()).toMatch(/ENOSPC/);
    await writes.run('c', 'removing', 'remove', async () => undefined).settled;
    expect(writes.problem()).toMatch(/ENOSPC/); // the probe (a real 64 KiB write here) decides
    full = false;
    await waitFor(() => writes.problem() === undefined, { message: 'healthy after the probe write' });
  });
});
