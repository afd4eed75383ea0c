/**
 * scripts/ci-containers.sh is the container gate of .ci/run (it builds and runs the images with podman; see the
 * script). Here only what runs everywhere: it parses, and it skips cleanly, saying so, when told to.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/ci-containers.sh');

describe('scripts/ci-containers.sh', () => {
  it('is valid bash with strict mode on', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(spawnSync('grep', ['-c', '^set -euo pipefail$', SCRIPT], { encoding: 'utf8' }).stdout.trim()).toBe('1');
  });

  it('skips with exit 0 and a clear message when SKIP_CONTAINERS=1', () => {
    const r = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, SKIP_CONTAINERS: '1' },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/SKIPPED: SKIP_CONTAINERS=1/);
  });

  it('rejects an unknown CI_CONTAINERS_ONLY before doing any work', () => {
    const r = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, CI_CONTAINERS_ONLY: 'everything' },
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CI_CONTAINERS_ONLY must be all, cpu, gpu, compose or arm64 \(got 'everything'\)/);
    expect(r.stdout).not.toMatch(/oci-setup|building/);
  });

  it('has an arm64 part that builds for linux/arm64 and runs probe and a job in it, emulated', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    const part = text.slice(text.indexOf('check_arm64_image() {'));
    expect(part).toMatch(/build_image cpu --platform linux\/arm64/);
    expect(part).toMatch(/WORKER_PROBE_TIMEOUT=60s "\$img" probe/);
    expect(part).toMatch(/run-demo\.mjs/);
    // Run by default (CI_CONTAINERS_ONLY=all), with the arm64 stand-ins made by oci-setup.sh.
    expect(text).toMatch(/setup_args\+=\(--arch arm64\)/);
    expect(text).toMatch(/all\)[\s\S]*?check_arm64_image[\s\S]*?;;/);
  });
});
