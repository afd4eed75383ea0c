/**
 * Shutdown's cleanup: every step runs even when an earlier one throws, and the app frees its port even when the
 * worker's stop fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/log.js';
import { runEveryStep } from '../../../src/worker/shutdown.js';
import { FakeClient, fakeExecutor, prober } from './worker-fakes.js';

const log = createLogger({ level: 'silent' });
let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe('shutdown', () => {
  it('runs every cleanup step even when earlier ones throw, and returns the failures in order', async () => {
    const ran: string[] = [];
    const failures = await runEveryStep(log, [
      ['one', () => ran.push('one')],
      [
        'two',
        () => {
          ran.push('two');
          throw new Error('two broke');
        },
      ],
      [
        'three',
        async () => {
          ran.push('three');
          throw new Error('three broke');
        },
      ],
      ['four', async () => void ran.push('four')],
    ]);
    expect(ran).toEqual(['one', 'two', 'three', 'four']);
    expect(failures.map((e) => (e as Error).message)).toEqual(['two broke', 'three broke']);
  });

  it("app.stop closes the health server even when the worker's stop throws", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tw-app-stop-'));
    const config = loadConfig({
      cwd: root,
      args: [],
      env: {
        WORKER_ORCHESTRATOR_URL: 'http://127.0.0.1:9',
        WORKER_NAS_MOUNT_PATH: path.join(root, 'nas'),
        WORKER_TEMP_DIR: path.join(root, 'tmp'),
        WORKER_STATE_DIR: path.join(root, 'state'),
        WORKER_HTTP_HOST: '127.0.0.1',
        WORKER_HTTP_PORT: '0',
        WORKER_LOG_LEVEL: 'silent',
      },
    });
    const app = createApp(config, log, {
      client: new FakeClient(),
      prober,
      executor: fakeExecutor().executor,
      hostLoad: async () => ({ cpuPercent: 0, ramPercent: 0 }),
    });
    await app.start();
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const realStop = app.worker.stop.bind(app.worker);
    app.worker.stop = async () => {
      await realStop();
      throw new Error('worker stop failed');
    };
    await expect(app.stop()).rejects.toThrow('worker stop failed');
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
  });
});
