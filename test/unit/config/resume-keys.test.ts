import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSize } from '../../../src/config-formats.js';
import { loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-config-resume-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('parseSize', () => {
  it.each([
    ['50GB', 50e9],
    ['500 MB', 500e6],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['10g', 10e9],
    ['2TiB', 2 * 2 ** 40],
    ['1024', 1024],
    ['7b', 7],
    [0, 0],
  ] as const)('%j -> %d bytes', (input, bytes) => expect(parseSize(input)).toBe(bytes));
  it.each(['banana', '-1GB', '10 parsecs', '', '5XB'])('rejects %j', (input) =>
    expect(() => parseSize(input)).toThrow(),
  );
});

describe('resume_keep and resume_disk_budget', () => {
  it('default to 24h and 50 GB, and read durations and sizes from the environment', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.resume_keep).toBe(24 * 3_600_000);
    expect(c.resume_disk_budget).toBe(50e9);
    const d = loadConfig({ env: { WORKER_RESUME_KEEP: '0', WORKER_RESUME_DISK_BUDGET: '2GiB' }, cwd: dir });
    expect(d.resume_keep).toBe(0);
    expect(d.resume_disk_budget).toBe(2 * 2 ** 30);
  });

  it('a bad size is a one-line ConfigError naming the key', () => {
    expect(() => loadConfig({ env: { WORKER_RESUME_DISK_BUDGET: 'lots' }, cwd: dir })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { WORKER_RESUME_DISK_BUDGET: 'lots' }, cwd: dir })).toThrow(
      /resume_disk_budget.*a size such as/,
    );
  });
});
