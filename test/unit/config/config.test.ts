import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config-formats.js';
import { configSecrets, loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';

let dir: string;
let nas: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-config-'));
  nas = path.join(dir, 'nas');
  await mkdir(nas);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    ['250', 250],
    [1000, 1000],
  ])('%s -> %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));
  it.each(['banana', '10 parsecs', '-1s', ''])('rejects %j', (input) => expect(() => parseDuration(input)).toThrow());
});

describe('loadConfig', () => {
  it('has sensible defaults', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.sync_interval).toBe(10_000);
    expect(c.progress_interval).toBe(2_000);
    expect(c.http.port).toBe(9470);
    expect(c.busy_cpu_percent).toBe(80);
    expect(c.busy_ram_percent).toBe(90);
    expect(c.worker_id).toBe(os.hostname());
    expect(c.hwaccel).toBe('auto');
    expect(path.relative(c.temp_dir, c.state_dir).startsWith('..')).toBe(true);
  });

  it('applies CLI flags over environment over file over defaults', async () => {
    const file = path.join(dir, 'precedence.yml');
    await writeFile(
      file,
      [
        'worker_id: from-file',
        'sync_interval: 3s',
        'log_level: warn',
        'http:',
        '  port: 9999',
        `nas_mount_path: ${JSON.stringify(nas)}`,
      ].join('\n'),
    );
    const c = loadConfig({
      env: { WORKER_ID: 'from-env', WORKER_SYNC_INTERVAL: '4s' },
      args: ['--worker-id', 'from-flag'],
      configFile: file,
      cwd: dir,
      requireNas: true,
    });
    expect(c.worker_id).toBe('from-flag');
    expect(c.sync_interval).toBe(4000);
    expect(c.log_level).toBe('warn');
    expect(c.http.port).toBe(9999);
    expect(c.nas_mount_path).toBe(nas);
  });

  it('reads WORKER_CONFIG, then ./config.yml when present', async () => {
    const sub = path.join(dir, 'cwd');
    await mkdir(sub, { recursive: true });
    await writeFile(path.join(sub, 'config.yml'), 'worker_id: from-cwd\n');
    expect(loadConfig({ env: {}, cwd: sub }).worker_id).toBe('from-cwd');
    const other = path.join(dir, 'other.yml');
    await writeFile(other, 'worker_id: from-env-file\n');
    expect(loadConfig({ env: { WORKER_CONFIG: other }, cwd: sub }).worker_id).toBe('from-env-file');
  });

  it.each([
    [
      { WORKER_SYNC_INTERVAL: 'banana' },
      'invalid sync_interval = "banana": expected a duration such as "500ms", "10s" or "1m"',
    ],
    [
      { WORKER_ORCHESTRATOR_URL: 'not a url' },
      'invalid orchestrator_url = "not a url": expected an http:// or https:// URL',
    ],
    [
      { WORKER_ORCHESTRATOR_URL: 'ftp://x' },
      'invalid orchestrator_url = "ftp://x": expected an http:// or https:// URL',
    ],
    [{ WORKER_HTTP_PORT: '70000' }, 'invalid http.port = 70000: expected a port number (0-65535)'],
    [{ WORKER_HWACCEL: 'cuda' }, 'invalid hwaccel = "cuda": expected one of auto, none, nvenc, qsv, vaapi, v4l2m2m'],
    [{ WORKER_BUSY_CPU_PERCENT: '0' }, 'invalid busy_cpu_percent = 0: expected a number above 0 and at most 100'],
  ])('one clear line for %j', (env, message) => {
    const err = errorOf(() => loadConfig({ env, cwd: dir }));
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('\n');
  });

  it('refuses a missing NAS folder when the command needs it', () => {
    const missing = path.join(dir, 'not-mounted');
    const err = errorOf(() => loadConfig({ env: { WORKER_NAS_MOUNT_PATH: missing }, cwd: dir, requireNas: true }));
    expect(err.message).toBe(
      `invalid nas_mount_path = "${missing}": expected an existing folder (is the NAS mounted?)`,
    );
  });

  it('refuses a state_dir or temp_dir it cannot create and write, and creates the ones it can', async () => {
    const nas = path.join(dir, 'nas-w');
    await mkdir(nas, { recursive: true });
    const aFile = path.join(dir, 'a-file');
    await writeFile(aFile, 'x');
    const base = { WORKER_NAS_MOUNT_PATH: nas, WORKER_TEMP_DIR: path.join(dir, 'tmp-w') };
    const bad = path.join(aFile, 'state');
    expect(
      errorOf(() => loadConfig({ env: { ...base, WORKER_STATE_DIR: bad }, cwd: dir, requireNas: true })).message,
    ).toBe(`invalid state_dir = "${bad}": expected a folder the worker can create and write (ENOTDIR)`);
    const badTemp = path.join(aFile, 'tmp');
    const env = { ...base, WORKER_STATE_DIR: path.join(dir, 'state-w'), WORKER_TEMP_DIR: badTemp };
    expect(errorOf(() => loadConfig({ env, cwd: dir, requireNas: true })).message).toBe(
      `invalid temp_dir = "${badTemp}": expected a folder the worker can create and write (ENOTDIR)`,
    );
    const ok = loadConfig({
      env: { ...base, WORKER_STATE_DIR: path.join(dir, 'state-w') },
      cwd: dir,
      requireNas: true,
    });
    expect(existsSync(ok.state_dir) && existsSync(ok.temp_dir)).toBe(true);
  });

  it('names the file and the key for a bad value in YAML, and refuses unknown keys', async () => {
    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'progress_interval: soon\n');
    expect(errorOf(() => loadConfig({ env: {}, configFile: bad, cwd: dir })).message).toContain(
      'invalid progress_interval = "soon"',
    );
    await writeFile(bad, 'sync_intervall: 1s\n');
    expect(errorOf(() => loadConfig({ env: {}, configFile: bad, cwd: dir })).message).toContain('sync_intervall');
    await writeFile(bad, 'a: [unclosed\n');
    expect(errorOf(() => loadConfig({ env: {}, configFile: bad, cwd: dir })).message).toMatch(/not valid YAML/);
  });

  it('refuses state_dir inside temp_dir (temp may be a tmpfs)', () => {
    const err = errorOf(() =>
      loadConfig({
        env: { WORKER_TEMP_DIR: path.join(dir, 't'), WORKER_STATE_DIR: path.join(dir, 't', 's') },
        cwd: dir,
      }),
    );
    expect(err.message).toMatch(/state_dir .* must not be inside temp_dir/);
  });

  it('hands the auth token to the scrubbers of what it shows', () => {
    const c = loadConfig({ env: { WORKER_AUTH_TOKEN: 's3cret' }, cwd: dir });
    expect(c.auth_token).toBe('s3cret');
    expect(configSecrets(c)).toContain('s3cret');
  });

  it('never shows the user:password of orchestrator_url, in a config error, and hands it to the scrubbers', () => {
    for (const [value, shown] of [
      ['ftp://admin:pw-S3cret@nas.local/x', '"ftp://[redacted]@nas.local/x"'],
      ['admin:pw-S3cret@nas.local:8080', '"[redacted]@nas.local:8080"'],
    ] as const) {
      const err = errorOf(() => loadConfig({ env: { WORKER_ORCHESTRATOR_URL: value }, cwd: dir }));
      expect(err.message).not.toContain('pw-S3cret');
      expect(err.message).toContain(`invalid orchestrator_url = ${shown}`);
    }
    const c = loadConfig({ env: { WORKER_ORCHESTRATOR_URL: 'http://admin:pw-S3cret@orch:8080' }, cwd: dir });
    expect(c.orchestrator_url).toBe('http://admin:pw-S3cret@orch:8080');
    expect(configSecrets(c)).toEqual(expect.arrayContaining(['admin', 'pw-S3cret']));
  });

  it('refuses a request_timeout under 100ms (0 would cancel every call at once)', () => {
    expect(errorOf(() => loadConfig({ env: { WORKER_REQUEST_TIMEOUT: '0' }, cwd: dir })).message).toBe(
      'invalid request_timeout: must be at least 100ms',
    );
  });
});
