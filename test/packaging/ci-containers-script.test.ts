/**
 * scripts/ci-containers.sh is the container gate of .ci/run (it builds and runs the images with podman; see the
 * script). Here only what runs everywhere: it parses, and it skips cleanly, saying so, when told to.
 */
import { spawnSync } from 'node:child_process';
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
    expect(r.stderr).toMatch(/CI_CONTAINERS_ONLY must be all, cpu, gpu or compose \(got 'everything'\)/);
    expect(r.stdout).not.toMatch(/oci-setup|building/);
  });
});
